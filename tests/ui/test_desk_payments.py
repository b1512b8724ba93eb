"""Payments: under the limit, over it with a duty manager's approval, a wrong manager
passphrase, saved awaiting approval, and a reversal."""

from __future__ import annotations

from deskpilot import PASSPHRASE, SIZE, screen_name, unlock

from hubdesk.domain.enums import PaymentMethod, PaymentStatus
from hubdesk.domain.money import format_pence


async def open_payment_form(pilot, who: str = "kayden") -> None:
    await pilot.press("p", *who, "enter")
    await pilot.pause()
    assert screen_name(pilot.app) == "PaymentFormScreen"


async def fill(pilot, *, category: str, amount: str, method: str, reason: str, serial: str = "") -> None:
    form = pilot.app.screen
    form.query_one("#category").value = category
    form.query_one("#method").value = method
    await pilot.pause()
    form.query_one("#amount").focus()
    await pilot.press(*amount)
    if serial:
        form.query_one("#voucher_serial").value = serial
    form.query_one("#reason").value = reason
    await pilot.pause()


async def test_payment_under_limit(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE, notifications=True) as pilot:
        await unlock(pilot)
        await open_payment_form(pilot)
        await fill(pilot, category="travel", amount="12.5", method="cash", reason="Bus fare to a job interview")
        assert desk_app.screen.query_one("#authorisation").content == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        payments = desk_app.screen.query_one("#payments")
        assert payments.row_count == 1
        # The receipt number to read out stays on screen long enough to read.
        toasts = [n for n in desk_app._notifications if "Receipt DEW-1-000001" in n.message]
        assert toasts and toasts[0].timeout == 30
        assert str(payments.get_row_at(0)[4]) == "£12.50"
    [payment] = store.payments_for_person(people["kayden"].id)
    assert payment.amount_pence == 1250
    assert payment.status is PaymentStatus.APPROVED
    assert payment.authorised_by == "sam" and payment.recorded_by == "sam"
    assert payment.method is PaymentMethod.CASH


async def test_voucher_needs_serial_and_bad_money_is_named(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_payment_form(pilot)
        await fill(pilot, category="food-voucher", amount="15.", method="voucher", reason="No food until Friday")
        form = desk_app.screen
        form.query_one("#amount").value = "15.999"
        await pilot.pause()
        assert "pounds and pence" in form.query_one("#field-amount").error
        form.query_one("#amount").value = "15"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "PaymentFormScreen"
        assert "serial" in form.query_one("#field-voucher_serial").error
        assert store.count("payments") == 0
        form.query_one("#voucher_serial").value = "FV-0042"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [payment] = store.payments_for_person(people["kayden"].id)
    assert payment.voucher_serial == "FV-0042" and payment.amount_pence == 1500


async def test_over_limit_approved_by_duty_manager(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_payment_form(pilot)
        await fill(
            pilot,
            category="gas",
            amount="30.00",
            method="utility_top_up",
            reason="No gas since Saturday, heating and hot water off",
        )
        form = desk_app.screen
        assert "authorisation limit of £25.00" in str(form.query_one("#authorisation").content)
        form.query_one("#voice").value = "I didn't want to ask Tom again"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        assert desk_app.focused.id == "manager-passphrase"
        await pilot.press(*PASSPHRASE, "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [payment] = store.payments_for_person(people["kayden"].id)
    assert payment.amount_pence == 3000
    assert payment.status is PaymentStatus.APPROVED
    assert payment.authorised_by == "nadia" and payment.recorded_by == "sam"
    assert payment.voice == "I didn't want to ask Tom again"
    approvals = store._rows("SELECT actor, detail FROM audit WHERE action = 'approve'")
    assert ("sam", "by nadia") in approvals


async def test_wrong_manager_passphrase_then_saved_awaiting(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_payment_form(pilot)
        await fill(pilot, category="gas", amount="30", method="utility_top_up", reason="No gas since Saturday")
        await pilot.press("ctrl+s")
        await pilot.pause()
        modal = desk_app.screen
        await pilot.press(*"not her passphrase", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        assert "Wrong passphrase for Nadia Test-Manager" in str(modal.query_one("#approval-error").content)
        assert modal.query_one("#manager-passphrase").value == ""
        assert store.count("payments") == 0
        await pilot.press("ctrl+w")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        assert "AWAITING" in str(desk_app.screen.query_one("#payments").get_row_at(0)[5])
    [payment] = store.payments_for_person(people["kayden"].id)
    assert payment.status is PaymentStatus.AWAITING_APPROVAL
    assert payment.authorised_by is None
    assert [p.id for p in store.awaiting_approval()] == [payment.id]


async def test_escape_from_approval_keeps_the_form(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_payment_form(pilot)
        await fill(pilot, category="gas", amount="30", method="utility_top_up", reason="No gas")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "PaymentFormScreen"
        assert desk_app.screen.query_one("#amount").value == "30"
    assert store.count("payments") == 0


async def test_reversal_with_reason(desk_app, store, people) -> None:
    wrong = store.record_payment(
        person_id=people["zeb"].id,
        category="food-voucher",
        amount_pence=5100,
        method="voucher",
        voucher_serial="FV-1",
        reason="Food voucher",
        approver=store.verify_manager("nadia", PASSPHRASE, 5100),
    )
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"zeb", "enter")
        await pilot.pause()
        person = desk_app.screen
        assert person.query_one("#person-payments").row_count == 1
        assert str(person.query_one("#person-payments").get_row_at(0)[3]) == format_pence(5100)
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press("enter")  # no reason: refused
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press(*"typed wrong amount", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        assert person.query_one("#person-payments").get_row_at(0)[5] == "reversed"
        # The right one is recorded after; both stay in the history.
        await pilot.press("p")
        await pilot.pause()
        await fill(pilot, category="food-voucher", amount="15", method="voucher", reason="Food voucher", serial="FV-1b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        assert person.query_one("#person-payments").row_count == 2
    [reversal] = store.reversals()
    assert reversal.payment_id == wrong.id and reversal.reason == "typed wrong amount"
    assert store.payment_state(wrong.id) == "reversed"
    amounts = sorted(p.amount_pence for p in store.payments_for_person(people["zeb"].id))
    assert amounts == [1500, 5100]
