"""Console roles and the flow view in Debian's chromium: the role is shown, a viewer cannot
replay (and a forced post is refused naming the operator role), an operator can, and the
flows page draws the payment flow as an SVG."""

from __future__ import annotations

from tests.e2e.console.conftest import Stack
from tests.e2e.console.test_console import sign_in


def test_a_viewer_sees_its_role_and_no_usable_operate_action(page, stack: Stack):
    sign_in(page, stack, stack.viewer_token)
    assert page.inner_text("#role") == "viewer"
    page.goto(f"{stack.url}/dead-letters")
    assert "operator role" in page.inner_text("#viewer-note")
    buttons = page.locator("#dead-postings button").all()
    assert buttons and all(button.is_disabled() for button in buttons)

    # Enabling the button by hand does not help: the server refuses and names the role.
    page.eval_on_selector("#dead-postings button", "b => b.removeAttribute('disabled')")
    page.click("#dead-postings button")
    assert page.inner_text("h1") == "Operator access needed"
    assert "--role operator" in page.inner_text("#problem")
    assert stack.scalar("SELECT state FROM postings WHERE state = 'dead'") == "dead"


def test_an_operator_sees_its_role_and_usable_actions(page, stack: Stack):
    sign_in(page, stack, stack.operator_token)
    assert page.inner_text("#role") == "operator"
    page.goto(f"{stack.url}/dead-letters")
    assert page.locator("#viewer-note").count() == 0
    assert all(b.is_enabled() for b in page.locator("#dead-postings button").all())


def test_the_flow_view_draws_the_payment_flow(page, stack: Stack):
    sign_in(page, stack, stack.viewer_token)
    page.click("nav >> text=Flows")
    svg = page.locator('svg[data-flow="payments"]')
    assert svg.is_visible()
    for node in (
        "source:webhook",
        "source:schedule",
        "step:paytrace.poll",
        "step:payment.process",
        "step:journal.flush",
        "template:d365_payment_journal_line",
        "entity:d365:CustomerPaymentJournalLines",
    ):
        box = svg.locator(f'g[data-node="{node}"]')
        assert box.count() == 1, node
        assert box.bounding_box()["width"] > 50, node  # drawn, not collapsed
    assert (
        "version default"
        in svg.locator('g[data-node="template:d365_payment_journal_line"]').text_content()
    )
    assert svg.locator("path.edge").count() >= 10
    assert svg.locator("g.node-off").count() == 0  # both systems are enabled in this stack
