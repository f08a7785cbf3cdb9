"""The warning before auto-disable, with a fake clock and a real loopback receiver."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from outbox.services import emit
from webhooks import delivery, notices
from webhooks.models import Endpoint
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver

D, H = timedelta(days=1), timedelta(hours=1)
WARNED, DISABLED = "will be disabled", "was disabled"


@pytest.mark.django_db
@pytest.mark.parametrize(("steps", "enabled", "subjects"), [
    # a quiet week: one failure, no events, then the hourly check
    ([(0 * D, "fail"), (3 * D, "check"), (7 * D, "check"), (7 * D + 23 * H, "check"),
      (8 * D, "check")], False, [WARNED, DISABLED]),
    # a failure after a quiet week warns; it does not disable at once
    ([(0 * D, "fail"), (7 * D, "fail")], True, [WARNED]),
    # failures on days 0, 4 and 5: warned on day 4, disabled a day later
    ([(0 * D, "fail"), (4 * D + H, "fail"), (5 * D + 2 * H, "fail")], False, [WARNED, DISABLED]),
    # recovery after the warning: a success resets the run
    ([(0 * D, "fail"), (4 * D, "check"), (4 * D + 12 * H, "ok"), (5 * D + H, "fail"),
      (6 * D, "check")], True, [WARNED]),
    # 410 Gone: the receiver asks us to stop, at once
    ([(0 * D, "gone")], False, [DISABLED]),
])
def test_an_endpoint_is_warned_before_it_is_disabled(workspace, owner, settings,
                                                     django_capture_on_commit_callbacks,
                                                     steps, enabled, subjects):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    approve_sandbox(workspace)
    start = timezone.now()
    with receiver() as hook, django_capture_on_commit_callbacks(execute=True):
        endpoint = add_endpoint(workspace, owner, hook.url)
        for offset, step in steps:
            now = start + offset
            if step == "check":
                notices.check_failing_endpoints(now=now)
                continue
            hook.replies = [{"fail": (500, {}, "no"), "ok": (200, {}, "ok"),
                             "gone": (410, {}, "gone")}[step]]
            event = emit(workspace=workspace, environment="sandbox", type="key.revoked",
                         data={})
            (delivery_id,) = delivery.dispatch(event.pk, now=now)
            delivery.attempt(delivery_id, now=now)

    endpoint = Endpoint.objects.get(pk=endpoint.pk)
    assert endpoint.enabled is enabled
    assert [m.subject.split(f"{workspace} ")[1] for m in mail.outbox] == subjects
    assert all(m.to == [owner.email] for m in mail.outbox)
    if subjects[:1] == [WARNED]:
        assert f"/webhooks/sandbox/{endpoint.public_id}/" in mail.outbox[0].body
