from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without blocking the writes every change makes to the audit log.
    atomic = False

    dependencies = [
        ("audit", "0009_refuse_truncate"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(fields=["organization", "action", "occurred_at"],
                               name="audit_org_action_time"),
        ),
    ]
