from datetime import UTC, datetime

import pytest

from workspaces.models import Environment, Workspace

AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("sandbox_at", "production_at", "environment", "expected"), [
    (None, None, Environment.SANDBOX, False),
    (None, None, Environment.PRODUCTION, False),
    (AT, None, Environment.SANDBOX, True),
    (AT, None, Environment.PRODUCTION, False),
    (AT, AT, Environment.PRODUCTION, True),
    (None, AT, Environment.SANDBOX, False),
])
def test_an_environment_is_open_once_its_access_was_granted(sandbox_at, production_at,
                                                            environment, expected):
    # given a workspace with these grants
    workspace = Workspace(sandbox_approved_at=sandbox_at, production_approved_at=production_at)
    # when / then
    assert workspace.is_open(environment) is expected
