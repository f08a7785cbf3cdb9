"""Re-encrypt every webhook signing secret under the first WEBHOOK_SECRET_KEYS key.

Rolling out a new key: put it first in WEBHOOK_SECRET_KEYS (keeping the old ones after
it), deploy, run this command, then remove the old keys.
"""

from django.core.management.base import BaseCommand, CommandError

from webhooks.services import reencrypt_secrets


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        done, unreadable = reencrypt_secrets()
        self.stdout.write(f"{done} endpoint(s) re-encrypted under the first key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} endpoint(s) have a signing secret no key decrypts: "
                f"{', '.join(unreadable)}. Keep their old key in WEBHOOK_SECRET_KEYS, or "
                "rotate their secrets on their pages, before retiring it.")
