"""The database cache holding sign-in rate limits and used TOTP codes (settings.CACHES["auth"])."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_site_name")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
