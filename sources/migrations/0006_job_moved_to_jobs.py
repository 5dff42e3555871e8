# Job now belongs to `jobs` (jobs 0001): the state only, the table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sources', '0005_citation_key_prefix_index'),
        ('jobs', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Job',
                ),
            ],
            database_operations=[],
        ),
    ]
