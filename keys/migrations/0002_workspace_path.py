from django.db import migrations, models


def backfill(apps, schema_editor):
    ApiKey = apps.get_model("keys", "ApiKey")
    Workspace = apps.get_model("workspaces", "Workspace")
    for workspace in Workspace.objects.select_related("organization").filter(
            api_keys__isnull=False).distinct():
        ApiKey.objects.filter(workspace=workspace).update(
            workspace_path=f"{workspace.organization.slug}/{workspace.slug}")


class Migration(migrations.Migration):
    dependencies = [("keys", "0001_initial"), ("workspaces", "0002_workspace_production_approved_at_and_more")]

    operations = [
        migrations.AddField(model_name="apikey", name="workspace_path",
                            field=models.CharField(default="", max_length=130),
                            preserve_default=False),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
