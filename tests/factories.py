"""Small keyword-only factories. Personas: alice (owner), bob (editor), vera (viewer),
mallory (outsider)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from sources.models import Creator, Library, Membership, Role, Source, SourceText

PASSWORD = "correct-horse-battery"


def make_user(*, username: str, is_staff: bool = False):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD, is_staff=is_staff
    )


def make_library(*, owner, name: str = "Sino-Soviet relations", is_public: bool = False) -> Library:
    return Library.objects.create_for(owner, name=name, is_public=is_public)


def add_member(*, library: Library, user, role: str = Role.VIEWER) -> Membership:
    return Membership.objects.create(library=library, user=user, role=role)


def make_source(
    *,
    library: Library,
    title: str = "Record of conversation with Mao Zedong",
    creators: list[dict] | None = None,
    **fields,
) -> Source:
    fields.setdefault("csl_type", "manuscript")
    fields.setdefault("issued", "1950-01-01")
    creators = creators if creators is not None else [{"family": "Roshchin", "given": "N. V."}]
    return Source.objects.create_with_creators(
        library=library, title=title, creators=creators, **fields
    )


def make_text(
    *, source: Source, text: str = "Mao said the treaty mattered.", **origin
) -> SourceText:
    origin.setdefault("file_name", "text.txt")
    origin.setdefault("media_type", "text/plain")
    return SourceText.objects.add_revision(source, text=text, **origin)


def make_creator(*, source: Source, role: str = "author", **name) -> Creator:
    return Creator.objects.create(source=source, role=role, **name)


def make_annotation(*, text: SourceText, creator, quote: str | None = None, **fields):
    """An annotation on `text`: on the first occurrence of `quote`, or on start/end."""
    from annotations.writes import create_annotation

    if quote is not None:
        fields["start"] = text.text.index(quote)
        fields["end"] = fields["start"] + len(quote)
    fields.setdefault("start", 0)
    fields.setdefault("end", len(text.text))
    return create_annotation(text=text, creator=creator, **fields)


def make_claim(*, library: Library, creator, statement: str = "Stalin kept Mao waiting.", **fields):
    """A claim; `events` takes EventLink rows, `tags` names (see annotations.claims.claims)."""
    from annotations.claims.claims import create_claim

    return create_claim(library=library, creator=creator, statement=statement, **fields)


def make_event(*, library: Library, creator=None, name: str = "Mao's visit to Moscow", **fields):
    from annotations.claims.events import create_event

    fields.setdefault("date", "1949-12-16/1950-02-17")
    return create_event(library=library, creator=creator, name=name, **fields)


def make_evidence(*, claim, annotation, creator, stance: str = "supports", note: str = ""):
    from annotations.claims.claims import add_evidence

    return add_evidence(claim, annotation, creator=creator, stance=stance, note=note)
