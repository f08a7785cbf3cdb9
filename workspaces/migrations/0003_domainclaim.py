"""Domains are proved by a DNS TXT record: a claim is pending until its token is found.

Claims made before this (proved only by one person's mailbox) become pending, each with
its own token, so that their Owners publish the record.
"""

import secrets

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def give_tokens(apps, schema_editor):
    DomainClaim = apps.get_model("workspaces", "DomainClaim")
    for claim in DomainClaim.objects.all():
        claim.token = secrets.token_urlsafe(24)
        claim.save(update_fields=["token"])


class Migration(migrations.Migration):

    dependencies = [
        ("workspaces", "0002_workspace_production_approved_at_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("VerifiedDomain", "DomainClaim"),
        migrations.RenameField("domainclaim", "verified_by", "claimed_by"),
        migrations.RenameField("domainclaim", "verified_at", "claimed_at"),
        migrations.AlterField(
            model_name="domainclaim", name="claimed_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="domainclaim", name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                    related_name="domain_claims",
                                    to="workspaces.organization"),
        ),
        migrations.AlterField(
            model_name="domainclaim", name="domain", field=models.CharField(max_length=253),
        ),
        migrations.AddField(
            model_name="domainclaim", name="status",
            field=models.CharField(choices=[("pending", "Pending"), ("verified", "Verified")],
                                   default="pending", max_length=16),
        ),
        migrations.AddField(
            model_name="domainclaim", name="token",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(give_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="domainclaim", name="token",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AddField(
            model_name="domainclaim", name="verified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="domainclaim", name="checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="domainclaim", name="lost_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="domainclaim", name="check_error",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterModelOptions(name="domainclaim", options={"ordering": ["domain"]}),
        migrations.AddConstraint(
            model_name="domainclaim",
            constraint=models.UniqueConstraint(fields=("organization", "domain"),
                                               name="domain_claim_once_per_org"),
        ),
        migrations.AddConstraint(
            model_name="domainclaim",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "verified")),
                                               fields=("domain",),
                                               name="domain_verified_once"),
        ),
    ]
