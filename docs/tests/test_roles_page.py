"""DESIGN §3's role matrix, the docs' roles table and workspaces/roles.py say the same."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from workspaces.roles import CAPABILITIES, Role

NOBODY = "\N{EN DASH}"  # DESIGN's empty cell
EVERYONE = {"docs.read", "usage.read"}
SANDBOX = {"manage": {"sandbox.read", "sandbox.manage"}, "read": {"sandbox.read"},
           "none": set(), NOBODY: set()}
PRODUCTION = {
    "manage": {"production.read", "production.detail", "production.manage", "policy.read"},
    "read-only list": {"production.read"},
    "read; sets the key policy": {"production.read", "production.detail", "keys.policy",
                                  "policy.read"},
    "read; sets key policy (max key age, expiry)": {"production.read", "production.detail",
                                                    "keys.policy", "policy.read"},
    "none": set(), NOBODY: set(),
}
ALSO = {"members": {"members.manage", "workspaces.manage"},
        "billing": {"billing.read", "billing.manage"}, "billing (read)": {"billing.read"},
        "consent review": {"review.submit"}, "audit log": {"audit.read"},
        "audit log and its export": {"audit.read", "audit.export"}}
DESIGN_COLUMNS = {
    "billing": {"manage": {"billing.read", "billing.manage"}, "read": {"billing.read"}},
    "consent review": {"submit": {"review.submit"}},
    "members": {"manage": {"members.manage", "workspaces.manage"}},
    "audit log": {"read": {"audit.read"}, "read, export": {"audit.read", "audit.export"}},
}


def _table(text: str, first_header: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(
        f"| {first_header.lower()} |"))
    rows = []
    for line in lines[start:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(line) <= set("|-: "):
            continue
        rows.append(cells)
        if cells[0] == "Viewer":
            break
    return rows


def _role(label: str) -> Role:
    return next(r for r in Role if r.label == label)


def test_the_docs_roles_table_says_what_roles_py_grants():
    text = (settings.BASE_DIR / "docs/content/getting-started.md").read_text()
    header, *rows = _table(text, "Role")

    assert header == ["Role", "Sandbox keys and webhooks", "Production keys and webhooks", "Also"]
    assert [r[0] for r in rows] == [r.label for r in Role]
    for label, sandbox, production, also in rows:
        documented = (EVERYONE | SANDBOX[sandbox] | PRODUCTION[production]).union(
            *(ALSO[item] for item in re.split(r", ", also) if item))
        assert documented == set(CAPABILITIES[_role(label)]), label


def _design() -> Path | None:
    for folder in (settings.BASE_DIR.parent, settings.BASE_DIR.parent.parent):
        if (folder / "shared/DESIGN.md").exists():
            return folder / "shared/DESIGN.md"
    return None


@pytest.mark.skipif(_design() is None, reason="../shared/DESIGN.md is not beside this checkout")
def test_design_section_3_says_what_roles_py_grants():
    header, *rows = _table(_design().read_text(), "role")

    assert header[:4] == ["role", "docs", "sandbox keys & webhooks", "production keys & webhooks"]
    assert [r[0].removesuffix(" (admin)") for r in rows] == [r.label for r in Role]
    for cells in rows:
        row = dict(zip(header, cells, strict=True))
        designed = ({"docs.read"} if row["docs"] == "read" else set()) | (
            {"usage.read"} if row["usage"] == "read" else set())
        designed |= SANDBOX[row["sandbox keys & webhooks"]]
        designed |= PRODUCTION[row["production keys & webhooks"]]
        for column, cells_to_caps in DESIGN_COLUMNS.items():
            designed |= cells_to_caps.get(row[column], set())
        role = _role(row["role"].removesuffix(" (admin)"))
        assert designed == set(CAPABILITIES[role]), role.label
