"""Another web process, for keys/tests/test_cache.py: with its own key cache and
listener, it verifies each key read from stdin and answers one line per key,
"<code> <number of SQL queries it took>". It prints "ready" once its cache listens."""

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keys import cache as key_cache
    from keys.selectors import verify

    if not key_cache.current().wait_until_listening():
        print("not listening", flush=True)
        return
    print("ready", flush=True)
    for line in sys.stdin:
        with CaptureQueriesContext(connection) as queries:
            result = verify(line.strip())
        print(result.code, len(queries), flush=True)


if __name__ == "__main__":
    main()
