"""The daily summary as Markdown, CSV and a printable HTML page: text people typed is
escaped, and the page really renders (headless Chromium to a PNG that is not blank)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hubdesk.domain.models import DropInSession, Hub, PaymentCategory, ReferenceData
from hubdesk.reports.daily import daily_summary, render_csv, render_html, render_md
from hubdesk.store import day as day_store
from tests.conftest import REFERENCE
from tests.reports.conftest import BUSY_DAY
from tests.reports.png import read_png

DAY = date(2026, 11, 24)
NASTY = "<script>alert('x')</script> & <b>bold</b> | # *star*"
FORMULA = '=HYPERLINK("http://example.invalid")'


@pytest.fixture
def nasty_store(store):
    """Reference names, session partners and a float reason full of markup and a spreadsheet formula."""
    store.set_reference(
        ReferenceData(
            hubs=(Hub(code="DEW", name=f"Dewsbury {NASTY}"),),
            session_types=REFERENCE.session_types,
            contact_purposes=REFERENCE.contact_purposes,
            payment_categories=(
                *REFERENCE.payment_categories,
                PaymentCategory(code="odd", name=FORMULA, limit_pence=2000),
            ),
        )
    )
    store.clock = lambda: datetime(2026, 11, 24, 10, tzinfo=UTC)
    store.open_session(
        DropInSession(
            hub_code="DEW",
            session_type="stay-and-play",
            starts_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
            opened_by="sam",
            partners=(NASTY,),
        )
    )
    return store


def test_user_text_is_escaped_in_every_format(nasty_store, person):
    store = nasty_store
    store.record_payment(person_id=person.id, category="odd", amount_pence=500, method="cash", reason="Fare")
    day_store.record_float_event(store, "opening", 1000, day=DAY)
    day_store.count_float(store, day=DAY, total_pence=400, reason=f"Short: {NASTY}")
    summary = daily_summary(store, "DEW", DAY)

    page = render_html(summary)
    assert "<script" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert page.count("&lt;script&gt;") == 4  # title, heading, session partner, float reason
    assert 'http-equiv="Content-Security-Policy"' in page

    md = render_md(summary)
    assert "<script>" not in md and "\\<script\\>" in md and "\\|" in md and "\\*star\\*" in md
    # Every table row has as many cell borders as its header: a typed '|' cannot add a column.
    widths: list[int] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            widths.append(len(re.findall(r"(?<!\\)\|", line)))
        elif widths:
            assert len(set(widths)) == 1, widths
            widths = []

    rows = list(csv.reader(io.StringIO(render_csv(summary))))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith("=") for cell in cells)
    assert "'" + FORMULA in cells
    assert f"Short: {NASTY}" in cells  # CSV keeps the text as typed; the csv module quotes it


def test_every_format_names_the_day_and_hub(demo_store):
    summary = daily_summary(demo_store, "DEW", BUSY_DAY)
    assert "Tuesday 24 March 2026" in render_md(summary)
    assert "<title>Daily summary: Dewsbury hub (DEW), Tuesday 24 March 2026</title>" in render_html(summary)
    header, *rows = list(csv.reader(io.StringIO(render_csv(summary))))
    assert header == ["hub", "day", "section", "item", "count", "amount_gbp", "note"]
    assert all(r[:2] == ["DEW", "2026-03-24"] for r in rows)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_html_renders_in_headless_chromium_to_a_page_that_is_not_blank(demo_store, tmp_path: Path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
    page = tmp_path / "daily.html"
    page.write_text(render_html(daily_summary(demo_store, "DEW", BUSY_DAY)), encoding="utf-8")
    shot = tmp_path / "daily.png"
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1024,1400",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert shot.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    image = read_png(shot.read_bytes())
    assert (image.width, image.height) == (1024, 1400)
    colours = Counter(image.pixels())
    background, most = colours.most_common(1)[0]
    assert len(colours) > 50, "the page is (nearly) one colour"
    assert most / (image.width * image.height) < 0.97, "almost every pixel is the background"
    assert all(channel > 240 for channel in background[:3]), "the page background is white, for printing"
    # The accent blue of the headings and bars is on the page: the CSS was applied.
    assert any(abs(p[0] - 0x1D) < 12 and abs(p[1] - 0x4E) < 12 and abs(p[2] - 0x89) < 12 for p in colours)


def test_the_25_hour_day_when_the_clocks_go_back(store, person):
    from hubdesk.domain.models import Contact

    # 25 Oct 2026: BST ends at 01:00 UTC. 23:30 UTC on the 24th is 00:30 BST on the 25th;
    # 00:30 and 01:30 UTC are both 01:30 local; 23:30 UTC on the 25th is 23:30 GMT, still the 25th.
    times = [
        datetime(2026, 10, 24, 22, 50, tzinfo=UTC),
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 0, 10, tzinfo=UTC),
    ]
    for moment in times:
        store.clock = lambda moment=moment: moment
        store.record_contact(
            Contact(
                person_id=person.id,
                hub_code="DEW",
                contact_type="drop_in",
                recorded_by="sam",
                started_at=moment,
                ended_at=moment + timedelta(minutes=20),
                recorded_at=moment,
                seen=True,
                purposes=("money",),
                summary="Night visit.",
            )
        )
    counts = {d: daily_summary(store, "DEW", date(2026, 10, d)).contacts for d in (24, 25, 26)}
    assert counts == {24: 1, 25: 4, 26: 1}
    hours = {h.hour: h.arrivals for h in daily_summary(store, "DEW", date(2026, 10, 25)).hours if h.arrivals}
    assert hours == {0: 1, 1: 2, 23: 1}
