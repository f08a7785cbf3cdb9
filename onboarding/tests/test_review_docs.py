"""The public docs say what the catalogue defines about who fills in each stage."""

import re

import pytest
from django.urls import reverse

from docs.pages import CONTENT_DIR
from onboarding.review import catalog

HEADER = "Filled in and submitted by"


def owners_table(slug: str, header: str = HEADER) -> dict[str, str]:
    """Stage → its last cell, from the page's table whose last column is `header`."""
    text = (CONTENT_DIR / f"{slug}.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("| Stage |") and line.rstrip(" |").endswith(header))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[-1]
    return rows


@pytest.mark.parametrize("slug", ["getting-started", "sandbox-and-production"])
def test_the_docs_table_of_who_fills_in_each_stage_is_the_catalogue(slug):
    assert owners_table(slug) == {stage.title: stage.owner_label for stage in catalog.STAGES}


def test_the_docs_table_of_who_reads_each_stage_is_the_catalogue():
    assert owners_table("sandbox-and-production", "Answers, evidence and decisions read by") \
        == {stage.title: stage.readers_label for stage in catalog.STAGES}


@pytest.mark.django_db
def test_the_review_overview_shows_the_same_table_before_it_starts(client, workspace, team):
    client.force_login(team.owner)

    text = client.get(reverse("review_overview", args=[workspace.organization.slug,
                                                       workspace.slug])).content.decode()

    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', text)
    assert dict(rows) == {stage.title: stage.owner_label for stage in catalog.STAGES}
