from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The raw call table is the largest: its index is built without blocking writes.
    atomic = False

    dependencies = [
        ("usage", "0001_initial"),
    ]

    operations = [
        # A constant default: PostgreSQL adds the column without rewriting the table.
        migrations.AddField(
            model_name="callrecord",
            name="error_body",
            field=models.TextField(blank=True, db_default=""),
        ),
        AddIndexConcurrently(
            model_name="callrecord",
            index=models.Index(fields=["workspace", "environment", "-occurred_at", "-id"],
                               name="usage_call_log"),
        ),
    ]
