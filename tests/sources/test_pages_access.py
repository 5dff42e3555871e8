"""Every source-library page × every persona, and the wrong HTTP method."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from sources.models import ImportRun, SourceLink
from tests.factories import make_source


@pytest.fixture
def other(library):
    return make_source(library=library, title="Telegram from Zhou Enlai", issued="1960-07?")


@pytest.fixture
def link(source, other, alice):
    return SourceLink.objects.create(
        library=source.library, subject=other, relation="quotes", object=source, created_by=alice
    )


@pytest.fixture
def run(library, alice, source):
    return ImportRun.objects.create(
        library=library,
        user=alice,
        file_name="zotero.json",
        format="csl-json",
        outcomes=[{"index": 0, "status": "created", "title": source.title, "source": source.pk}],
    )


@pytest.fixture
def urls(library, source, link, run):
    return {
        "library-detail": reverse("library-detail", args=[library.slug]),
        "source-detail": reverse("source-detail", args=[source.pk]),
        "source-compare": reverse("source-compare", args=[source.pk]),
        "import-detail": reverse("import-detail", args=[run.pk]),
        "source-create": reverse("source-create", args=[library.slug]),
        "source-edit": reverse("source-edit", args=[source.pk]),
        "source-delete": reverse("source-delete", args=[source.pk]),
        "text-create": reverse("text-create", args=[source.pk]),
        "import-create": reverse("import-create", args=[library.slug]),
        "link-create": reverse("link-create", args=[source.pk]),
        "link-delete": reverse("link-delete", args=[link.pk]),
        "library-create": reverse("library-create"),
    }


READ_PAGES = ["library-detail", "source-detail", "source-compare", "import-detail"]
WRITE_FORMS = ["source-create", "source-edit", "source-delete", "text-create", "import-create"]
POST_ONLY = ["link-create", "link-delete", "library-create"]


@pytest.mark.parametrize("name", READ_PAGES)
@pytest.mark.parametrize("persona", ["alice", "bob", "vera"])
def test_members_can_read_every_page(name, persona, urls, as_user, request):
    response = as_user(request.getfixturevalue(persona)).get(urls[name])
    assert response.status_code == 200


@pytest.mark.parametrize("name", READ_PAGES + WRITE_FORMS)
def test_outsider_gets_the_friendly_404(name, urls, as_user, mallory):
    response = as_user(mallory).get(urls[name])
    assert response.status_code == 404
    content = response.content.decode()
    assert "This page is not here" in content
    assert "No such" not in content  # the exception's text is not shown
    assert "Record of conversation" not in content


@pytest.mark.parametrize("name", READ_PAGES + WRITE_FORMS)
def test_anonymous_visitor_is_asked_to_sign_in(name, urls, as_user):
    response = as_user(None).get(urls[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", WRITE_FORMS)
@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_owner_and_editor_can_open_every_form(name, persona, urls, as_user, request):
    response = as_user(request.getfixturevalue(persona)).get(urls[name])
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", name) for name in WRITE_FORMS]
    + [("post", name) for name in WRITE_FORMS + ["link-create", "link-delete"]],
)
def test_viewer_gets_the_friendly_403_on_writes(method, name, urls, as_user, vera):
    response = getattr(as_user(vera), method)(urls[name])
    assert response.status_code == 403
    assert "You cannot do this here" in response.content.decode()


def test_viewer_post_leaves_everything_in_place(urls, as_user, vera, source, link):
    as_user(vera).post(urls["source-delete"])
    as_user(vera).post(urls["link-delete"])
    source.refresh_from_db()
    assert SourceLink.objects.filter(pk=link.pk).exists()


@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_urls_refuse_get(name, urls, as_user, alice):
    assert as_user(alice).get(urls[name]).status_code == 405


@pytest.mark.parametrize("name", READ_PAGES)
def test_read_pages_refuse_post(name, urls, as_user, alice):
    assert as_user(alice).post(urls[name]).status_code == 405


@pytest.mark.parametrize("name", WRITE_FORMS)
def test_forms_refuse_put_and_delete(name, urls, as_user, alice):
    client = as_user(alice)
    assert client.put(urls[name]).status_code == 405
    assert client.delete(urls[name]).status_code == 405


def test_home_refuses_post(as_user, alice):
    assert as_user(alice).post(reverse("home")).status_code == 405


def test_public_library_is_readable_without_signing_in(as_user, library, source):
    library.is_public = True
    library.save()
    client = as_user(None)
    assert client.get(reverse("library-detail", args=[library.slug])).status_code == 200
    assert client.get(reverse("source-detail", args=[source.pk])).status_code == 200
    # …but writing still needs an account
    response = client.get(reverse("source-edit", args=[source.pk]))
    assert response.status_code == 302


def test_public_library_hides_its_members_from_visitors(as_user, library, mallory):
    library.is_public = True
    library.save()
    content = as_user(mallory).get(reverse("library-detail", args=[library.slug])).content
    assert b"vera" not in content


def test_unknown_address_shows_the_friendly_404(as_user, alice):
    response = as_user(alice).get("/no/such/page/")
    assert response.status_code == 404
    assert "Go to your libraries" in response.content.decode()


@pytest.mark.parametrize("name", READ_PAGES + WRITE_FORMS)
def test_pages_have_no_inline_script(name, urls, as_user, alice):
    """A content security policy comes later: every script must be a file."""
    content = as_user(alice).get(urls[name]).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", content):
        assert "src=" in tag or 'type="application/json"' in tag  # json_script data is inert
    # No event-handler attribute (onclick=…) in any tag; attribute values may say "on".
    tags = re.sub(r'"[^"]*"|\'[^\']*\'', '""', "".join(re.findall(r"<[a-z][^>]*>", content)))
    assert not re.search(r"\son[a-z]*\s*=", tags, re.IGNORECASE)


@pytest.mark.parametrize("name", WRITE_FORMS + POST_ONLY)
def test_every_form_post_needs_the_csrf_token(name, urls, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(urls[name])
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
