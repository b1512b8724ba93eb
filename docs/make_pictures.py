"""The user guide's pictures, taken from the desk itself: `python docs/make_pictures.py`.

Builds a synthetic demo store (fake people only) for a fixed day, drives the real app
with Textual's Pilot at 100x30, and saves each screen as SVG in docs/pictures/. Run it
again after a screen changes and commit the pictures with the change.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from textual.pilot import Pilot

from hubdesk.app import make_app
from hubdesk.demo import DEMO_PASSPHRASE, build_demo

PICTURES = Path(__file__).resolve().parent / "pictures"
DAY = date(2026, 11, 25)  # a Wednesday
# Late in the day, so the desk shows the day's work (the demo's history ends the day before
# the `today` it is given).
NOW = datetime(2026, 11, 25, 15, 45, tzinfo=ZoneInfo("Europe/London"))
SIZE = (100, 30)


async def settle(pilot: Pilot, times: int = 4) -> None:
    for _ in range(times):
        await pilot.pause(0.05)


async def shoot(pilot: Pilot, name: str) -> None:
    await settle(pilot)
    pilot.app.save_screenshot(filename=f"{name}.svg", path=str(PICTURES))
    print(f"  {name}.svg  ({type(pilot.app.screen).__name__})")


async def escape_to_desk(pilot: Pilot) -> None:
    for _ in range(4):
        if type(pilot.app.screen).__name__ == "DeskScreen":
            return
        await pilot.press("escape")
        await settle(pilot)
        # A form with typing asks before it throws it away: leave without keeping.
        if type(pilot.app.screen).__name__.endswith(("Modal", "Confirm", "ConfirmScreen")):
            await pilot.press("tab", "enter")
            await settle(pilot)


async def walk(data_dir: Path) -> None:
    app = make_app(data_dir, clock=lambda: NOW, login="sam")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#login").value = "sam"
        screen.query_one("#passphrase").focus()
        await shoot(pilot, "01-unlock")
        screen.query_one("#passphrase").value = DEMO_PASSPHRASE
        await pilot.press("enter")
        for _ in range(60):
            await pilot.pause(0.1)
            if type(app.screen).__name__ == "DeskScreen":
                break
        await shoot(pilot, "02-desk")

        await pilot.press("slash")
        await settle(pilot)
        for key in "mock":
            await pilot.press(key)
        await shoot(pilot, "03-find")
        await pilot.press("enter")
        await shoot(pilot, "04-person")
        await escape_to_desk(pilot)

        # A contact and a payment start by finding the young person.
        for key, name in (("v", "05-visit"), ("c", "06-contact"), ("p", "07-payment")):
            await pilot.press(key)
            await settle(pilot)
            for letter in "mock":
                await pilot.press(letter)
            await settle(pilot)
            await pilot.press("enter")
            await shoot(pilot, name)
            await escape_to_desk(pilot)

        await pilot.press("s")
        await shoot(pilot, "08-sessions")
        await escape_to_desk(pilot)

        await pilot.press("e")
        await shoot(pilot, "09-end-of-day")
        await escape_to_desk(pilot)
        app.exit()


def main() -> int:
    PICTURES.mkdir(exist_ok=True)
    os.environ.setdefault("HUBDESK_KDF_PROFILE", "fast")  # a throwaway store: one Argon2id pass
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "demo"
        counts = build_demo(
            data_dir, people=120, days=14, seed=7, passphrase=DEMO_PASSPHRASE, today=DAY + timedelta(days=1)
        )
        print(f"demo store for {DAY}: {counts}")
        asyncio.run(walk(data_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
