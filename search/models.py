"""The search index: one denormalised row per searchable thing.

A claim, an annotation, a source's description or a passage of a source's current text has
one entry, kept in step with the rows it describes by `search.index` (signals, in the
writer's transaction) and rebuilt from them by `manage.py rebuild_search_index`. The
migration that made them (annotations 0003, before search was a package of its own) adds
what Django cannot declare: on PostgreSQL a generated tsvector column with GIN indexes, on
SQLite an FTS5 table that triggers keep equal to `terms`, `stems` and `facets`. The tables
keep their first names (`annotations_searchentry`, `annotations_searchword`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SearchEntryKind(models.TextChoices):
    CLAIM = "claim", "Claim"
    ANNOTATION = "annotation", "Annotation"
    PASSAGE = "passage", "Passage of a source text"
    SOURCE = "source", "Source description"


UNCONSTRAINED = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class SearchEntry(models.Model):
    """One searchable thing: a claim, an annotation, a source's description or a passage of
    its current text, with what a result shows and what filters match."""

    key = models.CharField(max_length=40, unique=True, help_text="a:12, c:3, p:<text>:<n>, s:7")
    kind = models.CharField(max_length=10, choices=SearchEntryKind.choices)
    # No database constraints and no cascades: `search.index` deletes entries when what
    # they describe is deleted, after the cascade, so that a re-index triggered half-way
    # through a cascade can never leave a row pointing at something deleted.
    library = models.ForeignKey("sources.Library", **UNCONSTRAINED)
    source = models.ForeignKey("sources.Source", null=True, **UNCONSTRAINED)
    text = models.ForeignKey("sources.SourceText", null=True, **UNCONSTRAINED)
    annotation = models.ForeignKey("annotations.Annotation", null=True, **UNCONSTRAINED)
    claim = models.ForeignKey("annotations.Claim", null=True, **UNCONSTRAINED)
    start = models.PositiveIntegerField(default=0, help_text="Code point offset in `text`.")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    private = models.BooleanField(default=False, help_text="Shown to its creator only.")
    status = models.CharField(max_length=12, blank=True)
    date_earliest = models.DateField(null=True)
    date_latest = models.DateField(null=True)
    year = models.SmallIntegerField(null=True)
    title = models.CharField(max_length=1000, blank=True)
    body = models.TextField(help_text="What the result shows: quote, statement, passage.")
    note = models.TextField(blank=True, help_text="Shown below: comment, claim note.")
    terms = models.TextField(help_text="Folded words, as `search.text.terms` writes them.")
    stems = models.TextField(blank=True, help_text="Snowball stems, for SQLite's FTS5.")
    facets = models.JSONField(default=list, help_text='Filter tokens: ["t12", "kprimary", …]')

    class Meta:
        db_table = "annotations_searchentry"
        verbose_name_plural = "search entries"
        indexes = [
            models.Index(fields=["library", "date_earliest", "id"], name="search_library_date"),
            models.Index(fields=["library", "id"], name="search_library_id"),
        ]

    def __str__(self) -> str:
        return self.key


class SearchWord(models.Model):
    """A word some library's index holds: the vocabulary fuzzy matching looks in."""

    library = models.ForeignKey("sources.Library", **UNCONSTRAINED)
    word = models.CharField(max_length=40)

    class Meta:
        db_table = "annotations_searchword"
        constraints = [models.UniqueConstraint(fields=["library", "word"], name="one_search_word")]

    def __str__(self) -> str:
        return self.word
