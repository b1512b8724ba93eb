"""The wait after wrong passphrases is the store's: a desk started afresh still waits."""

from __future__ import annotations

from deskpilot import SIZE, screen_name, unlock

from hubdesk.app import make_app
from hubdesk.store.unlocks import UnlockLog


async def test_a_restarted_desk_still_waits_after_wrong_passphrases(desk_app, data_dir, clock) -> None:
    # Four wrong tries for sam, as an earlier run of the desk (or the command line) left them.
    log = UnlockLog(data_dir)
    for _ in range(4):
        log.failed("sam")
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)  # the right passphrase, too soon
        assert screen_name(desk_app) == "UnlockScreen"
        assert desk_app.store is None
        message = str(desk_app.screen.query_one("#unlock-message").content)
        assert "Too many wrong passphrases for 'sam'" in message and "Wait 4 s" in message
        assert desk_app.screen.query_one("#passphrase").disabled
    # Another user, on a desk started again, is not held up by sam's count.
    again = make_app(data_dir, clock=clock, idle_minutes=5)
    async with again.run_test(size=SIZE) as pilot:
        await unlock(pilot, login="nadia")
        assert screen_name(again) == "DeskScreen"
