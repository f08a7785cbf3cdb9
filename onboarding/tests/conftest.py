"""Fixtures of the production review tests."""

import pytest

from onboarding.tests.factories import review_team


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded screenshots go to a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def team(workspace):
    """A workspace's review team: a holder of every role the stages need."""
    return review_team(workspace)
