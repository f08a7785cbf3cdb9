from docs.rendering import Heading, highlight_css, render_markdown, sanitize


def test_script_element_is_removed_with_its_content():
    # given Markdown with a raw <script> block
    source = "Before.\n\n<script>alert('owned')</script>\n\nAfter.\n"

    # when it is rendered
    html = render_markdown(source).html

    # then neither the element nor its code survives
    assert "<script" not in html
    assert "alert" not in html
    assert "<p>Before.</p>" in html
    assert "<p>After.</p>" in html


def test_inline_event_handler_is_stripped_and_the_link_kept():
    # given a raw link with an onclick handler
    source = 'Click <a href="/docs/" onclick="steal()">here</a>.\n'

    # when it is rendered
    html = render_markdown(source).html

    # then the handler is gone and the link remains, with rel="noopener"
    assert "onclick" not in html
    assert "steal" not in html
    assert '<a href="/docs/" rel="noopener">here</a>' in html


def test_style_attributes_and_style_elements_are_removed():
    # given raw HTML with inline style, which the CSP would refuse anyway
    source = '<p style="color: red">Red</p>\n\n<style>body { display: none }</style>\n'

    # when it is rendered
    html = render_markdown(source).html

    # then no style survives
    assert "style" not in html
    assert "display: none" not in html
    assert "<p>Red</p>" in html


def test_javascript_urls_lose_their_href():
    # given a Markdown link with a javascript: URL
    html = render_markdown("[click](javascript:alert(1))\n").html

    # then the URL is dropped
    assert "javascript" not in html


def test_markdown_links_get_rel_noopener():
    html = render_markdown("See [the spec](https://www.standardwebhooks.com/).\n").html

    assert '<a href="https://www.standardwebhooks.com/" rel="noopener">the spec</a>' in html


def test_unknown_tags_and_classes_are_dropped_by_the_allow_list():
    # given tags and classes outside the allow-list
    fragment = (
        '<iframe src="https://portal.example.com/"></iframe>'
        '<img src="x.png" onerror="steal()">'
        '<span class="k evil">if</span><div class="highlight pwned">x</div>'
    )

    # when it is sanitized
    html = sanitize(fragment)

    # then only the allowed classes remain
    assert html == '<span class="k">if</span><div class="highlight">x</div>'


def test_headings_get_ids_and_visible_permalinks_with_an_accessible_label():
    # given two headings
    source = "## Verifying signatures\n\nText.\n\n### With the `standardwebhooks` package\n"

    # when rendered
    rendered = render_markdown(source)

    # then each has an id and a "#" link to it, labelled with the heading's text
    assert '<h2 id="verifying-signatures">Verifying signatures <a' in rendered.html
    assert (
        '<a aria-label="Link to this section: Verifying signatures" class="heading-anchor"'
        ' href="#verifying-signatures" rel="noopener">#</a></h2>'
    ) in rendered.html
    assert 'id="with-the-standardwebhooks-package"' in rendered.html
    assert (
        'aria-label="Link to this section: With the standardwebhooks package"' in rendered.html
    )
    assert rendered.headings == (
        Heading(id="verifying-signatures", text="Verifying signatures", level=2),
        Heading(
            id="with-the-standardwebhooks-package",
            text="With the standardwebhooks package",
            level=3,
        ),
    )


def test_repeated_headings_get_distinct_ids():
    rendered = render_markdown("## Example\n\n## Example\n")

    assert [heading.id for heading in rendered.headings] == ["example", "example_1"]


def test_a_heading_never_takes_an_id_the_layout_uses():
    # given a heading whose slug is the id of the page's <main>
    rendered = render_markdown("## Main\n")

    # then it gets another id
    assert rendered.headings == (Heading(id="main-section", text="Main", level=2),)
    assert 'id="main"' not in rendered.html


def test_code_blocks_keep_their_language_class_and_pygments_classes():
    # given fenced code blocks with and without a language
    source = '```python\nimport hmac\n```\n\n```json\n{"ok": true}\n```\n\n```\nplain\n```\n'

    # when rendered
    html = render_markdown(source).html

    # then each <code> names its language, tokens are classes and nothing is inline-styled
    assert '<div class="highlight"><pre><span></span><code class="language-python">' in html
    assert '<span class="kn">import</span>' in html
    assert '<code class="language-json">' in html
    assert '<code class="language-text">plain' in html
    assert "style=" not in html


def test_tables_are_kept():
    html = render_markdown("| Code | Status |\n|---|---|\n| `REVOKED` | 401 |\n").html

    assert '<div class="table-wrap"><table class="table">' in html.replace("\n", "")
    assert "<th>Code</th>" in html
    assert "<td><code>REVOKED</code></td>" in html


def test_highlight_css_is_scoped_to_code_blocks():
    # Pygments' default output also styles every <pre> on the site; ours must not.
    css = highlight_css()

    rules = [line for line in css.splitlines() if line.strip()]
    assert rules
    assert all(line.startswith(".highlight") for line in rules)
