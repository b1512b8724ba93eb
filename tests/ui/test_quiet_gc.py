"""Full garbage collections wait for a pause in the typing (issue 8's keystroke budget).

Python's automatic full collections landed on keystrokes now and then (16-38 ms each on the
10,000-person search, most of a slow keystroke). While the desk runs they are off; the desk
collects once the typing has paused, and puts Python's setting back when it closes."""

from __future__ import annotations

import gc

from deskpilot import SIZE, unlock

from hubdesk.app import FULL_GC_AFTER_QUIET, NO_AUTOMATIC_FULL_GC


async def test_full_collections_wait_for_a_pause_and_the_setting_is_put_back(desk_app) -> None:
    before = gc.get_threshold()
    now = [1000.0]
    desk_app._monotonic = lambda: now[0]
    async with desk_app.run_test(size=SIZE) as pilot:
        assert gc.get_threshold()[2] == NO_AUTOMATIC_FULL_GC
        await unlock(pilot)
        now[0] += 1
        desk_app.last_activity = now[0]  # a key just now
        assert not desk_app.collect_when_quiet()  # typing: no full collection
        now[0] += FULL_GC_AFTER_QUIET + 0.5
        collected = gc.get_stats()[2]["collections"]
        assert desk_app.collect_when_quiet()  # a pause: one full collection
        assert gc.get_stats()[2]["collections"] == collected + 1
        now[0] += 60
        assert not desk_app.collect_when_quiet()  # nothing happened since: not again
        desk_app.last_activity = now[0]
        now[0] += FULL_GC_AFTER_QUIET + 0.5
        assert desk_app.collect_when_quiet()
    assert gc.get_threshold() == before
