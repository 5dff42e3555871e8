# The search index's models, moved here from `annotations` (docs/decisions/0009): the
# state only. The tables, made by annotations 0003 with what Django cannot declare (the
# tsvector column and GIN indexes, the FTS5 table and its triggers), keep their names.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ('searchentry', 'searchword')


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    """The moved models' content types (and so their permissions) follow them."""
    content_types = apps.get_model("contenttypes", "ContentType").objects
    content_types = content_types.using(schema_editor.connection.alias)
    for model in MODELS:
        if not content_types.filter(app_label=new, model=model).exists():
            content_types.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, 'annotations', 'search')


def move_content_types_back(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, 'search', 'annotations')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('annotations', '0008_annotation_document_order'),
        ('sources', '0005_citation_key_prefix_index'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SearchEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(help_text='a:12, c:3, p:<text>:<n>, s:7', max_length=40, unique=True)),
                        ('kind', models.CharField(choices=[('claim', 'Claim'), ('annotation', 'Annotation'), ('passage', 'Passage of a source text'), ('source', 'Source description')], max_length=10)),
                        ('start', models.PositiveIntegerField(default=0, help_text='Code point offset in `text`.')),
                        ('private', models.BooleanField(default=False, help_text='Shown to its creator only.')),
                        ('status', models.CharField(blank=True, max_length=12)),
                        ('date_earliest', models.DateField(null=True)),
                        ('date_latest', models.DateField(null=True)),
                        ('year', models.SmallIntegerField(null=True)),
                        ('title', models.CharField(blank=True, max_length=1000)),
                        ('body', models.TextField(help_text='What the result shows: quote, statement, passage.')),
                        ('note', models.TextField(blank=True, help_text='Shown below: comment, claim note.')),
                        ('terms', models.TextField(help_text='Folded words, as `search.text.terms` writes them.')),
                        ('stems', models.TextField(blank=True, help_text="Snowball stems, for SQLite's FTS5.")),
                        ('facets', models.JSONField(default=list, help_text='Filter tokens: ["t12", "kprimary", …]')),
                        ('annotation', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='annotations.annotation')),
                        ('claim', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='annotations.claim')),
                        ('creator', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('library', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.library')),
                        ('source', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.source')),
                        ('text', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.sourcetext')),
                    ],
                    options={
                        'verbose_name_plural': 'search entries',
                        'db_table': 'annotations_searchentry',
                        'indexes': [models.Index(fields=['library', 'date_earliest', 'id'], name='search_library_date'), models.Index(fields=['library', 'id'], name='search_library_id')],
                    },
                ),
                migrations.CreateModel(
                    name='SearchWord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('word', models.CharField(max_length=40)),
                        ('library', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sources.library')),
                    ],
                    options={
                        'db_table': 'annotations_searchword',
                        'constraints': [models.UniqueConstraint(fields=('library', 'word'), name='one_search_word')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
