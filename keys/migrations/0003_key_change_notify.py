"""Tell every web process's key cache (keys/cache.py) when a key changes in a way
verification sees. The payload is "<secret_hash> <txid>": the hash names the cache entry
and the transaction id lets the changing service wait for every cache to drop it.
last_used_at and the display fields change nothing verification answers, so they are
left out (last_used_at is written once a minute per key)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION keys_apikey_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('api_key_changed', OLD.secret_hash || ' ' || txid_current());
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER keys_apikey_changed
    AFTER UPDATE ON keys_apikey
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.scopes IS DISTINCT FROM NEW.scopes
          OR OLD.environment IS DISTINCT FROM NEW.environment
          OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
          OR OLD.workspace_path IS DISTINCT FROM NEW.workspace_path
          OR OLD.public_id IS DISTINCT FROM NEW.public_id
          OR OLD.secret_hash IS DISTINCT FROM NEW.secret_hash)
    EXECUTE FUNCTION keys_apikey_notify_change();

CREATE TRIGGER keys_apikey_deleted
    AFTER DELETE ON keys_apikey
    FOR EACH ROW EXECUTE FUNCTION keys_apikey_notify_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS keys_apikey_changed ON keys_apikey;
DROP TRIGGER IF EXISTS keys_apikey_deleted ON keys_apikey;
DROP FUNCTION IF EXISTS keys_apikey_notify_change();
"""


class Migration(migrations.Migration):
    dependencies = [("keys", "0002_workspace_path")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
