import pytest

from sources.models import SourceLink
from tests.factories import make_library, make_source

LIST = "/api/source-links/"


def detail(link: SourceLink) -> str:
    return f"/api/source-links/{link.pk}/"


@pytest.fixture
def article(library):
    return make_source(
        library=library,
        title="Stalin kept Mao waiting",
        kind="secondary",
        csl_type="article-magazine",
        creators=[{"family": "Radchenko", "given": "Sergey"}],
        issued="2009",
    )


@pytest.fixture
def link(article, source, alice):
    return SourceLink.objects.create(
        library=article.library, subject=article, relation="quotes", object=source, created_by=alice
    )


def payload(subject, obj, relation: str = "quotes", **extra) -> dict:
    return {"subject": subject.pk, "relation": relation, "object": obj.pk, **extra}


def test_editor_links_an_article_to_the_record_it_quotes(as_user, article, source, bob):
    response = as_user(bob).post(LIST, payload(article, source, note="p. 12"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["library"] == source.library.slug
    assert (data["subject_title"], data["object_title"]) == (article.title, source.title)
    assert data["inverse_label"] == "is quoted by"
    assert data["created_by"] == "bob"
    assert SourceLink.objects.get(pk=data["id"]).note == "p. 12"


def test_viewer_cannot_link_sources(as_user, article, source, vera):
    response = as_user(vera).post(LIST, payload(article, source), format="json")
    assert response.status_code == 403
    assert "subject" in response.json()
    assert not SourceLink.objects.exists()


def test_outsider_cannot_name_sources_they_cannot_see(as_user, article, source, mallory):
    response = as_user(mallory).post(LIST, payload(article, source), format="json")
    assert response.status_code == 400
    assert {"subject", "object"} <= response.json().keys()
    assert not SourceLink.objects.exists()


def test_anonymous_cannot_link_sources(as_user, article, source):
    response = as_user(None).post(LIST, payload(article, source), format="json")
    assert response.status_code in (401, 403)


def test_sources_of_two_libraries_cannot_be_linked(as_user, article, alice):
    elsewhere = make_source(library=make_library(owner=alice, name="Elsewhere"))
    response = as_user(alice).post(LIST, payload(article, elsewhere), format="json")
    assert response.status_code == 400
    assert "object" in response.json()


def test_source_cannot_link_to_itself(as_user, source, alice):
    response = as_user(alice).post(LIST, payload(source, source), format="json")
    assert response.status_code == 400
    assert "object" in response.json()


def test_duplicate_link_is_refused_naming_the_object(as_user, link, alice):
    response = as_user(alice).post(LIST, payload(link.subject, link.object), format="json")
    assert response.status_code == 400
    assert "object" in response.json()
    assert SourceLink.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"relation": "plagiarises"}, "relation"),
        ({"object": None}, "object"),
        ({"note": "n" * 1001}, "note"),
    ],
)
def test_invalid_link_is_a_400_naming_the_field(as_user, article, source, bob, changes, field):
    response = as_user(bob).post(LIST, {**payload(article, source), **changes}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_links_are_listed_and_filtered(as_user, link, article, source, vera, library):
    translation = make_source(library=library, title="English translation")
    SourceLink.objects.create(
        library=library, subject=translation, relation="translates", object=source
    )
    client = as_user(vera)
    assert client.get(LIST).json()["count"] == 2
    assert (
        client.get(LIST, {"relation": "translates"}).json()["results"][0]["subject"]
        == translation.pk
    )
    assert client.get(LIST, {"source": article.pk}).json()["count"] == 1
    assert client.get(LIST, {"source": source.pk}).json()["count"] == 2
    assert client.get(LIST, {"library": library.slug}).json()["count"] == 2
    assert client.get(LIST, {"library": "nowhere"}).json()["count"] == 0
    assert client.get(LIST, {"limit": 1}).json()["next"] is not None


@pytest.mark.parametrize(
    ("params", "field"), [({"relation": "x"}, "relation"), ({"source": "x"}, "source")]
)
def test_invalid_link_filter_is_a_400_naming_it(as_user, link, vera, params, field):
    response = as_user(vera).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def test_outsider_sees_no_links(as_user, link, mallory):
    assert as_user(mallory).get(LIST).json()["count"] == 0
    assert as_user(mallory).get(detail(link)).status_code == 404


def test_editor_changes_and_deletes_a_link(as_user, link, bob):
    client = as_user(bob)
    response = client.patch(detail(link), {"relation": "cites", "note": "n. 4"}, format="json")
    assert response.status_code == 200
    link.refresh_from_db()
    assert (link.relation, link.note) == ("cites", "n. 4")
    assert client.delete(detail(link)).status_code == 204
    assert not SourceLink.objects.exists()


def test_link_cannot_be_turned_onto_itself(as_user, link, bob):
    response = as_user(bob).patch(detail(link), {"subject": link.object_id}, format="json")
    assert response.status_code == 400
    assert "object" in response.json()


@pytest.mark.parametrize(("persona", "expected"), [("vera", 403), ("mallory", 404)])
def test_viewer_and_outsider_cannot_change_or_delete_a_link(
    as_user, link, persona, expected, request
):
    client = as_user(request.getfixturevalue(persona))
    assert client.patch(detail(link), {"note": "defaced"}, format="json").status_code == expected
    assert client.delete(detail(link)).status_code == expected
    link.refresh_from_db()
    assert link.note == ""


def test_wrong_methods_on_links_are_405(as_user, link, alice):
    assert as_user(alice).post(detail(link), {}, format="json").status_code == 405
    assert as_user(alice).delete(LIST).status_code == 405


def test_hostile_link_ids_are_400_or_404(as_user, link, alice, source):
    client = as_user(alice)
    assert client.get(LIST, {"source": "99999999999999999999"}).status_code == 400
    assert client.get("/api/source-links/99999999999999999999/").status_code == 404
    response = client.post(LIST, {**payload(link.subject, source), "object": 2**70}, format="json")
    assert response.status_code == 400
    assert "object" in response.json()
