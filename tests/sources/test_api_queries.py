"""List endpoints answer in a fixed number of queries, however many rows they show."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sources.models import SourceLink
from tests.factories import add_member, make_library, make_source, make_text, make_user


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_sources(library, n: int) -> None:
    for i in range(n):
        source = make_source(
            library=library,
            title=f"Telegram {i}",
            creators=[{"family": "Zhou"}, {"family": "Mao", "role": "recipient"}],
        )
        make_text(source=source)
        if i:
            SourceLink.objects.create(
                library=library, subject=source, relation="cites", object=library.sources.first()
            )


def test_list_queries_do_not_grow_with_the_rows(as_user, library, alice):
    client = as_user(alice)
    add_sources(library, 2)
    for n in range(2):
        add_member(
            library=make_library(owner=alice, name=f"L{n}"), user=make_user(username=f"u{n}")
        )
    urls = ["/api/sources/", "/api/libraries/", "/api/source-links/"]
    few = [queries_for(client, url) for url in urls]
    add_sources(library, 20)
    for n in range(2, 12):
        add_member(
            library=make_library(owner=alice, name=f"L{n}"), user=make_user(username=f"u{n}")
        )
    assert [queries_for(client, url) for url in urls] == few
