# SearchEntry and SearchWord now belong to `search` (search 0001): the state only, the
# tables stay.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('annotations', '0008_annotation_document_order'),
        ('search', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='searchword',
                    name='library',
                ),
                migrations.DeleteModel(
                    name='SearchEntry',
                ),
                migrations.DeleteModel(
                    name='SearchWord',
                ),
            ],
            database_operations=[],
        ),
    ]
