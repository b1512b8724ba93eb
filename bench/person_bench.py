"""The person screen with a young person's circumstances (issue 11): open < 100 ms on the
10,000-person demo store, measured through Textual's Pilot from the push of the screen to
its details drawn (the record read and audited as a view, contacts, payments, sync states)."""

from __future__ import annotations

import asyncio
import time

from bench.common import PASSPHRASE, Result, demo_store, median, p95

_marks: dict[str, float] = {}
loads: list[float] = []  # of each open, the part reading the store and filling the screen


def _watch_details() -> None:
    """Note when the person's details first draw: opening ends there, not at Pilot's idle."""
    from textual.widgets import Static

    if getattr(Static, "_person_bench_wrapped", False):
        return
    original = Static.render

    def render(self):
        if self.id == "person-details" and "pushed" in _marks:
            _marks.setdefault("drawn", time.perf_counter())
        return original(self)

    Static.render = render
    Static._person_bench_wrapped = True

    from hubdesk.screens.person import PersonScreen

    original_mount = PersonScreen.on_mount

    def on_mount(self):
        start = time.perf_counter()
        original_mount(self)
        _marks["mount"] = time.perf_counter() - start

    PersonScreen.on_mount = on_mount


def _people(path) -> list[str]:
    """Twenty of the desk's own young people with circumstances and the most contacts."""
    from hubdesk.store.store import Store

    store = Store.unlock(path, "sam", PASSPHRASE)
    try:
        rows = store._rows(
            "SELECT p.id FROM people p JOIN contacts c ON c.person_id = p.id "
            "WHERE p.hub_code = ? AND p.accommodation_kind IS NOT NULL AND p.plan_next_due IS NOT NULL "
            "GROUP BY p.id ORDER BY count(*) DESC LIMIT 20",
            [store.hub_code],
        )
    finally:
        store.lock()
    return [r[0] for r in rows]


async def _open_people(path, ids: list[str]) -> list[float]:
    from hubdesk.app import make_app
    from hubdesk.screens.desk import DeskScreen
    from hubdesk.screens.person import PersonScreen

    _watch_details()
    app = make_app(path)
    samples: list[float] = []
    loads.clear()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#login").value = "sam"
        app.screen.query_one("#passphrase").focus()
        app.screen.query_one("#passphrase").value = PASSPHRASE
        await pilot.press("enter")
        deadline = time.monotonic() + 60
        while not isinstance(app.screen, DeskScreen):
            if time.monotonic() > deadline:
                raise RuntimeError("the desk did not unlock")
            await pilot.pause(0.005)
        await pilot.pause()
        for pid in ids:
            _marks.clear()
            _marks["pushed"] = time.perf_counter()
            app.push_screen(PersonScreen(pid))
            deadline = time.monotonic() + 10
            while "drawn" not in _marks:
                if time.monotonic() > deadline:
                    raise RuntimeError("the person screen did not draw")
                await pilot.pause(0.001)
            samples.append(_marks["drawn"] - _marks["pushed"])
            loads.append(_marks.get("mount", float("nan")))
            details = str(app.screen.query_one("#person-details").content)
            assert "Accommodation:" in details and "Pathway plan:" in details, "no circumstances shown"
            await pilot.press("escape")
            await pilot.pause()
    return samples


def run() -> list[Result]:
    path = demo_store(10_000, 7, seed=13)
    ids = _people(path)
    samples: list[float] = []
    data: list[float] = []
    for _ in range(3):
        samples += asyncio.run(_open_people(path, ids))
        data += loads
    return [
        Result(
            "person screen with circumstances open (Pilot), 10,000",
            median(samples) * 1000,
            "ms",
            100,
            f"p95 {p95(samples) * 1000:.1f} ms, n={len(samples)}; reading and filling {median(data) * 1000:.1f} ms",
        )
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
