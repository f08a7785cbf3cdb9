from django.db import migrations

# TRUNCATE skips row triggers, so the append-only rule of 0002 needs a statement trigger
# too. The table's owner can still disable it: run the application as another role
# (README, "Deploying").
# DROP first: for a few minutes this migration was numbered 0008, and a database that
# applied it then already has the trigger.
FORWARD = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""

BACKWARD = "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;"


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_auditevent_request_id")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
