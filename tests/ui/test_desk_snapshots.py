"""Screenshots of the desk, a person, a payment form with errors and the lock screen at
120x40, compared with the SVGs in tests/ui/snapshots/. Set HUBDESK_UPDATE_SNAPSHOTS=1 to
rewrite them after a deliberate change to the look (and look at them before committing)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from deskpilot import SIZE, unlock
from textual.widgets import Input

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(autouse=True)
def _same_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR (and friends) in a developer's shell would change every pixel of the SVG."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_THEME"):
        monkeypatch.delenv(name, raising=False)


def _normalise(svg: str) -> str:
    # Textual names each export with a random terminal id; nothing else varies run to run.
    return re.sub(r"terminal-\d+", "terminal", svg)


def check(app, name: str) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    svg = _normalise(app.export_screenshot(title="hubdesk"))
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("HUBDESK_UPDATE_SNAPSHOTS") or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if svg != expected:
        failed = path.with_suffix(".actual.svg")
        failed.write_text(svg, encoding="utf-8")
        pytest.fail(f"{name} looks different: compare {path.name} with {failed.name}")


async def test_snapshots(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        desk_app.last_login = ""
        await pilot.pause()
        check(desk_app, "unlock")
        await unlock(pilot)
        await pilot.press("v", *"kayden", "enter")
        await pilot.pause()
        await pilot.press("space", "tab", *"Gas meter", "ctrl+s")
        await pilot.pause()
        desk_app.screen.refresh_data()
        await pilot.pause()
        check(desk_app, "desk")
        await pilot.press("slash", *"amira", "enter")
        await pilot.pause()
        check(desk_app, "person")
        await pilot.press("p")
        await pilot.pause()
        desk_app.screen.query_one("#amount").value = "12.345"
        await pilot.press("ctrl+s")
        await pilot.pause()
        check(desk_app, "payment-errors")
        await pilot.press("ctrl+l")
        await pilot.pause()
        check(desk_app, "locked")
