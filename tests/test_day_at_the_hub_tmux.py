"""A day at the Dewsbury hub (../shared/A-DAY-AT-THE-HUB.md), walked on the real `hubdesk`
in a real terminal (tmux) at 120x40 and at 80x24, from the unlock to the day closed.

Keys are typed one at a time, as a person types them, and the screen is read after each step
as a person reads it: what the step needs (the names, the amounts, the labels of the keys it
uses) must be on screen, not cut off. Keys are counted: a visit, from the desk to the saved
visit, may take at most 25 (the characters of free-text notes aside), a sign-out at most 5.
Afterwards the store is unlocked in the test and every record is read back.

The desk runs under libfaketime at 09:40 on Wednesday 25 Nov 2026, so nothing here depends on
today's date; the clock then runs at real speed, so every time typed is one that has passed.
There is no central record service: the hub's wifi is down in the story's morning, and the
desk works offline.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hubdesk.domain.enums import AttendanceKind, ContactType, PaymentMethod, PaymentStatus
from hubdesk.domain.models import (
    Alert,
    ContactPurpose,
    Hub,
    PaymentCategory,
    Person,
    ReferenceData,
    SessionType,
    User,
)
from hubdesk.store import day as day_store
from hubdesk.store.store import Store

TMUX = shutil.which("tmux")
FAKETIME = shutil.which("faketime")
CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(
    not CI and (TMUX is None or FAKETIME is None),
    reason="needs tmux and faketime (apt-get install tmux faketime)",
)

PASSPHRASE = "a day at the hub"
DAY = date(2026, 11, 25)  # a Wednesday, in GMT
START = "2026-11-25 09:40:00"
WAIT = 60.0  # seconds for the screen to show what a step expects, on a busy machine
KEY_GAP = 0.02
ESCAPE_PAUSE = 0.5
VISIT_KEYS = 25
SIGN_OUT_KEYS = 5

YESTERDAY_CLOCK = datetime(2026, 11, 24, 16, 52, tzinfo=UTC)

PURPOSES = (
    ("money", "Money"),
    ("housing", "Housing"),
    ("benefits", "Benefits"),
    ("immigration", "Immigration"),
    ("health", "Health"),
    ("wellbeing", "Emotional wellbeing"),
    ("family", "Family and relationships"),
)


# --- the store the day starts from ------------------------------------------------------------


def build_store(data_dir: Path) -> dict[str, Person]:
    """Dewsbury hub's laptop as Sam finds it at 09:40: users, the example reference data,
    the caseload (obviously fake surnames) and Priya's handover note from yesterday."""
    store, _recovery = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User(
            login="nadia",
            display_name="Nadia Testmanager",
            role="duty_manager",
            payment_limit_pence=25000,
            hub_code="DEW",
        ),
        passphrase=PASSPHRASE,
        device_no=2,
        clock=lambda: YESTERDAY_CLOCK,
    )
    people: dict[str, Person] = {}
    try:
        store.add_user(
            User(login="sam", display_name="Sam Testduty", role="pa", payment_limit_pence=2500, hub_code="DEW"),
            PASSPHRASE,
        )
        store.add_user(
            User(
                login="tom",
                display_name="Tom Testadvisor",
                role="advanced_pa",
                payment_limit_pence=5000,
                hub_code="DEW",
            ),
            PASSPHRASE,
        )
        store.add_user(
            User(login="priya", display_name="Priya Testadvisor", role="pa", payment_limit_pence=2500, hub_code="N11"),
            PASSPHRASE,
        )
        store.set_reference(
            ReferenceData(
                hubs=(Hub(code="DEW", name="Dewsbury hub"), Hub(code="N11", name="No. 11 Huddersfield")),
                session_types=(
                    SessionType(code="duty-drop-in", name="General duty drop-in"),
                    SessionType(code="stay-and-play", name="Stay and play"),
                ),
                contact_purposes=tuple(ContactPurpose(code=c, name=n) for c, n in PURPOSES),
                payment_categories=(
                    PaymentCategory(code="food-voucher", name="Food voucher", limit_pence=6000),
                    PaymentCategory(code="gas-top-up", name="Gas top-up", limit_pence=4000),
                    PaymentCategory(code="travel", name="Travel", limit_pence=3000),
                    PaymentCategory(code="emergency-cash", name="Emergency cash", limit_pence=2000),
                ),
                example=True,
            )
        )

        def add(key: str, **fields) -> None:
            people[key] = store.add_person(Person(hub_code="DEW", **fields))

        add(
            "kayden",
            first_name="Kayden",
            last_name="Mockridge",
            preferred_name="Kay",
            date_of_birth=date(2007, 6, 10),
            case_id="WALK-1001",
            legal_status="former_relevant",
            allocated_pa="tom",
            alerts=(Alert(kind="contact_preference", text="Prefers text messages, not calls"),),
        )
        add(
            "amira",
            first_name="Amira",
            last_name="Testbury",
            date_of_birth=date(2006, 3, 14),
            case_id="WALK-1002",
            legal_status="former_relevant",
            allocated_pa="priya",
            uasc=True,
            alerts=(Alert(kind="interpreter_needed", text="Tigrinya"),),
        )
        add(
            "jade",
            first_name="Jade",
            last_name="Sampleton",
            date_of_birth=date(2009, 8, 2),
            case_id="WALK-1003",
            legal_status="relevant",
            allocated_pa="sam",
        )
        for n, (first, last) in enumerate(
            [("Chloe", "Fakeley"), ("Demi", "Placeford"), ("Leah", "Proxley"), ("Mason", "Demoworth")]
        ):
            add(
                first.lower(),
                first_name=first,
                last_name=last,
                date_of_birth=date(2003 + n, 2, 1),
                case_id=f"WALK-200{n}",
                legal_status="former_relevant",
                young_parent=True,
            )
        add(
            "tyler",
            first_name="Tyler",
            last_name="Stubbings",
            date_of_birth=date(2005, 9, 9),
            case_id="WALK-1009",
            legal_status="former_relevant",
            allocated_pa="tom",
        )
        add(
            "kayla",
            first_name="Kayla",
            last_name="Pretendle",
            date_of_birth=date(2005, 1, 9),
            case_id="WALK-1010",
            legal_status="qualifying",
        )
    finally:
        store.lock()
    priya = Store.unlock(data_dir, "priya", PASSPHRASE, clock=lambda: YESTERDAY_CLOCK)
    try:
        day_store.write_handover(
            priya,
            "Kayden may come in about his gas meter; his PA is on leave.",
            day=date(2026, 11, 24),
            hub_code="DEW",
        )
    finally:
        priya.lock()
    return people


# --- the terminal --------------------------------------------------------------------------------


class Terminal:
    """hubdesk in a tmux pane: keys typed one at a time, the screen read back as text."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.session = f"hubdesk-day-{width}x{height}-{uuid.uuid4().hex[:8]}"
        self.keys = 0
        self.counting = False

    # starting and stopping

    def start(self, data_dir: Path) -> None:
        hubdesk = Path(sys.executable).with_name("hubdesk")
        program = [str(hubdesk)] if hubdesk.exists() else [sys.executable, "-m", "hubdesk"]
        command = [FAKETIME or "faketime", "-m", "--exclude-monotonic", START, *program, "--data-dir", str(data_dir)]
        env = {**os.environ, "HUBDESK_KDF_PROFILE": "fast", "TERM": "xterm-256color", "TZ": "Europe/London"}
        env.pop("HUBDESK_PASSPHRASE", None)
        env.pop("TMUX", None)
        # pytest-xdist's workers set COLUMNS=80 and LINES=24, which Textual takes over the
        # terminal's own size: the 120-column walk was drawn at 80 columns.
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        # The pane stays after the desk exits, so a crash's last screen can still be read.
        subprocess.run(
            [TMUX or "tmux", "new-session", "-d", "-s", self.session, "-x", str(self.width), "-y", str(self.height)],
            check=True,
            env=env,
        )
        subprocess.run([TMUX or "tmux", "set-option", "-t", self.session, "remain-on-exit", "on"], check=True)
        # The window keeps this size whatever other tmux sessions on the machine do.
        subprocess.run([TMUX or "tmux", "set-option", "-t", self.session, "window-size", "manual"], check=True)
        subprocess.run(
            [TMUX or "tmux", "resize-window", "-t", self.session, "-x", str(self.width), "-y", str(self.height)],
            check=True,
        )
        size = subprocess.run(
            [TMUX or "tmux", "display-message", "-p", "-t", self.session, "#{window_width}x#{window_height}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert size == f"{self.width}x{self.height}", f"tmux made a {size} window"
        subprocess.run(
            [TMUX or "tmux", "respawn-pane", "-k", "-t", self.session, shlex.join(command)], check=True, env=env
        )

    def stop(self) -> None:
        subprocess.run([TMUX or "tmux", "kill-session", "-t", self.session], check=False, capture_output=True)

    def exited(self) -> bool:
        out = subprocess.run(
            [TMUX or "tmux", "display-message", "-p", "-t", self.session, "#{pane_dead}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out == "1"

    # reading

    def screen(self) -> str:
        return subprocess.run(
            [TMUX or "tmux", "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
        ).stdout

    def fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n--- the screen ({self.width}x{self.height}) ---\n{self.screen()}")

    def wait_for(self, *needles: str, gone: Iterable[str] = (), timeout: float = WAIT) -> str:
        """The screen once it shows every needle (and none of `gone`)."""
        gone = tuple(gone)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if "Traceback" in screen or "Error in stylesheet" in screen:
                self.fail("the desk crashed")
            text = screen + "\n" + flat(screen)  # a toast or a message may wrap at 80 columns
            if all(n in text for n in needles) and not any(g in screen for g in gone):
                return screen
            time.sleep(0.15)
        missing = [n for n in needles if n not in screen + flat(screen)]
        present = [g for g in gone if g in screen]
        self.fail(f"waited {timeout:.0f} s for {missing} on screen" + (f" and {present} gone" if present else ""))
        return screen

    def ticked(self, label: str) -> bool | None:
        """Whether the tick box (or list line) labelled `label` shows its tick: the X is drawn
        in the tick colour when ticked, dark when not (read from the screen's colours)."""
        coloured = subprocess.run(
            [TMUX or "tmux", "capture-pane", "-e", "-p", "-t", self.session], capture_output=True, text=True
        ).stdout
        for line in coloured.splitlines():
            m = re.search(r"\x1b\[38;5;(\d+)m(?:\x1b\[[0-9;]*m)*X(?:\x1b\[[0-9;]*m)*▌(?:\x1b\[[0-9;]*m)* (.*)", line)
            if m and re.sub(r"\x1b\[[0-9;]*m", "", m.group(2)).strip() == label:
                return m.group(1) != "16"
        return None

    def wait_ticked(self, *labels: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if all(self.ticked(label) for label in labels):
                return
            time.sleep(0.15)
        self.fail(f"waited for {labels} to show ticked: {[self.ticked(label) for label in labels]}")

    def wait_row(self, text: str, *parts: str, timeout: float = WAIT) -> str:
        """The line showing `text` once it also shows every part (a toast may cover it a while)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.screen().splitlines():
                if text in line and all(p in line for p in parts):
                    return line
            time.sleep(0.2)
        self.fail(f"no line shows {text!r} with {parts}")
        return ""

    def line_with(self, text: str, screen: str | None = None) -> str:
        for line in (screen or self.screen()).splitlines():
            if text in line:
                return line
        self.fail(f"no line shows {text!r}")
        return ""

    # typing

    def _send(self, *args: str) -> None:
        subprocess.run([TMUX or "tmux", "send-keys", "-t", self.session, *args], check=True)
        time.sleep(KEY_GAP)

    def key(self, *names: str) -> None:
        """Named keys (Enter, Tab, BTab, Down, Space, Escape, C-s ...), each counted."""
        for name in names:
            self._send(name)
            self.keys += 1
            if name == "Escape":
                # A key straight after Escape reads as Alt+key (the terminal's escape sequence):
                # a person's pause after Escape is longer than that.
                time.sleep(ESCAPE_PAUSE)

    def type(self, text: str, *, note: bool = False) -> None:
        """Characters one at a time; a free-text note arrives at once, as a fast typist's or
        a paste's burst does (the desk must keep every character in order), and is not counted."""
        if note:
            body, last = (text[:-1], "\\;") if text.endswith(";") else (text, "")
            self._send("-l", body)
            if last:  # tmux reads a lone trailing ';' as the end of its command
                self._send("-l", last)
            return
        for ch in text:
            self._send("-l", "\\;" if ch == ";" else ch)
            self.keys += 1

    def count(self) -> None:
        self.keys = 0


def flat(screen: str) -> str:
    """The screen's text with wrapped lines joined, for sentences a narrow screen wraps; and
    a toast's text on its own (after its left edge, ▌), as it wraps over whatever is under it."""
    text = " ".join(line for line in screen.splitlines())
    # Right of the toast's edge: its text, then (after a gap) whatever of the screen it does not cover.
    toast = " ".join(
        re.split(r"\s{3,}", line.rsplit("▌", 1)[1].strip())[0] for line in screen.splitlines() if "▌" in line
    )
    return re.sub(r"\s+", " ", re.sub(r"[█▊▌▎▍▏│┃]", " ", text + " \n " + toast))


def tick_index(screen: str, label: str) -> int:
    """Where `label` is in the purposes list (the first run of lines that are tick boxes)."""
    names: list[str] = []
    for line in screen.splitlines():
        m = re.match(r"\s*▐.▌ (.+?)(?:\s{2,}.*)?$", line)
        if m:
            names.append(m.group(1).strip())
        elif names:
            break
    assert label in names, f"{label!r} not in {names}"
    return names.index(label)


def choose_purposes(term: Terminal, screen: str, *labels: str) -> None:
    """Move down the purposes list from its first line and tick each label (space)."""
    at = 0
    for label in labels:
        want = tick_index(screen, label)
        step = "Down" if want > at else "Up"
        for _ in range(abs(want - at)):
            term.key(step)
        term.key("Space")
        at = want
    term.wait_ticked(*labels)


# --- the walk --------------------------------------------------------------------------------------


def walk_the_day(term: Terminal, narrow: bool) -> dict[str, int]:
    counts: dict[str, int] = {}

    # 09:40 Sam unlocks the hub laptop with her passphrase.
    term.wait_for("Unlock the desk", "sam")
    term.type("sam")
    term.key("Enter")
    term.type(PASSPHRASE)
    term.key("Enter")
    screen = term.wait_for("In the building now", "on duty: Sam Testduty", "Find")
    assert "Dewsbury hub" in screen and "25 Nov 2026" in screen
    assert "Handover from Priya Testadvisor" in flat(screen)
    assert "Kayden may come in about his gas meter; his PA is on leave." in flat(screen)
    for label in ("Find", "Visit", "Contact", "Pay", "Out", "Sessions", "End", "Lock"):
        assert label in term.line_with("/ Find", screen), f"the footer lost {label!r}"

    # 10:05 "Kay": / kay, Kayden Mockridge with his alert; open him, v, money and housing, a note.
    term.count()
    term.key("/")
    term.wait_for("Find a person")
    term.type("kay")
    screen = term.wait_for("Kay Mockridge", "2 found")
    row = term.line_with("Kay Mockridge", screen)
    assert "Former relevant" in row and "⚠" in row, row
    assert "19" in row or (narrow and "10 Jun 2007" in row), row  # age, or at 80 columns the date of birth
    if not narrow:
        assert "Tom" in row, row  # the allocated PA
    term.key("Enter")
    screen = term.wait_for("Preferred contact: Prefers text messages, not calls", "Visit/out")
    assert "Allocated PA: Tom Testadvisor" in screen
    term.key("v")
    screen = term.wait_for("Sign in: drop-in visit", "Emotional wellbeing", "Save")
    choose_purposes(term, screen, "Money", "Housing")
    term.key("Tab")
    term.type("Gas meter empty since Saturday; talked about money and his flat.", note=True)
    term.key("C-s")
    screen = term.wait_for("In the building since", "Kay Mockridge signed in")
    counts["visit"] = term.keys
    assert term.keys <= VISIT_KEYS, f"a visit took {term.keys} keys"

    # 10:12 p on Kayden: gas top-up £30.00 over Sam's £25 limit; Nadia approves with her passphrase.
    term.key("p")
    term.wait_for("Emergency payment · Kay Mockridge", "Pick a category")
    term.key("Enter")
    term.wait_for("Gas top-up (limit £40.00)", "Travel (limit £30.00)")
    term.type("g")
    term.key("Enter")
    term.wait_for("Gas top-up (limit £40.00)", gone=["Travel (limit"])
    term.key("Tab")
    term.type("30.00")
    term.key("Tab", "Enter")
    term.wait_for("Bank transfer request")
    term.type("u")
    term.key("Enter")
    term.wait_for("Utility top-up", gone=["Bank transfer request"])
    term.key("Tab", "Tab")  # past the voucher serial
    term.type("no gas since Saturday, heating and hot water off", note=True)
    term.key("Tab")
    term.type("I didn't want to ask Tom again.", note=True)
    screen = term.wait_for("I didn't want to ask Tom again.", "Needs a duty manager")
    assert "£30.00 is over Sam Testduty's authorisation limit of £25.00" in screen.replace("\n", " ") or narrow
    term.key("C-s")
    screen = term.wait_for("Duty manager approval needed", "Nadia Testmanager", "Their passphrase")
    assert "£30.00" in screen and "£25.00" in screen
    term.type(PASSPHRASE)
    term.key("Enter")
    screen = term.wait_for("approved by Nadia Testmanager", "DEW-2-000001")
    term.wait_row("DEW-2-000001", "£30.00", "approve")  # "approved" (its last letter cut at 80 columns)
    term.key("Escape")
    term.wait_for("In the building now (1)", "Today's payments (1)")
    # The desk's payments table squeezes the name first ("Kay Mockridg" at 120 columns).
    # At 80 columns the receipt column gives way to name, amount and status.
    term.wait_row("£30.00", "Kay Mock", "approve")

    # 10:30 Stay and play: four parents found by search, five children, a walk-in.
    term.key("s")
    term.wait_for("Today's drop-in sessions", "Open a session")
    term.key("n")
    term.wait_for("Open a drop-in session", "Pick the session")
    term.key("Enter")
    term.wait_for("General duty drop-in")
    term.type("st")
    term.key("Enter")
    term.wait_for("Stay and play", gone=["General duty drop-in"])
    term.key("C-s")
    term.wait_for("Stay and play ·", "0 known", "Walk-in", "Children")
    for n, (first, last) in enumerate(
        [("Chloe", "Fakeley"), ("Demi", "Placeford"), ("Leah", "Proxley"), ("Mason", "Demoworth")], start=1
    ):
        term.key("a")
        term.wait_for("Add to the register: find the person")
        term.type(first.lower())
        term.wait_for(f"{first} {last}", "1 found")
        term.key("Enter")
        term.wait_for(f"{n} known", f"{first} {last}")
    term.key("k")
    term.wait_for("How many children came along?")
    term.type("5")
    term.key("Enter")
    term.wait_for("5 children", "4 known, 0 walk-ins, 5 children")
    term.key("w")
    term.wait_for("New walk-in", "Approximate age")
    term.type("Ellie")
    term.key("Enter", "Enter")
    term.type("19")
    term.key("Enter")
    screen = term.wait_for("4 known, 1 walk-in, 5 children", "Walk-in (to match)")
    assert "~19" in term.line_with("Ellie", screen)
    term.key("Escape")
    term.wait_for("Today's drop-in sessions")
    term.key("Escape")
    screen = term.wait_for("Today's sessions (1)", "4 known", "1 walk-in", "5 children")

    # A young man comes in (he will leave without saying goodbye).
    term.key("v")
    term.wait_for("Sign in a visit: find the person")
    term.type("tyler")
    term.wait_for("Tyler Stubbings", "1 found")
    term.key("Enter")
    screen = term.wait_for("Sign in: drop-in visit · Tyler Stubbings", "Emotional wellbeing", "Save")
    choose_purposes(term, screen, "Health")
    term.key("Tab")
    term.type("Came in to see the nurse.", note=True)
    term.key("C-s")
    term.wait_for("In the building now (2)", "Tyler Stubbings")

    # 11:15 Amira phones: immigration, not seen, an action for her allocated PA, who is to be told.
    term.key("c")
    term.wait_for("Record a contact: find the person")
    term.type("amira")
    term.wait_for("Amira Testbury", "1 found")
    term.key("Enter")
    screen = term.wait_for("Record a contact · Amira Testbury", "Interpreter needed: Tigrinya", "Save")
    assert "Phone" in screen
    term.key("Tab", "Tab", "Tab", "Tab")
    choose_purposes(term, screen, "Immigration")
    term.key("Tab")
    term.type("Home Office letter came; she wants help to read it.", note=True)
    term.key("Tab")
    term.type("I don't understand the letter.", note=True)
    term.key("Tab")
    term.type("book interpreter and go through the letter by Thursday", note=True)
    term.key("Tab")
    term.type("allocated PA", note=True)
    term.key("Tab")
    term.type("26/11/2026")
    term.key("Tab", "Space")
    term.wait_for("26/11/2026")
    term.key("C-s")
    term.wait_for("Contact with Amira Testbury saved", "Today's contacts (3)")
    term.wait_row("Amira Testbury", "Phone", "Immigration", "tell PA")

    # 11:50 Kayden signs out from the desk's "in the building" list.
    term.count()
    term.key("o")
    term.wait_for("Sign out Kay Mockridge now?")
    term.key("Enter")
    term.wait_for("Kay Mockridge signed out", "In the building now (1)")
    counts["sign-out"] = term.keys
    assert term.keys <= SIGN_OUT_KEYS, f"a sign-out took {term.keys} keys"

    # 12:30 lunch: a contact form for another young person half typed; the desk locks (ctrl+l).
    term.key("c")
    term.wait_for("Record a contact: find the person")
    term.type("kayla")
    term.wait_for("Kayla Pretendle", "1 found")
    term.key("Enter")
    screen = term.wait_for("Record a contact · Kayla Pretendle", "Save")
    term.key("Tab", "Tab", "Tab", "Tab")
    choose_purposes(term, screen, "Benefits")
    term.key("Tab")
    half = "Rang about her bursary and the"
    term.type(half, note=True)
    term.wait_for(half)
    term.key("C-l")
    term.wait_for("Locked. Your unsaved work is kept")
    assert half not in term.screen()
    term.type(PASSPHRASE)
    term.key("Enter")
    screen = term.wait_for("Record a contact · Kayla Pretendle", half)
    term.type(" college's new form.", note=True)
    term.key("C-s")
    term.wait_for("Contact with Kayla Pretendle saved")

    # 13:20 Jade, upset: a safeguarding concern that will not save without action, time and manager.
    term.key("v")
    term.wait_for("Sign in a visit: find the person")
    term.type("jade")
    term.wait_for("Jade Sampleton", "1 found")
    term.key("Enter")
    screen = term.wait_for("Sign in: drop-in visit · Jade Sampleton", "Emotional wellbeing", "Save")
    choose_purposes(term, screen, "Emotional wellbeing")
    term.key("Tab")
    term.type("Came in upset; said something that worries me about home.", note=True)
    for _ in range(6):  # voice, action, owner, by when, tell the PA, safeguarding concern
        term.key("Tab")
    term.key("Space")
    term.wait_for("Action taken", "Manager informed at", "Manager's name")
    term.key("C-s")  # refused: the cursor goes to the action taken
    if narrow:  # each message shows by its box; at 24 rows the later ones as the cursor reaches them
        screen = term.wait_for("This must not be empty", "Manager informed at")
    else:
        screen = term.wait_for(
            "This must not be empty", "Say when the manager was told", "Name the manager who was told"
        )
    assert "Sign in: drop-in visit · Jade Sampleton" in screen  # not saved
    term.type("Talked it through with Jade; safety plan checked; rang the duty manager.", note=True)
    term.key("Tab")
    term.wait_for("Manager informed at", gone=["This must not be empty"])
    term.type("09:40")
    term.key("Tab")
    term.type("Nadia Testmanager", note=True)
    term.key("C-s")
    term.wait_for("In the building now (2)", "Jade Sampleton")
    if not narrow:  # at 24 rows her line in today's contacts is below the list's fold
        term.wait_row("Jade Sampleton", "SAFEGUARDING")

    # 13:40 a £15 food voucher typed as £51 (saved awaiting approval); 14:05 reversed, the right one.
    term.key("p")
    term.wait_for("Record a payment: find the person")
    term.type("jade")
    term.wait_for("Jade Sampleton", "1 found")
    term.key("Enter")
    term.wait_for("Emergency payment · Jade Sampleton", "Pick a category")
    pay_voucher(term, "51.00", "V100201")
    term.key("C-s")
    term.wait_for("Duty manager approval needed", "Save awaiting approval")
    term.key("C-w")
    screen = term.wait_for("saved AWAITING APPROVAL", "DEW-2-000002")
    term.key("/")
    term.wait_for("Find a person")
    term.type("jade")
    term.wait_for("Jade Sampleton", "1 found")
    term.key("Enter")
    term.wait_for("DEW-2-000002", "Reverse")
    term.wait_row("DEW-2-000002", "£51.00")
    term.key("r")
    term.wait_for("Reverse DEW-2-000002 (£51.00)?", "Why is it being reversed?")
    term.type("typed wrong amount", note=True)
    term.key("Enter")
    term.wait_for("DEW-2-000002 reversed")
    term.key("p")
    term.wait_for("Emergency payment · Jade Sampleton", "Pick a category")
    pay_voucher(term, "15.00", "V100201")
    term.key("C-s")
    term.wait_for("£15.00 saved. Receipt DEW-2-000003", "DEW-2-000003")
    term.wait_row("DEW-2-000002", "£51.00", "revers")  # both stay in the history ("reversed")
    term.wait_row("DEW-2-000003", "£15.00", "approve")
    term.key("Escape")
    screen = term.wait_for("In the building now (2)", "Jade Sampleton")

    # Jade leaves: the second line of "in the building".
    term.count()
    term.key("Down", "o")
    term.wait_for("Sign out Jade Sampleton now?")
    term.key("Enter")
    term.wait_for("Jade Sampleton signed out", "In the building now (1)")
    counts["second sign-out"] = term.keys
    assert term.keys <= SIGN_OUT_KEYS, f"a sign-out took {term.keys} keys"

    # £20.00 emergency cash out of the float, to the young man still in.
    term.key("p")
    term.wait_for("Record a payment: find the person")
    term.type("tyler")
    term.wait_for("Tyler Stubbings", "1 found")
    term.key("Enter")
    term.wait_for("Emergency payment · Tyler Stubbings", "Pick a category")
    term.key("Enter")
    term.wait_for("Emergency cash (limit £20.00)", "Travel (limit £30.00)")
    term.type("e")
    term.key("Enter")
    term.wait_for("Emergency cash (limit £20.00)", gone=["Travel (limit"])
    term.key("Tab")
    term.type("20")
    term.key("Tab", "Enter")
    term.wait_for("Bank transfer request")
    term.type("c")
    term.key("Enter")
    term.wait_for("Cash (petty cash float)", gone=["Bank transfer request"])
    term.key("Tab", "Tab")  # past the voucher serial
    term.type("no money for food until Friday", note=True)
    term.key("C-s")
    screen = term.wait_for("£20.00 saved. Receipt DEW-2-000004", "Today's payments (4)")

    # 16:00 end of day: the one left signed in, the float, the handover, the day closed.
    term.key("e")
    screen = term.wait_for("End of day · Dewsbury hub · 25 Nov 2026", "1 still in", "Tyler Stubbings")
    term.count()
    term.key("Enter")  # "Sign everyone out", the first step, is highlighted
    term.key("o")
    screen = term.wait_for("Sign out Tyler Stubbings?", "Signed out at")
    term.key("Enter")
    term.wait_for("Tyler Stubbings signed out at", "nobody in")
    counts["end-of-day sign-out"] = term.keys
    assert term.keys <= SIGN_OUT_KEYS, f"the end-of-day sign-out took {term.keys} keys"
    term.key("3")
    term.wait_for("Cash float", "Opening balance")
    term.type("200")
    term.key("Enter")
    screen = term.wait_for("Opening balance: £200.00 recorded", "Expected          £180.00")
    assert "£20.00 (1 payment)" in term.line_with("Cash paid out", screen)
    term.key("Tab")
    term.type("3")  # 3 x £50
    term.key("Tab")
    term.type("1")  # 1 x £20
    term.key("Tab", "Tab")
    term.type("1")  # 1 x £5
    term.wait_for("Counted £175.00", "£5.00 short: give a reason")
    term.key("C-s")  # refused, as a person reads: the cursor goes to the reason
    term.wait_for("give a reason for the difference")
    term.type("£5 given for bus fare, not recorded; recorded now", note=True)
    term.key("C-s")
    screen = term.wait_for("Float counted: £175.00, £5.00 short")
    term.key("Escape", "6")  # out of the reason box to the checklist, then step 6
    term.wait_for("Handover note for the next duty")
    term.type("Kayden's gas sorted (DEW-2-000001); Amira's letter is with Priya.", note=True)
    term.key("C-s")
    term.wait_for("Written today by Sam Testduty", "written")
    term.key("C-d")
    screen = term.wait_for("Close 25 Nov 2026 at Dewsbury hub?", "Stay and play from", "Close the day")
    term.key("Enter")
    term.wait_for("The day is closed")
    term.key("Escape", "Escape")
    screen = term.wait_for("day closed", "In the building now (0)")
    term.key("C-q")
    deadline = time.monotonic() + WAIT
    while not term.exited():
        if time.monotonic() > deadline:
            term.fail("the desk did not quit")
        time.sleep(0.2)
    return counts


def pay_voucher(term: Terminal, amount: str, serial: str) -> None:
    """Food voucher, the amount, voucher with its serial, a reason."""
    term.key("Enter")
    term.wait_for("Food voucher (limit £60.00)", "Travel (limit £30.00)")
    term.type("f")
    term.key("Enter")
    term.wait_for("Food voucher (limit £60.00)", gone=["Travel (limit"])
    term.key("Tab")
    term.type(amount)
    term.key("Tab", "Enter")
    term.wait_for("Bank transfer request")
    term.type("v")
    term.key("Enter")
    term.wait_for("Voucher", gone=["Bank transfer request"])
    term.key("Tab")
    term.type(serial)
    term.key("Tab")
    term.type("food until her money comes on Friday", note=True)
    term.wait_for(serial)


# --- what the store holds afterwards -----------------------------------------------------------


def check_the_store(data_dir: Path, people: dict[str, Person]) -> None:
    store = Store.unlock(data_dir, "nadia", PASSPHRASE, clock=lambda: datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    try:
        start, end = store.day_bounds(DAY)
        contacts = store.contacts_between("DEW", start, end)
        by_person = {c.person_id: c for c in contacts}
        assert len(contacts) == 5, contacts

        kayden = by_person[people["kayden"].id]
        assert kayden.contact_type is ContactType.DROP_IN and kayden.seen
        assert set(kayden.purposes) == {"money", "housing"}
        assert kayden.summary == "Gas meter empty since Saturday; talked about money and his flat."
        assert kayden.recorded_by == "sam" and kayden.ended_at is not None  # signed out

        tyler = by_person[people["tyler"].id]
        assert tyler.ended_at is not None and tyler.purposes == ("health",)

        amira = by_person[people["amira"].id]
        assert amira.contact_type is ContactType.PHONE and not amira.seen
        assert amira.purposes == ("immigration",) and amira.tell_allocated_pa
        [action] = amira.actions
        assert action.text == "book interpreter and go through the letter by Thursday"
        assert action.owner == "allocated PA" and action.due == date(2026, 11, 26)
        assert amira.voice == "I don't understand the letter."

        kayla = by_person[people["kayla"].id]
        assert kayla.summary == "Rang about her bursary and the college's new form."
        assert kayla.purposes == ("benefits",) and kayla.recorded_by == "sam"

        jade = by_person[people["jade"].id]
        assert jade.safeguarding_concern and jade.safeguarding is not None
        assert jade.safeguarding.action_taken.startswith("Talked it through with Jade")
        assert jade.safeguarding.manager == "Nadia Testmanager"
        informed = jade.safeguarding.manager_informed_at.astimezone(UTC)
        assert (informed.hour, informed.minute) == (9, 40)
        assert jade.ended_at is not None

        payments = {p.receipt_no: p for p in store.payments_between("DEW", start, end)}
        assert sorted(payments) == ["DEW-2-000001", "DEW-2-000002", "DEW-2-000003", "DEW-2-000004"]
        gas = payments["DEW-2-000001"]
        assert (gas.category, gas.amount_pence, gas.method) == ("gas-top-up", 3000, PaymentMethod.UTILITY_TOP_UP)
        assert gas.status is PaymentStatus.APPROVED
        assert gas.authorised_by == "nadia" and gas.recorded_by == "sam"
        assert gas.voice == "I didn't want to ask Tom again."
        wrong, right = payments["DEW-2-000002"], payments["DEW-2-000003"]
        assert wrong.amount_pence == 5100 and store.payment_state(wrong.id) == "reversed"
        [reversal] = [r for r in store.reversals() if r.payment_id == wrong.id]
        assert reversal.reason == "typed wrong amount" and reversal.recorded_by == "sam"
        assert right.amount_pence == 1500 and right.method is PaymentMethod.VOUCHER
        assert right.voucher_serial == "V100201" and store.payment_state(right.id) == "approved"
        cash = payments["DEW-2-000004"]
        assert (cash.amount_pence, cash.method) == (2000, PaymentMethod.CASH)

        [session] = store.sessions_between("DEW", start, end)
        assert session.session_type == "stay-and-play" and session.closed_at is not None
        register = store.attendance(session.id)
        known = {a.person_id for a in register if a.kind is AttendanceKind.PERSON}
        assert known == {people[k].id for k in ("chloe", "demi", "leah", "mason")}
        assert sum(a.children for a in register if a.kind is AttendanceKind.CHILDREN) == 5
        [walk_in] = [a for a in register if a.kind is AttendanceKind.WALK_IN]
        ellie = store.get_person(walk_in.person_id)
        assert ellie.first_name == "Ellie" and ellie.approx_age == 19 and ellie.needs_matching

        cash_float = day_store.reconcile_float(store, "DEW", DAY)
        assert cash_float.opening_pence == 20000 and cash_float.cash_out_pence == 2000
        assert cash_float.counted_pence == 17500 and cash_float.difference_pence == -500
        assert cash_float.reason == "£5 given for bus fare, not recorded; recorded now"

        [note] = day_store.handover_notes(store, "DEW", DAY)
        assert note.written_by == "sam" and "Amira's letter is with Priya" in note.text
        closure = day_store.day_closure(store, "DEW", DAY)
        assert closure is not None and closure.closed_by == "sam"
        assert store.in_building("DEW") == [] or all(c.started_at >= end for c in store.in_building("DEW"))
    finally:
        store.lock()


@pytest.mark.parametrize(("width", "height"), [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_a_day_at_the_hub(tmp_path: Path, width: int, height: int) -> None:
    if CI and (TMUX is None or FAKETIME is None):
        pytest.fail("CI must have tmux and faketime: .ci/run installs them")
    data_dir = tmp_path / "hub"
    people = build_store(data_dir)
    term = Terminal(width, height)
    began = time.monotonic()
    try:
        term.start(data_dir)
        counts = walk_the_day(term, narrow=width < 100)
    finally:
        term.stop()
    print(
        f"\n{width}x{height}: keys for a visit {counts['visit']} (limit {VISIT_KEYS}), "
        f"for a sign-out {counts['sign-out']} at the desk (the first in), {counts['second sign-out']} (the "
        f"second in), {counts['end-of-day sign-out']} at the end of the day (limit {SIGN_OUT_KEYS}); "
        f"walked in {time.monotonic() - began:.0f} s"
    )
    check_the_store(data_dir, people)
