# The Job model, moved here from `sources` (docs/decisions/0009): the state only; the table
# `sources_job` (sources 0003) keeps its name and rows.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ('job',)


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    """The moved models' content types (and so their permissions) follow them."""
    content_types = apps.get_model("contenttypes", "ContentType").objects
    content_types = content_types.using(schema_editor.connection.alias)
    for model in MODELS:
        if not content_types.filter(app_label=new, model=model).exists():
            content_types.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, 'sources', 'jobs')


def move_content_types_back(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, 'jobs', 'sources')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('sources', '0005_citation_key_prefix_index'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(help_text='A kind registered with `jobs.registry`.', max_length=20)),
                        ('state', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('done', models.PositiveIntegerField(default=0)),
                        ('total', models.PositiveIntegerField(default=0)),
                        ('message', models.CharField(blank=True, max_length=500)),
                        ('params', models.JSONField(blank=True, default=dict)),
                        ('upload', models.BinaryField(blank=True, default=b'', help_text='The input file, kept until success.')),
                        ('upload_name', models.CharField(blank=True, max_length=255)),
                        ('result', models.JSONField(blank=True, default=dict)),
                        ('output', models.BinaryField(blank=True, default=b'', help_text='A file the job made.')),
                        ('output_name', models.CharField(blank=True, max_length=255)),
                        ('output_type', models.CharField(blank=True, max_length=100)),
                        ('error', models.TextField(blank=True)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('task_id', models.CharField(blank=True, max_length=64)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('started', models.DateTimeField(blank=True, null=True)),
                        ('finished', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat', models.DateTimeField(blank=True, null=True)),
                        ('library', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='sources.library')),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'sources_job',
                        'ordering': ['-created'],
                        'indexes': [models.Index(fields=['library', '-created'], name='sources_job_library_acd3ce_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
