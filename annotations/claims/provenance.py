"""Where a claim comes from: the chain shown on the claim page, and W3C PROV-O as JSON-LD.

The chain is claim → evidence → quote (offsets in code points) → text revision (SHA-256,
who imported which file, when) → source (archive, archive location, translator,
original language) → the sources it quotes or derives from. A revision whose stored text
no longer hashes to its recorded SHA-256 is flagged: the quote can no longer be trusted
to be what was imported.

The JSON-LD uses PROV-O (https://www.w3.org/TR/prov-o/): claims, quotes, revisions and
sources are prov:Entity; making a claim and importing a file are prov:Activity; users,
authors and translators are prov:Agent. Identifiers are the API's own URLs (the same ones
the W3C annotation JSON-LD uses), so the graphs join up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.db.models import Prefetch
from django.http import HttpRequest
from django.urls import reverse

from annotations.claims.models import Claim, ClaimEvent, Evidence, Stance
from annotations.models import Annotation
from sources.models import (
    Creator,
    CreatorRole,
    LinkRelation,
    Source,
    SourceKind,
    SourceLink,
    SourceText,
)

MAX_LINK_DEPTH = 6
MEDIA_TYPE = "application/ld+json"
EDTF_DATATYPE = "http://id.loc.gov/datatypes/edtf/EDTF"
# Links along which a source's content comes from another source.
CONTENT_RELATIONS = (
    LinkRelation.QUOTES,
    LinkRelation.DERIVED_FROM,
    LinkRelation.TRANSLATES,
    LinkRelation.REPRINTS,
)
PROV_PROPERTY = {
    LinkRelation.QUOTES: "prov:wasQuotedFrom",
    LinkRelation.DERIVED_FROM: "prov:wasDerivedFrom",
    LinkRelation.TRANSLATES: "prov:wasDerivedFrom",
    LinkRelation.REPRINTS: "prov:wasDerivedFrom",
    LinkRelation.CITES: "dcterms:references",
    LinkRelation.RESPONDS_TO: "prov:wasInfluencedBy",
}


# --- the chain on the claim page ---------------------------------------------------------


@dataclass
class SourceStep:
    """A source in the chain, with the links that lead further back."""

    source: Source
    depth: int
    links: list[SourceLink] = field(default_factory=list)

    @property
    def translators(self) -> list[Creator]:
        return self.source.creators_in_role(CreatorRole.TRANSLATOR)

    @property
    def authors(self) -> list[Creator]:
        return self.source.creators_in_role(CreatorRole.AUTHOR)

    @property
    def is_primary(self) -> bool:
        return self.source.kind == SourceKind.PRIMARY


@dataclass
class QuoteStep:
    """One piece of evidence, followed down to the bytes it quotes."""

    evidence: Evidence
    text: SourceText
    verifies: bool
    is_current: bool
    sources: list[SourceStep]

    @property
    def annotation(self) -> Annotation:
        return self.evidence.annotation

    @property
    def page(self) -> str | None:
        return self.text.page_at(self.annotation.start)


def chain(claim: Claim, user: Any) -> list[QuoteStep]:
    """The provenance chain of every piece of evidence `user` may see, supports first."""
    evidence = list(
        Evidence.objects.visible_to(user)
        .filter(claim=claim)
        .select_related("annotation__text__source", "annotation__text__imported_by", "creator")
        .prefetch_related("annotation__text__source__creators")
    )
    order = {Stance.SUPPORTS: 0, Stance.CONTRADICTS: 1, Stance.MENTIONS: 2}
    evidence.sort(key=lambda item: (order.get(item.stance, 3), item.pk))
    walker = SourceWalker()
    current = current_revisions({item.annotation.text.source_id for item in evidence})
    checks: dict[int, bool] = {}
    steps = []
    for item in evidence:
        text = item.annotation.text
        if text.pk not in checks:
            checks[text.pk] = text.verify()
        steps.append(
            QuoteStep(
                item,
                text,
                checks[text.pk],
                current.get(text.source_id) == text.pk,
                walker.walk(text.source),
            )
        )
    return steps


def current_revisions(source_ids: Iterable[int]) -> dict[int, int]:
    """source id → pk of its newest revision."""
    rows = SourceText.objects.filter(source_id__in=list(source_ids)).order_by("revision")
    return dict(rows.values_list("source_id", "pk"))


class SourceWalker:
    """Follows a source's links to the sources it quotes or derives from, breadth first,
    without looping on a cycle of links; remembers links already loaded."""

    def __init__(self) -> None:
        self.links: dict[int, list[SourceLink]] = {}

    def outgoing(self, source_ids: list[int]) -> None:
        wanted = [pk for pk in source_ids if pk not in self.links]
        if not wanted:
            return
        found = SourceLink.objects.filter(subject_id__in=wanted).select_related("object")
        found = found.prefetch_related("object__creators").order_by("relation", "pk")
        for pk in wanted:
            self.links[pk] = []
        for link in found:
            self.links[link.subject_id].append(link)

    def walk(self, source: Source) -> list[SourceStep]:
        steps, seen, level = [], {source.pk}, [source]
        for depth in range(MAX_LINK_DEPTH):
            self.outgoing([s.pk for s in level])
            following = []
            for item in level:
                steps.append(SourceStep(item, depth, self.links[item.pk]))
                for link in self.links[item.pk]:
                    if link.relation in CONTENT_RELATIONS and link.object_id not in seen:
                        seen.add(link.object_id)
                        following.append(link.object)
            level = following
            if not level:
                break
        return steps


# --- PROV-O JSON-LD ---------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """What a document is made for, outside a request: the site's address its IRIs start
    with (recorded from the request that asked for it) and the user whose view it shows.
    It answers the few questions `Graph` asks of a request."""

    base: str  # "https://marginalia.example.org/"
    user: Any

    def build_absolute_uri(self, location: str) -> str:
        if location.startswith("/"):  # as a request does: urljoin would drop an empty "#"
            return self.base.rstrip("/") + location
        return urljoin(self.base, location)

    def get_host(self) -> str:
        return urlsplit(self.base).netloc


def size_of_library(library) -> int:
    """What a library's provenance document describes: its sources and claims."""
    return library.sources.count() + Claim.objects.filter(library=library).count()


def context(request: HttpRequest) -> dict[str, str]:
    return {
        "prov": "http://www.w3.org/ns/prov#",
        "dcterms": "http://purl.org/dc/terms/",
        "oa": "http://www.w3.org/ns/oa#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "spdx": "http://spdx.org/rdf/terms#",
        # Marginalia's few own terms (status, rank, stance, primary/secondary).
        "mg": request.build_absolute_uri("/ns/marginalia#"),
    }


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _time(moment) -> dict[str, str]:
    return {"@value": moment.isoformat(timespec="seconds"), "@type": "xsd:dateTime"}


class Graph:
    """Collects PROV nodes by @id; a node met twice is described once."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.nodes: dict[str, dict[str, Any]] = {}
        self.walker = SourceWalker()
        self.verified: dict[int, bool] = {}

    def iri(self, name: str, *args: Any) -> str:
        return self.request.build_absolute_uri(reverse(name, args=args))

    def add(self, node: dict[str, Any]) -> str:
        self.nodes.setdefault(node["@id"], node)
        return node["@id"]

    def document(self) -> dict[str, Any]:
        return {"@context": context(self.request), "@graph": list(self.nodes.values())}

    # agents

    def user(self, user: Any) -> str | None:
        if user is None:
            return None
        # acct: URIs (RFC 7565), as in the W3C annotation JSON-LD.
        iri = f"acct:{user.get_username()}@{self.request.get_host()}"
        return self.add(
            {"@id": iri, "@type": ["prov:Agent", "prov:Person"], "rdfs:label": user.get_username()}
        )

    def creator(self, source_iri: str, person: Creator) -> str:
        kind = "prov:Organization" if person.literal and not person.given else "prov:Person"
        iri = f"{source_iri}#creator-{person.pk}"
        return self.add(
            {"@id": iri, "@type": ["prov:Agent", kind], "rdfs:label": person.natural_name}
        )

    # entities

    def claim(self, claim: Claim, evidence: list[Evidence], links: list[ClaimEvent]) -> str:
        iri = self.iri("api-claim-detail", claim.pk)
        quotes = [(item, self.quote(item.annotation)) for item in evidence]
        node: dict[str, Any] = {
            "@id": iri,
            "@type": ["prov:Entity", "mg:Claim"],
            "prov:value": claim.statement,
            "rdfs:label": claim.statement,
            "mg:status": {"@id": f"mg:{claim.status}"},
            "mg:rank": {"@id": f"mg:{claim.rank}"},
            "prov:generatedAtTime": _time(claim.created),
            "prov:wasGeneratedBy": _ref(self.making(claim, iri, [q for _, q in quotes])),
            "prov:wasInfluencedBy": [_ref(q) for _, q in quotes],
            "prov:wasDerivedFrom": [
                _ref(q) for item, q in quotes if item.stance == Stance.SUPPORTS
            ],
            "prov:qualifiedInfluence": [self.influence(item, q) for item, q in quotes],
            "dcterms:subject": [
                _ref(self.iri("api-event-detail", link.event_id)) for link in links
            ],
        }
        if claim.rank_reason:
            node["mg:rankReason"] = claim.rank_reason
        if agent := self.user(claim.creator):
            node["prov:wasAttributedTo"] = _ref(agent)
        return self.add(node)

    def making(self, claim: Claim, claim_iri: str, quotes: list[str]) -> str:
        node: dict[str, Any] = {
            "@id": f"{claim_iri}#making",
            "@type": "prov:Activity",
            "rdfs:label": "Making the claim from its evidence",
            "prov:endedAtTime": _time(claim.created),
            "prov:used": [_ref(q) for q in quotes],
        }
        if agent := self.user(claim.creator):
            node["prov:wasAssociatedWith"] = _ref(agent)
        return self.add(node)

    def influence(self, evidence: Evidence, quote_iri: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "@type": "prov:Influence",
            "prov:influencer": _ref(quote_iri),
            "prov:hadRole": {"@id": f"mg:{evidence.stance}"},
        }
        if evidence.note:
            node["rdfs:comment"] = evidence.note
        return node

    def quote(self, annotation: Annotation) -> str:
        iri = self.iri("api-annotation-detail", annotation.pk)
        if iri in self.nodes:
            return iri
        node: dict[str, Any] = {
            "@id": iri,
            "@type": ["prov:Entity", "oa:Annotation"],
            "prov:value": annotation.exact,
            "prov:wasQuotedFrom": _ref(self.revision(annotation.text)),
            "oa:hasSelector": [
                {
                    "@type": "oa:TextPositionSelector",
                    "oa:start": annotation.start,
                    "oa:end": annotation.end,
                },
                {
                    "@type": "oa:TextQuoteSelector",
                    "oa:exact": annotation.exact,
                    "oa:prefix": annotation.prefix,
                    "oa:suffix": annotation.suffix,
                },
            ],
            "mg:anchorState": annotation.state,
            "prov:generatedAtTime": _time(annotation.created),
        }
        if agent := self.user(annotation.creator):
            node["prov:wasAttributedTo"] = _ref(agent)
        return self.add(node)

    def revision(self, text: SourceText, *, verify: bool = True) -> str:
        kwargs = {"source_pk": text.source_id, "revision": text.revision}
        iri = self.request.build_absolute_uri(reverse("api-source-text-detail", kwargs=kwargs))
        if iri in self.nodes:
            return iri
        node: dict[str, Any] = {
            "@id": iri,
            "@type": "prov:Entity",
            "rdfs:label": f"Revision {text.revision} of the text",
            "prov:specializationOf": _ref(self.source(text.source)),
            "spdx:checksum": {
                "@type": "spdx:Checksum",
                "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                "spdx:checksumValue": text.sha256,
            },
            "prov:wasGeneratedBy": _ref(self.importing(text, iri)),
        }
        if verify:
            node["mg:checksumVerified"] = self.verify(text)
        if text.revision > 1:
            previous = {"source_pk": text.source_id, "revision": text.revision - 1}
            previous_iri = reverse("api-source-text-detail", kwargs=previous)
            node["prov:wasRevisionOf"] = _ref(self.request.build_absolute_uri(previous_iri))
        if text.note:
            node["rdfs:comment"] = text.note
        return self.add(node)

    def verify(self, text: SourceText) -> bool:
        if text.pk not in self.verified:
            self.verified[text.pk] = text.verify()
        return self.verified[text.pk]

    def importing(self, text: SourceText, text_iri: str) -> str:
        node: dict[str, Any] = {
            "@id": f"{text_iri}#import",
            "@type": "prov:Activity",
            "rdfs:label": "Importing the text",
            "prov:endedAtTime": _time(text.imported_at),
        }
        if text.file_name:
            file = {
                "@id": f"{text_iri}#file",
                "@type": "prov:Entity",
                "dcterms:title": text.file_name,
            }
            if text.media_type:
                file["dcterms:format"] = text.media_type
            node["prov:used"] = _ref(self.add(file))
        if agent := self.user(text.imported_by):
            node["prov:wasAssociatedWith"] = _ref(agent)
        return self.add(node)

    def source(self, source: Source) -> str:
        iri = self.iri("api-source-detail", source.pk)
        if iri in self.nodes:
            return iri
        node: dict[str, Any] = {
            "@id": iri,
            "@type": ["prov:Entity", f"mg:{source.kind}-source"],
            "dcterms:title": source.title,
            "dcterms:type": source.csl_type,
            "mg:kind": {"@id": f"mg:{source.kind}"},
            "mg:citationKey": source.citation_key,
        }
        self.add(node)  # before the links, so that a cycle of links ends here
        self.describe_source(node, source)
        for link in self.walker_links(source):
            self.link(node, link)
        return iri

    def describe_source(self, node: dict[str, Any], source: Source) -> None:
        optional = {
            "dcterms:language": source.language,
            "mg:originalLanguage": source.original_language,
            "dcterms:publisher": source.publisher,
            "dcterms:isPartOf": source.container_title,
            "dcterms:rights": source.rights,
        }
        node.update({key: value for key, value in optional.items() if value})
        if source.issued:
            node["dcterms:issued"] = {"@value": source.issued, "@type": EDTF_DATATYPE}
        if source.url:
            node["dcterms:source"] = _ref(source.url)
        if source.archive or source.archive_location:
            node["prov:atLocation"] = self.archive(node["@id"], source)
        people = list(source.creators.all())
        authors = [p for p in people if p.role == CreatorRole.AUTHOR]
        if authors:
            node["prov:wasAttributedTo"] = [_ref(self.creator(node["@id"], p)) for p in authors]
        others = [p for p in people if p.role != CreatorRole.AUTHOR]
        if others:
            node["prov:qualifiedAttribution"] = [
                {
                    "@type": "prov:Attribution",
                    "prov:agent": _ref(self.creator(node["@id"], p)),
                    "prov:hadRole": {"@id": f"mg:{p.role}"},
                }
                for p in others
            ]

    def archive(self, source_iri: str, source: Source) -> dict[str, Any]:
        label = ", ".join(part for part in (source.archive, source.archive_place) if part)
        location: dict[str, Any] = {"@id": f"{source_iri}#archive", "@type": "prov:Location"}
        if label:
            location["rdfs:label"] = label
        if source.archive_collection:
            location["mg:archiveCollection"] = source.archive_collection
        if source.archive_location:
            location["mg:archiveLocation"] = source.archive_location
        return location

    def walker_links(self, source: Source) -> list[SourceLink]:
        self.walker.outgoing([source.pk])
        return self.walker.links[source.pk]

    def link(self, node: dict[str, Any], link: SourceLink) -> None:
        target = self.source(link.object)
        node.setdefault(PROV_PROPERTY[LinkRelation(link.relation)], []).append(_ref(target))
        primary_from_secondary = (
            node["mg:kind"]["@id"] != f"mg:{SourceKind.PRIMARY}"
            and link.object.kind == SourceKind.PRIMARY
            and link.relation in CONTENT_RELATIONS
        )
        if primary_from_secondary:
            node.setdefault("prov:hadPrimarySource", []).append(_ref(target))


def _claim_rows(claims, user: Any) -> list[Claim]:
    evidence = (
        Evidence.objects.visible_to(user)
        .select_related("annotation__text__source", "annotation__creator")
        .order_by("pk")
    )
    return list(
        claims.select_related("creator").prefetch_related(
            "tags",
            Prefetch("evidence", queryset=evidence, to_attr="shown_evidence"),
            Prefetch("event_links", to_attr="links"),
        )
    )


def claim_document(claim: Claim, request: HttpRequest) -> dict[str, Any]:
    """One claim's provenance as PROV-O JSON-LD."""
    graph = Graph(request)
    for row in _claim_rows(Claim.objects.filter(pk=claim.pk), request.user):
        graph.claim(row, row.shown_evidence, row.links)
    return graph.document()


def library_document(library, request: HttpRequest | Origin) -> dict[str, Any]:
    """A whole library's provenance: every source with its revisions and links, every
    claim with its evidence, as the request's user (or the job's) may see them. Checksums
    are verified for the quoted revisions only (a library's every text would be too much
    to hash); the others carry theirs. A library past PROVENANCE_JOB_THRESHOLD sources and
    claims is written by a job (`annotations.claims.jobs`), not in a request."""
    graph = Graph(request)
    sources = list(library.sources.prefetch_related("creators").order_by("pk"))
    graph.walker.outgoing([source.pk for source in sources])
    for source in sources:
        graph.source(source)
    quoted = set(
        Evidence.objects.visible_to(request.user)
        .filter(library=library)
        .values_list("annotation__text_id", flat=True)
    )
    texts = SourceText.objects.filter(source__library=library).defer("text", "html", "html_raw")
    for text in texts.select_related("source", "imported_by").order_by("source_id", "revision"):
        graph.revision(text, verify=text.pk in quoted)
    claims = Claim.objects.visible_to(request.user).filter(library=library)
    for row in _claim_rows(claims, request.user):
        graph.claim(row, row.shown_evidence, row.links)
    return graph.document()
