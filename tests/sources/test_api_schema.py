from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

SOURCES_PATHS = {
    "/api/libraries/": {"get", "post"},
    "/api/libraries/{slug}/": {"get", "put", "patch"},
    "/api/sources/": {"get", "post"},
    "/api/sources/{id}/": {"get", "put", "patch", "delete"},
    "/api/sources/{id}/csl/": {"get"},
    "/api/sources/{source_pk}/texts/": {"get", "post"},
    "/api/sources/{source_pk}/texts/{revision}/": {"get"},
    "/api/source-links/": {"get", "post"},
    "/api/source-links/{id}/": {"get", "put", "patch", "delete"},
    "/api/imports/": {"get", "post"},
    "/api/imports/{id}/": {"get"},
}


def sources_schema() -> dict:
    """The OpenAPI schema of this package's endpoints alone, as `spectacular` builds it."""
    patterns = [path("", include("sources.urls"))]
    return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)


def test_schema_has_every_sources_endpoint_and_method(db):
    paths = sources_schema()["paths"]
    assert {url: set(paths[url]) for url in SOURCES_PATHS} == SOURCES_PATHS


def test_schema_is_valid_openapi_and_generated_without_warnings(db):
    GENERATOR_STATS.reset()
    schema = sources_schema()
    assert not GENERATOR_STATS, "drf-spectacular warned while building the sources schema"
    validate_schema(schema)


def test_uploads_are_documented_as_multipart_with_413(db):
    paths = sources_schema()["paths"]
    for url in ("/api/sources/{source_pk}/texts/", "/api/imports/"):
        post = paths[url]["post"]
        assert list(post["requestBody"]["content"]) == ["multipart/form-data"]
        assert "413" in post["responses"]


def test_uploads_document_the_202_of_a_background_job(db):
    schema = sources_schema()
    for url in ("/api/sources/{source_pk}/texts/", "/api/imports/"):
        accepted = schema["paths"][url]["post"]["responses"]["202"]
        ref = accepted["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/JobAccepted"
        assert "background job" in accepted["description"]
    fields = schema["components"]["schemas"]["JobAccepted"]["properties"]
    assert {"id", "state", "result", "url", "status_url"} <= set(fields)


def test_the_documented_202_fields_are_those_the_api_sends(as_user, library, alice, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.JOB_THRESHOLD_RECORDS = 0
    upload = SimpleUploadedFile("one.json", b'[{"type": "book", "title": "A"}]')
    response = as_user(alice).post(
        "/api/imports/", {"library": library.slug, "file": upload}, format="multipart"
    )
    assert response.status_code == 202
    documented = sources_schema()["components"]["schemas"]["JobAccepted"]["properties"]
    assert set(documented) <= set(response.json())


def test_text_revisions_document_their_id(db):
    schemas = sources_schema()["components"]["schemas"]
    for name in ("SourceText", "SourceTextDetail"):
        assert schemas[name]["properties"]["id"] == {"type": "integer", "readOnly": True}, name


def test_list_filters_are_documented(db):
    parameters = sources_schema()["paths"]["/api/sources/"]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    assert {"library", "kind", "type", "creator", "issued_from", "issued_to", "q"} <= names
    assert {"ordering", "limit", "offset"} <= names


def test_schema_endpoint_serves_the_sources_paths(as_user, db):
    response = as_user(None).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/sources/{id}/csl/" in response.json()["paths"]


def test_docs_page_renders(as_user, db):
    response = as_user(None).get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_api_root_lists_the_collections(as_user, db):
    response = as_user(None).get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert set(response.json()) >= {"libraries", "sources", "source-links", "imports"}


def test_versioned_writes_document_a_required_if_match_header(db):
    """Sources, claims, evidence and events: every change and deletion names If-Match."""
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for url in ("/api/sources/{id}/", "/api/claims/{id}/", "/api/evidence/{id}/",
                "/api/events/{id}/"):  # fmt: skip
        for method in ("put", "patch", "delete"):
            headers = [p for p in paths[url][method]["parameters"] if p["in"] == "header"]
            assert [(p["name"], p["required"]) for p in headers] == [("If-Match", True)], (
                url, method,
            )  # fmt: skip
    assert not [p for p in paths["/api/sources/{id}/"]["get"]["parameters"] if p["in"] == "header"]
