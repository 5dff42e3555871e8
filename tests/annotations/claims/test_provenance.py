"""Provenance: the chain behind a claim, and its W3C PROV-O JSON-LD, read back with rdflib
and questioned with SPARQL."""

from __future__ import annotations

import json
import warnings

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from annotations.claims.provenance import chain, claim_document, library_document
from annotations.models import Annotation, Visibility
from jobs.models import Job, JobState
from sources.models import SourceLink, SourceText
from tests.factories import (
    make_annotation,
    make_claim,
    make_creator,
    make_evidence,
    make_source,
    make_text,
)

PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
MG = Namespace("http://testserver/ns/marginalia#")
PREFIXES = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX mg: <http://testserver/ns/marginalia#>
"""
RECORD_TEXT = "Я намерен отдохнуть еще одну неделю в полном покое."
ARTICLE_TEXT = "After their first meeting, Stalin refused to see Mao for days."


@pytest.fixture
def world(library, alice, bob):
    """A primary record (archive, translator) quoted by a secondary article; a claim the
    article supports and the record contradicts."""
    record = make_source(
        library=library,
        title="Record of conversation",
        kind="primary",
        language="ru",
        original_language="ru",
        archive="AVPRF",
        archive_location="f. 07, op. 23a, d. 18, l. 1",
    )
    make_creator(source=record, role="translator", family="Westad", given="Odd Arne")
    article = make_source(
        library=library,
        title="Face and Something Delicious",
        kind="secondary",
        csl_type="article-magazine",
        creators=[{"family": "Radchenko", "given": "Sergey"}],
    )
    SourceLink.objects.create(library=library, subject=article, relation="quotes", object=record)
    record_text = make_text(
        source=record,
        text=RECORD_TEXT,
        imported_by=alice,
        file_name="110404.html",
        media_type="text/html",
    )
    article_text = make_text(source=article, text=ARTICLE_TEXT, imported_by=bob)
    claim = make_claim(library=library, creator=bob, statement="Stalin kept Mao waiting")
    supports = make_annotation(text=article_text, creator=bob, quote="Stalin refused to see Mao")
    contradicts = make_annotation(
        text=record_text, creator=alice, quote="отдохнуть еще одну неделю"
    )
    make_evidence(claim=claim, annotation=supports, creator=bob, note="Radchenko's reading")
    make_evidence(claim=claim, annotation=contradicts, creator=alice, stance="contradicts")
    return {
        "claim": claim,
        "record": record,
        "article": article,
        "record_text": record_text,
        "article_text": article_text,
        "supports": supports,
        "contradicts": contradicts,
    }


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def graph_of(document: dict) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7's JSON-LD parser still calls its own deprecated ConjunctiveGraph API.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
        return Graph().parse(data=json.dumps(document), format="json-ld")


def iri(name: str, *args, **kwargs) -> URIRef:
    return URIRef("http://testserver" + reverse(name, args=args or None, kwargs=kwargs or None))


def text_iri(text: SourceText) -> URIRef:
    return iri("api-source-text-detail", source_pk=text.source_id, revision=text.revision)


# --- the chain on the page --------------------------------------------------------------------


def test_chain_follows_each_quote_to_its_revision_source_and_origins(world, vera):
    steps = chain(world["claim"], vera)
    assert [s.evidence.stance for s in steps] == ["supports", "contradicts"]
    article_step = steps[0]
    assert article_step.text == world["article_text"] and article_step.verifies
    assert [hop.source for hop in article_step.sources] == [world["article"], world["record"]]
    assert article_step.sources[0].links[0].relation == "quotes"
    assert [p.natural_name for p in steps[1].sources[0].translators] == ["Odd Arne Westad"]


def test_chain_flags_a_revision_that_no_longer_hashes(world, vera):
    SourceText.objects.filter(pk=world["record_text"].pk).update(text="tampered")
    steps = chain(world["claim"], vera)
    assert [s.verifies for s in steps] == [True, False]


def test_chain_survives_a_cycle_of_links(world, vera, library):
    SourceLink.objects.create(
        library=library, subject=world["record"], relation="derived-from", object=world["article"]
    )
    hops = chain(world["claim"], vera)[0].sources
    assert [h.source for h in hops] == [world["article"], world["record"]]


def test_chain_hides_evidence_made_private_since(world, vera, alice):
    Annotation.objects.filter(pk=world["contradicts"].pk).update(visibility=Visibility.PRIVATE)
    assert len(chain(world["claim"], vera)) == 1
    assert len(chain(world["claim"], alice)) == 2


# --- PROV-O JSON-LD ---------------------------------------------------------------------------


def test_claim_graph_has_entities_activities_and_agents(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    claim = iri("api-claim-detail", world["claim"].pk)
    assert (claim, RDF.type, PROV.Entity) in graph
    assert (claim, PROV.value, Literal("Stalin kept Mao waiting")) in graph
    making = graph.value(claim, PROV.wasGeneratedBy)
    assert (making, RDF.type, PROV.Activity) in graph
    agent = graph.value(claim, PROV.wasAttributedTo)
    assert agent == URIRef("acct:bob@testserver")
    assert (agent, RDF.type, PROV.Agent) in graph
    assert (making, PROV.wasAssociatedWith, agent) in graph


def test_claim_derives_only_from_supporting_quotes(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    claim = iri("api-claim-detail", world["claim"].pk)
    supports = iri("api-annotation-detail", world["supports"].pk)
    contradicts = iri("api-annotation-detail", world["contradicts"].pk)
    assert set(graph.objects(claim, PROV.wasDerivedFrom)) == {supports}
    assert set(graph.objects(claim, PROV.wasInfluencedBy)) == {supports, contradicts}
    roles = graph.query(
        PREFIXES
        + """
        SELECT ?quote ?role WHERE { ?claim prov:qualifiedInfluence ?i .
          ?i prov:influencer ?quote ; prov:hadRole ?role . }"""
    )
    assert {(row.quote, row.role) for row in roles} == {
        (supports, MG.supports),
        (contradicts, MG.contradicts),
    }


def test_quote_is_quoted_from_a_checksummed_revision_with_offsets(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    quote = iri("api-annotation-detail", world["supports"].pk)
    revision = text_iri(world["article_text"])
    assert (quote, PROV.wasQuotedFrom, revision) in graph
    assert (revision, PROV.specializationOf, iri("api-source-detail", world["article"].pk)) in graph
    rows = list(
        graph.query(
            PREFIXES
            + """
        SELECT ?start ?end ?sha ?ok WHERE {
          ?quote oa:hasSelector ?s . ?s a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
          ?quote prov:wasQuotedFrom ?rev . ?rev spdx:checksum ?c . ?c spdx:checksumValue ?sha .
          ?rev mg:checksumVerified ?ok . }""",
            initBindings={"quote": quote},
        )
    )
    assert len(rows) == 1
    start = ARTICLE_TEXT.index("Stalin refused")
    assert (rows[0].start.toPython(), rows[0].end.toPython()) == (start, start + 25)
    assert str(rows[0].sha) == world["article_text"].sha256 and rows[0].ok.toPython() is True


def test_revision_import_is_an_activity_by_the_importer(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    revision = text_iri(world["record_text"])
    activity = graph.value(revision, PROV.wasGeneratedBy)
    assert (activity, RDF.type, PROV.Activity) in graph
    assert graph.value(activity, PROV.wasAssociatedWith) == URIRef("acct:alice@testserver")
    file = graph.value(activity, PROV.used)
    assert str(graph.value(file, URIRef("http://purl.org/dc/terms/title"))) == "110404.html"


def test_secondary_source_has_the_record_as_primary_source(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    article = iri("api-source-detail", world["article"].pk)
    record = iri("api-source-detail", world["record"].pk)
    assert (article, PROV.wasQuotedFrom, record) in graph
    assert (article, PROV.hadPrimarySource, record) in graph
    assert (record, PROV.hadPrimarySource, None) not in graph
    ask = graph.query(
        PREFIXES
        + """ASK {
        ?claim prov:wasDerivedFrom ?quote . ?quote prov:wasQuotedFrom ?rev .
        ?rev prov:specializationOf ?source . ?source prov:hadPrimarySource ?primary .
        ?primary prov:atLocation ?archive . ?archive mg:archiveLocation ?where . }"""
    )
    assert ask.askAnswer is True


def test_authors_and_translators_are_agents(world, vera):
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    article = iri("api-source-detail", world["article"].pk)
    author = graph.value(article, PROV.wasAttributedTo)
    assert (author, RDF.type, PROV.Person) in graph
    assert str(graph.value(author, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))) == (
        "Sergey Radchenko"
    )
    rows = graph.query(
        PREFIXES
        + """SELECT ?name WHERE { ?src prov:qualifiedAttribution ?a .
        ?a prov:hadRole mg:translator ; prov:agent ?t . ?t rdfs:label ?name }""",
        initNs={"rdfs": URIRef("http://www.w3.org/2000/01/rdf-schema#")},
    )
    assert [str(r.name) for r in rows] == ["Odd Arne Westad"]


def test_tampered_revision_is_marked_unverified(world, vera):
    SourceText.objects.filter(pk=world["record_text"].pk).update(text="tampered")
    graph = graph_of(claim_document(world["claim"], request_for(vera)))
    assert graph.value(text_iri(world["record_text"]), MG.checksumVerified).toPython() is False


def test_library_graph_has_every_source_revision_and_claim(world, vera, library):
    lonely = make_source(library=library, title="Unquoted memoir", kind="secondary")
    make_text(source=lonely, text="first")
    make_text(source=lonely, text="second, corrected")
    graph = graph_of(library_document(library, request_for(vera)))
    sources = set(graph.subjects(RDF.type, MG["secondary-source"]))
    assert iri("api-source-detail", lonely.pk) in sources
    second = iri("api-source-text-detail", source_pk=lonely.pk, revision=2)
    first = iri("api-source-text-detail", source_pk=lonely.pk, revision=1)
    assert (second, PROV.wasRevisionOf, first) in graph
    assert (second, MG.checksumVerified, None) not in graph  # unquoted: not hashed per request
    assert (iri("api-claim-detail", world["claim"].pk), RDF.type, PROV.Entity) in graph


# --- the endpoints ----------------------------------------------------------------------------


def test_claim_provenance_download(as_user, vera, world):
    response = as_user(vera).get(
        reverse("claim-provenance", args=[world["claim"].pk]), {"download": "1"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert "attachment" in response["Content-Disposition"]
    assert len(graph_of(response.json())) > 20


def test_provenance_endpoints_are_scoped(as_user, mallory, vera, world, library):
    assert (
        as_user(mallory).get(reverse("claim-provenance", args=[world["claim"].pk])).status_code
        == 404
    )
    assert (
        as_user(mallory).get(reverse("library-provenance", args=[library.slug])).status_code == 404
    )
    api = as_user(mallory).get("/api/provenance/", {"library": library.slug})
    assert api.status_code == 400 and "library" in api.json()
    ok = as_user(vera).get("/api/provenance/", {"library": library.slug})
    assert ok.status_code == 200 and len(graph_of(ok.json())) > 20
    assert as_user(vera).post(reverse("library-provenance", args=[library.slug])).status_code == 405


def test_api_claim_provenance_negotiates_json_ld(as_user, vera, world):
    url = reverse("api-claim-provenance", args=[world["claim"].pk])
    response = as_user(vera).get(url, HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/ld+json"
    )
    assert "@graph" in response.json()


# --- A large library's document is written by a job ------------------------------------


def test_a_large_librarys_provenance_is_written_by_a_job_as_in_the_request(
    as_user, vera, world, library, settings
):
    url = reverse("library-provenance", args=[library.slug])
    in_request = json.loads(as_user(vera).get(url).content)
    settings.PROVENANCE_JOB_THRESHOLD = 1
    response = as_user(vera).get(url)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.state == JobState.SUCCEEDED, job.error
    download = as_user(vera).get(reverse("job-download", args=[job.pk]))
    assert download["Content-Type"].startswith("application/ld+json")
    assert json.loads(download.content) == in_request


def test_the_api_answers_202_for_a_large_library_and_asks_anonymous_readers_to_sign_in(
    as_user, vera, world, library, settings
):
    settings.PROVENANCE_JOB_THRESHOLD = 1
    response = as_user(vera).get("/api/provenance/", {"library": library.slug})
    assert response.status_code == 202
    assert response.json()["kind"] == "provenance" and response.json()["state"] == "succeeded"
    library.is_public = True
    library.save()
    refused = as_user(None).get("/api/provenance/", {"library": library.slug})
    assert refused.status_code == 400 and "Sign in" in str(refused.json())
    page = as_user(None).get(reverse("library-provenance", args=[library.slug]))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert Job.objects.count() == 1
