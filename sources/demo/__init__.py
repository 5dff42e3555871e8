"""The demo library: a user, a library, its sources with their texts and links, read from
the files beside this module (their origin and licence: README.md). `manage.py load_demo`
loads it, with the claims and events `annotations.claims.demo` builds on it. Harmless to
repeat: what exists is left as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from sources.models import Library, Source, SourceLink, SourceText

DEMO_DIR = Path(__file__).resolve().parent


def load_library() -> tuple[dict[str, Any], Any, Library]:
    """(the spec, the demo user, the library), created where missing."""
    spec = json.loads((DEMO_DIR / "library.json").read_text(encoding="utf-8"))
    user = ensure_user(spec["user"])
    library = ensure_library(spec["library"], owner=user)
    sources = {item["key"]: ensure_source(library, item, user=user) for item in spec["sources"]}
    for link in spec["links"]:
        ensure_link(library, link, sources, user=user)
    return spec, user, library


def ensure_user(spec: dict):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=spec["username"], defaults={"email": spec["email"]}
    )
    if created:
        user.set_password(spec["password"])
        user.save()
    return user


def ensure_library(spec: dict, *, owner) -> Library:
    library = Library.objects.filter(slug=spec["slug"]).first()
    if library is None:
        library = Library.objects.create_for(
            owner, name=spec["name"], description=spec["description"]
        )
        Library.objects.filter(pk=library.pk).update(slug=spec["slug"])
        library.refresh_from_db()
    return library


def ensure_source(library: Library, item: dict, *, user) -> Source:
    source = library.sources.filter(citation_key=item["key"]).first()
    if source is None:
        source = Source.objects.create_with_creators(
            library=library,
            creators=item["creators"],
            citation_key=item["key"],
            created_by=user,
            **item["fields"],
        )
    text = item.get("text")
    if text and not source.texts.exists():
        SourceText.objects.add_revision(
            source,
            text=(DEMO_DIR / text["file"]).read_text(encoding="utf-8"),
            file_name=text["file"],
            media_type="text/plain",
            encoding="utf-8",
            imported_by=user,
            note=text["note"],
        )
    return source


def ensure_link(library: Library, spec: dict, sources: dict[str, Source], *, user) -> None:
    SourceLink.objects.get_or_create(
        library=library,
        subject=sources[spec["subject"]],
        relation=spec["relation"],
        object=sources[spec["object"]],
        defaults={"note": spec["note"], "created_by": user},
    )
