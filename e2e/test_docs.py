import pytest
from playwright.sync_api import Page, expect


@pytest.mark.django_db(transaction=True)
def test_reader_copies_a_code_block_from_the_docs(page: Page, live_server, shoot):
    # given a docs page whose code blocks each get a Copy button
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/docs/getting-started/")
    block = page.locator(".docs-body .highlight").filter(has_text="read -rs SANDBOX_KEY")

    # when the reader presses its Copy button
    block.get_by_role("button", name="Copy").click()

    # then the button and the live region say so, and the clipboard holds the code
    expect(block.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "read -rs SANDBOX_KEY && export SANDBOX_KEY"
    )
    shoot("docs-code-copied")
