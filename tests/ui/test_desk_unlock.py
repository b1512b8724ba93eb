"""Set up a new store, unlock, a wrong passphrase, and the growing delay."""

from __future__ import annotations

from pathlib import Path

from deskpilot import PASSPHRASE, SIZE, screen_name, unlock

from hubdesk.app import make_app
from hubdesk.screens.unlock import delay_after
from hubdesk.store.store import Store


async def test_first_run_sets_up_store_and_shows_recovery_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "new"
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert screen_name(app) == "SetupScreen"
        screen = app.screen
        for widget_id, value in {
            "hub_code": "dew",
            "hub_name": "Dewsbury hub",
            "login": "priya",
            "display_name": "Priya Test",
            "passphrase": PASSPHRASE,
            "confirm": "not the same",
        }.items():
            screen.query_one(f"#{widget_id}").value = value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(app) == "SetupScreen"
        assert "not the same" in screen.query_one("#field-confirm").error
        assert not (data_dir / "hubdesk.db").exists()

        screen.query_one("#confirm").value = PASSPHRASE
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(app) == "RecoveryCodeScreen"
        code = app.screen.code
        assert code
        await pilot.press("ctrl+s")  # not ticked yet: stays
        await pilot.pause()
        assert screen_name(app) == "RecoveryCodeScreen"
        app.screen.query_one("#written").value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert screen_name(app) == "DeskScreen"
        assert app.store is not None and app.store.user.login == "priya"
    # Read back: the store exists, opens with the passphrase and with the recovery code.
    with Store.unlock(data_dir, "priya", PASSPHRASE) as store:
        assert store.hub_code == "DEW"
        assert store.get_user("priya").role == "duty_manager"
    with Store.recover(data_dir, code) as store:
        assert store.hub_code == "DEW"


async def test_unlock_opens_the_desk(desk_app, store) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert screen_name(desk_app) == "DeskScreen"
        assert desk_app.store.user.login == "sam"
    # The unlock is in the audit chain.
    rows = store._rows("SELECT actor, action FROM audit WHERE action = 'unlock' ORDER BY seq")
    assert rows[-1] == ("sam", "unlock")


async def test_wrong_passphrase_says_so_and_slows_down(desk_app) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot, passphrase="wrong passphrase")
        assert screen_name(desk_app) == "UnlockScreen"
        message = str(desk_app.screen.query_one("#unlock-message").content)
        assert "Wrong user or passphrase" in message
        assert desk_app.screen.query_one("#passphrase").value == ""
        await unlock(pilot, passphrase="still wrong")
        assert desk_app.failed_unlocks == 2
        assert "Wait 1 s" in str(desk_app.screen.query_one("#unlock-message").content)
        assert desk_app.screen.query_one("#passphrase").disabled
        assert desk_app.store is None
        # A passphrase typed again during the wait never lands in the user box, in clear.
        login = desk_app.screen.query_one("#login")
        await pilot.press(*"correct horse")
        assert "horse" not in login.value
        assert desk_app.focused is not login


def test_delay_grows() -> None:
    assert [delay_after(n) for n in range(1, 8)] == [0, 1, 2, 4, 8, 16, 30]


async def test_forgotten_passphrase_reset_with_recovery_key(desk_app, store, data_dir) -> None:
    code = store.recovery_code
    async with desk_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen_name(desk_app) == "RecoverModal"
        modal = desk_app.screen
        modal.query_one("#recovery-code").value = "not the code"
        modal.query_one("#recover-login").value = "sam"
        modal.query_one("#new-passphrase").value = "a brand new phrase"
        modal.query_one("#new-confirm").value = "a brand new phrase"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "does not open" in str(modal.query_one("#recover-error").content)
        modal.query_one("#recovery-code").value = code
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "UnlockScreen"
        assert desk_app.screen.query_one("#login").value == "sam"
        await unlock(pilot, passphrase="a brand new phrase")
        assert screen_name(desk_app) == "DeskScreen"
    with Store.unlock(data_dir, "sam", "a brand new phrase") as again:
        assert again.user.login == "sam"


async def test_login_can_be_filled_in_but_never_the_passphrase(store, data_dir) -> None:
    app = make_app(data_dir, login="nadia")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#login").value == "nadia"
        assert app.screen.query_one("#passphrase").value == ""
