"""Markdown source to safe HTML for the public documentation.

Pure: it imports neither the ORM nor the request. Markdown produces the HTML, nh3
reduces it to an explicit allow-list, and Pygments marks code with CSS classes only,
because the site's Content-Security-Policy allows no inline style or script.
"""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

import markdown
import nh3
from markdown.extensions.toc import render_inner_html, slugify, strip_tags
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter
from pygments.token import STANDARD_TYPES

# Dark, to match the portal's <pre>; every token colour is at least 4.8:1 on it.
PYGMENTS_STYLE = "github-dark"
HIGHLIGHT_CSS_CLASS = "highlight"

# Ids the page layout itself uses; a heading that slugifies to one gets a suffix.
RESERVED_IDS = frozenset(
    {"main", "docs-nav-title", "docs-page-title", "docs-toc-title", "docs-live", "docs-preview"}
)
ANCHORED_TAGS = ("h2", "h3")

ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
        "ul", "ol", "li", "dl", "dt", "dd",
        "a", "strong", "em", "code", "kbd", "abbr", "sup", "sub", "del",
        "pre", "span", "div",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)
# Dropped with everything inside them, not just unwrapped.
REMOVED_WITH_CONTENT = frozenset({"script", "style"})
ALLOWED_ATTRIBUTES = {
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "a": {"href", "title", "class", "aria-label"},
    "abbr": {"title"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"},
    "p": {"class"},
    "span": {"class"},
    "table": {"class"},
}
ALLOWED_URL_SCHEMES = frozenset({"https", "http", "mailto"})
LINK_REL = "noopener"

PYGMENTS_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
ALLOWED_CLASSES = {
    "a": frozenset({"heading-anchor"}),
    "div": frozenset({HIGHLIGHT_CSS_CLASS, "table-wrap", "admonition", "note", "tip", "warning"}),
    "p": frozenset({"admonition-title"}),
    "span": PYGMENTS_TOKEN_CLASSES | {"hll"},
    "table": frozenset({"table"}),
}
_LANGUAGE_CLASS = re.compile(r"language-[a-z0-9][a-z0-9_+#.-]*\Z")


@dataclass(frozen=True)
class Heading:
    id: str
    text: str
    level: int


@dataclass(frozen=True)
class Rendered:
    html: str
    headings: tuple[Heading, ...]  # every h2 and h3, in document order


class _CodeFormatter(HtmlFormatter):
    """Pygments HTML that keeps the fence's language as a class on <code>."""

    def __init__(self, lang_str: str = "", **options):
        super().__init__(**options)
        self.lang_str = lang_str

    def _wrap_code(self, source: Iterator) -> Iterator:
        if self.lang_str:
            yield 0, f'<code class="{html.escape(self.lang_str)}">'
        else:
            yield 0, "<code>"
        yield from source
        yield 0, "</code>"


def _slugify(value: str, separator: str) -> str:
    slug = slugify(value, separator) or "section"
    return f"{slug}{separator}section" if slug in RESERVED_IDS else slug


class _HeadingAnchors(Treeprocessor):
    """Append a visible "#" permalink to every h2/h3 (after the toc extension gave ids)."""

    def run(self, root: ElementTree.Element) -> None:
        headings = [element for element in root.iter() if element.tag in ANCHORED_TAGS]
        for heading in headings:
            anchor_id = heading.get("id")
            if not anchor_id:
                continue
            text = " ".join(html.unescape(strip_tags(render_inner_html(heading, self.md))).split())
            if len(heading):
                heading[-1].tail = (heading[-1].tail or "") + " "
            else:
                heading.text = (heading.text or "") + " "
            link = ElementTree.SubElement(
                heading,
                "a",
                {
                    "class": "heading-anchor",
                    "href": f"#{anchor_id}",
                    "aria-label": f"Link to this section: {text}",
                },
            )
            link.text = "#"


class _TableWrap(Treeprocessor):
    """Give tables the portal's table style, in a wrapper that scrolls on narrow screens."""

    def run(self, root: ElementTree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag != "table":
                    continue
                wrapper = ElementTree.Element("div", {"class": "table-wrap"})
                wrapper.tail, child.tail = child.tail, None
                child.set("class", "table")
                parent.remove(child)
                wrapper.append(child)
                parent.insert(index, wrapper)


class _DocsExtension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # The toc extension assigns ids at priority 5; anchors need them.
        md.treeprocessors.register(_HeadingAnchors(md), "docs_heading_anchors", 4)
        md.treeprocessors.register(_TableWrap(md), "docs_table_wrap", 3)


def _markdown() -> markdown.Markdown:
    # A Markdown instance keeps state between conversions: one per conversion.
    return markdown.Markdown(
        extensions=[
            "fenced_code",
            "tables",
            "sane_lists",
            "admonition",
            "codehilite",
            "toc",
            _DocsExtension(),
        ],
        extension_configs={
            "codehilite": {
                "css_class": HIGHLIGHT_CSS_CLASS,
                "guess_lang": False,
                "pygments_formatter": _CodeFormatter,
                "lang_prefix": "language-",
            },
            "toc": {"slugify": _slugify, "toc_depth": "2-3"},
        },
        output_format="html",
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    if tag == "code":
        kept = [name for name in value.split() if _LANGUAGE_CLASS.match(name)]
    else:
        allowed = ALLOWED_CLASSES.get(tag, frozenset())
        kept = [name for name in value.split() if name in allowed]
    return " ".join(kept) or None


def sanitize(fragment: str) -> str:
    """Reduce an HTML fragment to the docs allow-list: no script, handler or style survives."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> Rendered:
    """Render Markdown to sanitized HTML, with its h2/h3 headings for the page's contents."""
    md = _markdown()
    body = sanitize(md.convert(source))
    headings = tuple(
        Heading(id=token["id"], text=html.unescape(token["name"]), level=token["level"])
        for token in _flatten(md.toc_tokens)
    )
    return Rendered(html=body, headings=headings)


def _flatten(tokens: list[dict]) -> Iterator[dict]:
    for token in tokens:
        yield token
        yield from _flatten(token["children"])


def highlight_css() -> str:
    """The Pygments rules docs.css carries, scoped to code blocks (no global `pre` rules)."""
    formatter = HtmlFormatter(style=PYGMENTS_STYLE)
    selector = f".{HIGHLIGHT_CSS_CLASS}"
    rules = formatter.get_background_style_defs(selector) + formatter.get_token_style_defs(selector)
    return "\n".join(rules) + "\n"
