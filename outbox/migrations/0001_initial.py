# The Event model moves from webhooks to outbox, keeping its table (webhooks_event):
# state only, no change to the database.

import django.db.models.deletion
from django.db import migrations, models

import outbox.models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("webhooks", "0004_endpoint_answers_quickly"),
        ("workspaces", "0003_domainclaim"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("environment", models.CharField(max_length=16)),
                        ("public_id", models.CharField(default=outbox.models.message_id,
                                                       max_length=40, unique=True)),
                        ("type", models.CharField(max_length=64)),
                        ("data", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(db_index=True)),
                        ("dispatched_at", models.DateTimeField(blank=True, null=True)),
                        ("endpoint", models.ForeignKey(
                            blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                            related_name="+", to="webhooks.endpoint")),
                        ("workspace", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE,
                            related_name="webhook_events", to="workspaces.workspace")),
                    ],
                    options={
                        "db_table": "webhooks_event",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["workspace", "environment", "created_at"],
                                         name="webhooks_ev_workspa_760549_idx"),
                            models.Index(condition=models.Q(("dispatched_at__isnull", True)),
                                         fields=["created_at"],
                                         name="webhook_event_undispatched"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
