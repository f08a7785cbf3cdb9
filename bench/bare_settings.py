"""Portal settings with the benchmark's extra bare view."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
