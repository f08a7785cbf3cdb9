"""Which of our modules a pure module pulls in, imported in a fresh interpreter with no
Django settings (where defining a model would fail)."""

import os
import subprocess
import sys

from django.conf import settings

OURS = ("accounts", "audit", "docs", "keys", "onboarding", "portal", "sandbox", "usage",
        "webhooks", "workspaces")


def our_modules_loaded_by(module: str) -> list[str]:
    probe = (f"import sys, {module}; "
             "print(' '.join(sorted(m for m in sys.modules "
             f"if m.split('.')[0] in {set(OURS)!r})))")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, cwd=settings.BASE_DIR, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()
