"""ReadMark and ReplyRequest now belong to the IM app (`datasync.im`, label `im`).

Only Django's model state moves: the tables stay as they are, with their rows, and the IM app's
first migration takes them over under the same names.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("datasync", "0005_entity_account_no_db_constraint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ReadMark"),
                migrations.DeleteModel(name="ReplyRequest"),
            ],
            database_operations=[],
        ),
    ]
