"""Log lines name their request; LOG_FORMAT=json writes one JSON object per line."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.fixture
def console():
    """What the configured console handler (settings.LOGGING) writes."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_line_logged_while_serving_a_request_carries_its_request_id(client, settings,
                                                                      console):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # /readyz then logs a warning

    response = client.get("/readyz")

    request_id = response["X-Request-Id"]
    (line,) = [line for line in console.getvalue().splitlines() if "not ready" in line]
    assert f"WARNING portal.health [{request_id}] not ready: redis unreachable" in line


def test_a_line_logged_outside_a_request_says_so(console):
    logging.getLogger("portal.tests").warning("between requests")

    assert "WARNING portal.tests [-] between requests" in console.getvalue()


SCRIPT = """
import logging, django
django.setup()
from audit.context import AuditContext, bound
log = logging.getLogger("portal.example")
with bound(AuditContext(request_id="req-0123456789")):
    log.warning("two\\nlines")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("failed")
log.warning("outside")
"""


def test_log_format_json_writes_one_object_per_line_with_the_request_id():
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "portal.settings"}

    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=settings.BASE_DIR,
                         capture_output=True, text=True, timeout=60, check=True)

    entries = [json.loads(line) for line in run.stderr.splitlines()]
    assert [(e["level"], e["logger"], e["message"], e["request_id"]) for e in entries] == [
        ("WARNING", "portal.example", "two\nlines", "req-0123456789"),
        ("ERROR", "portal.example", "failed", "req-0123456789"),
        ("WARNING", "portal.example", "outside", "-"),
    ]
    assert "ZeroDivisionError" in entries[1]["exception"]
    assert entries[0]["time"].endswith("Z")


def test_a_task_enqueued_during_a_request_logs_with_that_request_id(console):
    from celery.signals import before_task_publish, task_postrun, task_prerun

    from accounts.tasks import send_email
    from audit.context import AuditContext, bound

    # given a task published while serving request "req-abcdef12"
    headers: dict = {}
    with bound(AuditContext(request_id="req-abcdef12")):
        before_task_publish.send(sender=send_email.name, headers=headers, body=None)

    # when a worker runs it with those headers
    send_email.push_request(id="task-1", **headers)
    try:
        task_prerun.send(sender=send_email, task_id="task-1", task=send_email, args=(),
                         kwargs={})
        logging.getLogger("accounts.tasks").warning("sending")
        task_postrun.send(sender=send_email, task_id="task-1", task=send_email, args=(),
                          kwargs={}, retval=None, state="SUCCESS")
    finally:
        send_email.pop_request()
    logging.getLogger("accounts.tasks").warning("after the task")

    # then its log line names the request; lines after it do not
    assert headers == {"portal_request_id": "req-abcdef12"}
    assert "[req-abcdef12] sending" in console.getvalue()
    assert "[-] after the task" in console.getvalue()
