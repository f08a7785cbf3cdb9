import os

import pytest

from docs.pages import (
    CONTENT_DIR,
    ContentError,
    PageStatus,
    all_pages,
    find_page,
    load_page,
    parse_page,
)

SOURCE = """---
title: Webhooks
order: 20
summary: Receive events.
status: preview
---

## Verifying signatures

Text.
"""


def write_page(directory, slug, *, title, order, status=None, body="Body.\n"):
    status_line = f"status: {status}\n" if status else ""
    path = directory / f"{slug}.md"
    path.write_text(
        f"---\ntitle: {title}\norder: {order}\nsummary: About {title}.\n{status_line}---\n\n{body}",
        encoding="utf-8",
    )
    return path


def test_front_matter_and_body_become_a_page():
    page = parse_page("webhooks", SOURCE)

    assert page.slug == "webhooks"
    assert page.title == "Webhooks"
    assert page.order == 20
    assert page.summary == "Receive events."
    assert page.status == PageStatus.PREVIEW
    assert page.is_preview
    assert [section.id for section in page.sections] == ["verifying-signatures"]
    assert '<h2 id="verifying-signatures">' in page.html


def test_a_page_without_status_is_published():
    page = parse_page("errors", "---\ntitle: Errors\norder: 1\nsummary: Codes.\n---\nText.\n")

    assert page.status == PageStatus.PUBLISHED
    assert not page.is_preview


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: Errors\n", "must start with a '---' front-matter block"),
        ("---\ntitle: Errors\norder: 1\nsummary: S.\n", "not closed"),
        ("---\ntitle: Errors\nsummary: S.\n---\n", "lacks order"),
        ("---\ntitle: Errors\norder: 1\nsummary:\n---\n", "lacks summary"),
        ("---\ntitle: E\norder: first\nsummary: S.\n---\n", "order must be an integer"),
        ("---\ntitle: E\norder: 1\nsummary: S.\nstatus: draft\n---\n", "status must be one of"),
        ("---\ntitle: E\norder: 1\nsummary: S.\nstauts: preview\n---\n", "unknown front-matter"),
        ("---\ntitle: E\ntitle: F\norder: 1\nsummary: S.\n---\n", "'title' is given twice"),
        ("---\ntitle E\n---\n", "expected 'key: value'"),
    ],
)
def test_malformed_front_matter_is_refused_with_the_reason(text, message):
    with pytest.raises(ContentError, match=message):
        parse_page("errors", text, source="errors.md")


def test_pages_are_listed_in_front_matter_order(tmp_path):
    # given pages whose file names sort differently from their order
    write_page(tmp_path, "alpha", title="Alpha", order=30)
    write_page(tmp_path, "beta", title="Beta", order=10)
    write_page(tmp_path, "gamma", title="Gamma", order=20)

    # when listed
    pages = all_pages(tmp_path)

    # then they follow `order`
    assert [page.slug for page in pages] == ["beta", "gamma", "alpha"]


def test_a_file_is_parsed_once_per_modification_time(tmp_path):
    # given a page that was loaded once
    path = write_page(tmp_path, "errors", title="Errors", order=1)
    first = load_page(path)

    # when it is loaded again, unchanged
    second = load_page(path)

    # then the cached Page is returned, not a new parse
    assert second is first

    # when the file is edited (a new modification time)
    write_page(tmp_path, "errors", title="Error codes", order=1)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = load_page(path)

    # then it is parsed again
    assert third is not first
    assert third.title == "Error codes"


def test_find_page_returns_the_page_and_its_neighbours(tmp_path):
    write_page(tmp_path, "one", title="One", order=1)
    write_page(tmp_path, "two", title="Two", order=2)
    write_page(tmp_path, "three", title="Three", order=3)
    pages = all_pages(tmp_path)

    assert [p and p.slug for p in find_page("two", pages)] == ["two", "one", "three"]
    assert [p and p.slug for p in find_page("one", pages)] == ["one", None, "two"]
    assert find_page("four", pages) == (None, None, None)


def test_every_shipped_page_parses_with_a_unique_order():
    pages = all_pages()

    assert len(pages) == len(list(CONTENT_DIR.glob("*.md")))
    assert len({page.order for page in pages}) == len(pages)
    assert all(page.title and page.summary and page.sections for page in pages)
