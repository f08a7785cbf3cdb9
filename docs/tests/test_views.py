from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.html import escape

from docs.pages import all_pages

PAGES = all_pages()
SLUGS = [page.slug for page in PAGES]
PREVIEW_NOTICE = (
    "Preview: this part of the platform is being built; "
    "the details below are the contract we are building to."
)
# The session's user, the header's organization switcher and the next-lane banner (for a
# person with no workspace, their account-access facts). Constant, never per page.
SIGNED_IN_QUERY_BOUND = 12


class _Elements(HTMLParser):
    """Collects (tag, attributes) of every start tag, in document order."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements_of(response) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(response.content.decode())
    return parser.elements


def page_by_slug(slug):
    return next(page for page in PAGES if page.slug == slug)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_renders_its_title_under_the_public_docs_band(client, slug):
    # given an anonymous visitor
    page = page_by_slug(slug)

    # when they open the page
    response = client.get(reverse("docs:page", args=[slug]))

    # then it renders with its title, in the Public docs stage
    assert response.status_code == 200
    assert f"<h1 id=\"docs-page-title\">{page.title}</h1>" in response.content.decode()
    assert f"<title>{page.title} · Public docs · Developer portal</title>" in (
        response.content.decode()
    )
    assert '<strong class="stage-band__label">Public docs</strong>' in response.content.decode()


@pytest.mark.django_db
def test_index_lists_every_page_with_its_summary_in_order(client):
    # when an anonymous visitor opens the documentation
    response = client.get(reverse("docs:index"))

    # then every page is listed, in order, with a link and its summary
    assert response.status_code == 200
    html = response.content.decode()
    assert '<strong class="stage-band__label">Public docs</strong>' in html
    positions = [html.index(f'href="{reverse("docs:page", args=[slug])}"') for slug in SLUGS]
    assert positions == sorted(positions)
    for page in PAGES:
        assert page.summary in html


@pytest.mark.django_db
def test_unknown_slug_is_404(client):
    response = client.get(reverse("docs:page", args=["no-such-page"]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_docs_answer_get_only(client):
    response = client.post(reverse("docs:page", args=[SLUGS[0]]))

    assert response.status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_sidebar_marks_only_the_current_page(client, slug):
    response = client.get(reverse("docs:page", args=[slug]))

    current = [
        attrs["href"]
        for tag, attrs in elements_of(response)
        if tag == "a" and attrs.get("aria-current") == "page"
    ]
    # The site header's "Docs" link is current too: the whole section is docs.
    assert current == [reverse("docs:index"), reverse("docs:page", args=[slug])]


@pytest.mark.django_db
def test_index_marks_the_overview_as_current(client):
    response = client.get(reverse("docs:index"))

    current = [
        attrs["href"]
        for tag, attrs in elements_of(response)
        if tag == "a" and attrs.get("aria-current") == "page"
    ]
    assert current == [reverse("docs:index"), reverse("docs:index")]


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_on_this_page_lists_the_h2_headings_which_have_permalinks(client, slug):
    # given a page and its h2 sections
    page = page_by_slug(slug)

    # when it is shown
    response = client.get(reverse("docs:page", args=[slug]))
    elements = elements_of(response)

    # then "On this page" links to each h2, and each heading links to itself
    html = response.content.decode()
    assert '<h2 id="docs-toc-title" class="docs-toc__title">On this page</h2>' in html
    for section in page.sections:
        assert f'<li><a href="#{section.id}">{escape(section.text)}</a></li>' in html
    heading_ids = {attrs["id"] for tag, attrs in elements if tag in {"h2", "h3"} and "id" in attrs}
    anchors = [attrs for tag, attrs in elements if attrs.get("class") == "heading-anchor"]
    assert len(anchors) == len(page.headings)
    for anchor in anchors:
        assert anchor["href"].removeprefix("#") in heading_ids
        assert anchor["aria-label"].startswith("Link to this section: ")


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_ids_are_unique_on_every_page(client, slug):
    # Heading ids come from Markdown, the others from the layout: they must not collide.
    response = client.get(reverse("docs:page", args=[slug]))

    ids = [attrs["id"] for _tag, attrs in elements_of(response) if attrs.get("id")]
    assert len(ids) == len(set(ids))


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_preview_notice_appears_exactly_on_preview_pages(client, slug):
    page = page_by_slug(slug)

    response = client.get(reverse("docs:page", args=[slug]))

    assert response.content.decode().count(PREVIEW_NOTICE) == (1 if page.is_preview else 0)


@pytest.mark.django_db
def test_a_preview_page_shows_the_notice_once(client, tmp_path, monkeypatch):
    # Every shipped page describes what exists today, so make a preview page to show
    # that the notice test above would see one.
    from docs import pages, views

    (tmp_path / "upcoming.md").write_text(
        "---\ntitle: Upcoming\norder: 1\nsummary: Soon.\nstatus: preview\n---\n\nText.\n")
    monkeypatch.setattr(views, "all_pages", lambda: pages.all_pages(tmp_path))

    response = client.get(reverse("docs:page", args=["upcoming"]))

    assert response.content.decode().count(PREVIEW_NOTICE) == 1


@pytest.mark.django_db
def test_index_shows_no_preview_notice(client):
    response = client.get(reverse("docs:index"))

    assert PREVIEW_NOTICE not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_pages_load_docs_assets_and_nothing_inline(client, slug):
    # given the strict CSP (script-src 'self', style-src 'self'): nothing inline may appear
    response = client.get(reverse("docs:page", args=[slug]))
    elements = elements_of(response)

    scripts = [attrs for tag, attrs in elements if tag == "script"]
    assert all(attrs.get("src") for attrs in scripts)
    assert "/static/js/docs.js" in [attrs["src"] for attrs in scripts]
    stylesheets = [attrs["href"] for tag, attrs in elements if tag == "link"]
    assert "/static/css/docs.css" in stylesheets
    assert not [tag for tag, attrs in elements if tag == "style"]
    assert not [tag for tag, attrs in elements if "style" in attrs]
    assert not [(tag, name) for tag, attrs in elements for name in attrs if name.startswith("on")]
    assert 'id="docs-live"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_every_code_block_is_served_with_its_language_class(client, slug):
    response = client.get(reverse("docs:page", args=[slug]))
    elements = elements_of(response)

    block_classes = []
    for index, (tag, _attrs) in enumerate(elements):
        if tag == "pre":
            code = next(attrs for tag, attrs in elements[index:] if tag == "code")
            block_classes.append(code.get("class") or "")
    assert all(name.startswith("language-") for name in block_classes)


@pytest.mark.django_db
def test_webhooks_page_serves_highlighted_python(client):
    response = client.get(reverse("docs:page", args=["webhooks"]))

    html = response.content.decode()
    assert '<code class="language-python">' in html
    assert '<span class="kn">import</span>' in html


@pytest.mark.django_db
def test_anonymous_visitor_costs_no_query(client, django_assert_max_num_queries):
    # warm the per-process Markdown cache outside the measured requests
    client.get(reverse("docs:index"))

    with django_assert_max_num_queries(0):
        assert client.get(reverse("docs:index")).status_code == 200
    for slug in SLUGS:
        with django_assert_max_num_queries(0):
            assert client.get(reverse("docs:page", args=[slug])).status_code == 200


@pytest.mark.django_db
def test_signed_in_visitor_costs_a_small_constant_number_of_queries(
    signed_in_client, django_assert_max_num_queries
):
    signed_in_client.get(reverse("docs:index"))

    with django_assert_max_num_queries(SIGNED_IN_QUERY_BOUND):
        assert signed_in_client.get(reverse("docs:index")).status_code == 200
    for slug in SLUGS:
        with django_assert_max_num_queries(SIGNED_IN_QUERY_BOUND):
            response = signed_in_client.get(reverse("docs:page", args=[slug]))
        assert response.status_code == 200
        # signed in or not, the docs stay in the Public docs stage
        assert "Public docs" in response.content.decode()
