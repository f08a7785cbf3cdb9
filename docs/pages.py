"""Documentation pages: Markdown files with a small front-matter block, kept in the repo.

A file is parsed once per process and per modification time: requests read the cached
`Page`, so serving the docs costs a few `stat` calls and no Markdown work.
"""

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from docs.rendering import Heading, render_markdown

CONTENT_DIR = Path(__file__).resolve().parent / "content"
FRONT_MATTER_FENCE = "---"
REQUIRED_FIELDS = frozenset({"title", "order", "summary"})
OPTIONAL_FIELDS = frozenset({"status"})
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class PageStatus(StrEnum):
    PUBLISHED = "published"
    PREVIEW = "preview"  # describes what the platform is being built to do


class ContentError(ValueError):
    """A documentation source file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    order: int
    summary: str
    status: PageStatus
    html: str
    headings: tuple[Heading, ...]

    @property
    def is_preview(self) -> bool:
        return self.status == PageStatus.PREVIEW

    @property
    def sections(self) -> tuple[Heading, ...]:
        """The h2 headings, for the "On this page" list."""
        return tuple(heading for heading in self.headings if heading.level == 2)


def split_front_matter(text: str, *, source: str) -> tuple[dict[str, str], str]:
    """Split `---`-fenced `key: value` lines from the Markdown body that follows them."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ContentError(f"{source}: must start with a '---' front-matter block")
    fields: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == FRONT_MATTER_FENCE:
            return fields, "".join(lines[number:])
        if not stripped:
            continue
        key, colon, value = stripped.partition(":")
        key = key.strip()
        if not colon or not key:
            raise ContentError(f"{source}:{number}: expected 'key: value', got {stripped!r}")
        if key not in REQUIRED_FIELDS | OPTIONAL_FIELDS:
            raise ContentError(f"{source}:{number}: unknown front-matter field {key!r}")
        if key in fields:
            raise ContentError(f"{source}:{number}: {key!r} is given twice")
        fields[key] = value.strip()
    raise ContentError(f"{source}: the front-matter block is not closed with '---'")


def parse_page(slug: str, text: str, *, source: str = "<string>") -> Page:
    """Build a Page from a source file's text; raise ContentError when it is malformed."""
    if not _SLUG.match(slug):
        raise ContentError(f"{source}: {slug!r} is not a lowercase-hyphenated slug")
    fields, body = split_front_matter(text, source=source)
    missing = sorted(REQUIRED_FIELDS - {key for key, value in fields.items() if value})
    if missing:
        raise ContentError(f"{source}: front matter lacks {', '.join(missing)}")
    try:
        order = int(fields["order"])
    except ValueError:
        raise ContentError(f"{source}: order must be an integer") from None
    try:
        status = PageStatus(fields.get("status", PageStatus.PUBLISHED))
    except ValueError:
        choices = ", ".join(PageStatus)
        raise ContentError(f"{source}: status must be one of {choices}") from None
    rendered = render_markdown(body)
    return Page(
        slug=slug,
        title=fields["title"],
        order=order,
        summary=fields["summary"],
        status=status,
        html=rendered.html,
        headings=rendered.headings,
    )


@functools.lru_cache(maxsize=256)
def _parse_file(path: Path, mtime_ns: int) -> Page:
    # mtime_ns is part of the cache key only: an edited file is parsed again.
    return parse_page(path.stem, path.read_text(encoding="utf-8"), source=str(path))


def load_page(path: Path) -> Page:
    """The Page for one source file, parsed at most once per modification time."""
    return _parse_file(path, path.stat().st_mtime_ns)


def all_pages(directory: Path = CONTENT_DIR) -> tuple[Page, ...]:
    """Every page in the directory, in reading order (front-matter `order`, then title)."""
    pages = [load_page(path) for path in directory.glob("*.md")]
    return tuple(sorted(pages, key=lambda page: (page.order, page.title)))


def find_page(slug: str, pages: tuple[Page, ...]) -> tuple[Page | None, Page | None, Page | None]:
    """The page with this slug and its previous and next pages; (None, None, None) if absent."""
    for index, page in enumerate(pages):
        if page.slug == slug:
            previous = pages[index - 1] if index > 0 else None
            following = pages[index + 1] if index + 1 < len(pages) else None
            return page, previous, following
    return None, None, None
