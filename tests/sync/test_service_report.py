"""`hubdesk-central report service` (issue 11, item 5): on a demo central record whose
circumstances are mixed as the council reports them, every figure equals an independent count
made here from the exported records, on SQLite and PostgreSQL; the rules' edge cases (a 25th
birthday on the day, custody, qualifying with no PA) are counted as the rules say; the HTML is
self-contained, has its charts, and renders in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sync_helpers import central_database

from hubcentral import demo_service
from hubcentral.cli import export, main
from hubcentral.report import report_text, service_figures
from hubcentral.storage import CentralStore
from hubdesk.domain.service_rules import BANDS_2026

DAY = date(2026, 11, 23)
LONDON = ZoneInfo("Europe/London")
BANDS = (("16-17", 16, 17), ("18-20", 18, 20), ("21-25", 21, 99))  # the rules' example (2022) bands


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralStore]:
    with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
        store = CentralStore.open(db)
        tally = demo_service.build(store, 240, DAY)
        assert set(tally) == {"accepted"}, tally  # the generator makes nothing the service refuses
        store.db_url = db  # type: ignore[attr-defined]
        yield store
        store.close()


def _age(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _local(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(LONDON).date()


def independent_count(data: dict[str, list[dict]]) -> dict:
    """The figures counted straight from the export, written without hubdesk.domain.figures."""
    end = datetime(DAY.year, DAY.month, DAY.day, tzinfo=LONDON) + timedelta(days=1)
    amended = {c["amends"] for c in data["contact"] if c.get("amends")}
    last: dict[str, date] = {}
    for c in data["contact"]:
        if c["id"] in amended or datetime.fromisoformat(c["started_at"]) >= end:
            continue
        if c["contact_type"] in ("phone", "video") or c["seen"]:
            day = _local(c["started_at"])
            last[c["person_id"]] = max(last.get(c["person_id"], day), day)
    out: dict = {"in": Counter(), "of": Counter(), "acc": Counter(), "eet": Counter(), "plan": Counter()}
    out |= {"apart": Counter(), "over": Counter(), "open": Counter(), "overdue": Counter(), "pay": Counter()}
    for p in data["person"]:
        age = _age(date.fromisoformat(p["date_of_birth"]), DAY)
        hub, c = p["hub_code"], p.get("circumstances") or {}
        if age < 16:
            continue
        if age >= 25 and not c.get("extended_support"):
            out["over"][hub] += 1
            continue
        if p.get("legal_status") == "qualifying" and not p.get("allocated_pa"):
            out["apart"][hub] += 1
            continue
        band = next(label for label, low, high in BANDS if low <= age <= high)
        every = p.get("expected_contact_days") or (28 if age < 18 else 56)
        seen = last.get(p["id"])
        out["of"][hub, band] += 1
        out["in"][hub, band] += seen is not None and (DAY - seen).days <= every
        acc = c.get("accommodation")
        out["acc"][
            hub,
            "not recorded"
            if not acc or acc.get("suitable") is None
            else ("suitable" if acc["suitable"] else "unsuitable"),
        ] += 1
        out["eet"][hub, band, (c.get("eet") or {}).get("status") or "not recorded"] += 1
        plan = c.get("pathway_plan")
        out["plan"][
            hub, "none" if not plan else ("overdue" if date.fromisoformat(plan["next_due"]) < DAY else "in date")
        ] += 1
    people = {p["id"]: p for p in data["person"]}
    done: dict[str, date] = {}
    for u in data.get("action_update", []):
        if u["kind"] == "done":
            day = _local(u["recorded_at"])
            done[u["action_id"]] = min(done.get(u["action_id"], day), day)
    for a in data.get("action", []):
        if _local(a["recorded_at"]) > DAY or (a["id"] in done and done[a["id"]] <= DAY):
            continue
        hub = people[a["person_id"]]["hub_code"]
        out["open"][hub] += 1
        out["overdue"][hub] += a.get("due") is not None and date.fromisoformat(a["due"]) < DAY
    decisions = {d["payment_id"]: d["decision"] for d in data.get("payment_decision", [])}
    reversed_ = {r["payment_id"] for r in data.get("reversal", []) if datetime.fromisoformat(r["recorded_at"]) < end}
    start = datetime(DAY.year, DAY.month, 1, tzinfo=LONDON)
    for pay in data["payment"]:
        at = datetime.fromisoformat(pay["recorded_at"])
        state = decisions.get(pay["id"], pay["status"])
        if start <= at < end and state == "approved" and pay["id"] not in reversed_:
            out["pay"][pay["hub_code"], pay["category"], "n"] += 1
            out["pay"][pay["hub_code"], pay["category"], "pence"] += pay["amount_pence"]
    return out


def test_every_figure_equals_an_independent_count_from_the_exported_records(central: CentralStore) -> None:
    data = json.loads(export(central, "all", None, "json"))
    want = independent_count(data)
    got = service_figures(central, DAY)
    assert set(got.hubs) == {"DEW", "N11"}
    for hub, f in got.hubs.items():
        for label, _, _ in BANDS:
            assert (f.in_touch[label].count, f.in_touch[label].of) == (want["in"][hub, label], want["of"][hub, label])
            for state in ("education", "training", "employment", "neet", "not recorded"):
                assert f.eet[label][state] == want["eet"][hub, label, state], (hub, label, state)
        for state in ("suitable", "unsuitable", "not recorded"):
            assert f.accommodation[state] == want["acc"][hub, state], (hub, state)
        for state in ("in date", "overdue", "none"):
            assert f.plans[state] == want["plan"][hub, state], (hub, state)
        assert (f.qualifying_apart, f.over_25) == (want["apart"][hub], want["over"][hub])
        assert (f.actions_open, f.actions_overdue) == (want["open"][hub], want["overdue"][hub])
        for category, (n, pence) in f.payments.items():
            assert (n, pence) == (want["pay"][hub, category, "n"], want["pay"][hub, category, "pence"])
        assert sum(n for n, _ in f.payments.values()) == sum(
            v for k, v in want["pay"].items() if k[0] == hub and k[2] == "n"
        )
    total = got.total
    assert total.in_touch_total.of == sum(want["of"].values()) and total.in_touch_total.count == sum(
        want["in"].values()
    )
    # Realistic mix, as the council reports: most engaged, most suitably housed, some plans overdue.
    assert 0.55 <= total.engaged.count / total.engaged.of <= 0.8
    assert total.accommodation["suitable"] / total.pa_cases >= 0.8
    assert total.plans["overdue"] > 0 and total.plans["none"] > 0 and total.actions_overdue > 0


def test_the_rules_edge_cases_are_counted_as_the_rules_say(central: CentralStore) -> None:
    people = {p["case_id"]: p for p in central.records("person")}
    turning, custody, qualifying = people["DEMO-00001"], people["DEMO-00002"], people["DEMO-00003"]
    assert _age(date.fromisoformat(turning["date_of_birth"]), DAY) == 25
    assert _age(date.fromisoformat(turning["date_of_birth"]), DAY - timedelta(days=1)) == 24
    before, on = service_figures(central, DAY - timedelta(days=1)), service_figures(central, DAY)
    # The 25th birthday on the report's day: out of the PA cases and the bands, counted as over 25.
    turned = _turned_25_on(people, DAY, "DEW")
    assert "DEMO-00001" in turned
    assert on.hubs["DEW"].over_25 == before.hubs["DEW"].over_25 + len(turned)
    assert custody["circumstances"]["accommodation"] == {"kind": "custody", "suitable": False, "since": None}
    assert qualifying["allocated_pa"] is None and qualifying["legal_status"] == "qualifying"
    text = report_text(central, DAY, "md")
    assert "Qualifying, no allocated PA (apart)" in text and " of " in text


def _turned_25_on(people: dict, day: date, hub: str) -> list[str]:
    """Case ids at `hub` whose 25th birthday is `day` (and not on extended support)."""
    return [
        case
        for case, p in people.items()
        if p["hub_code"] == hub
        and _age(date.fromisoformat(p["date_of_birth"]), day) == 25
        and _age(date.fromisoformat(p["date_of_birth"]), day - timedelta(days=1)) == 24
        and not (p.get("circumstances") or {}).get("extended_support")
    ]


def test_csv_md_and_html_say_the_same_figures(central: CentralStore) -> None:
    figures = service_figures(central, DAY)
    share = str(figures.total.in_touch_total)
    for fmt in ("md", "csv", "html"):
        assert share in report_text(central, DAY, fmt), fmt
    page = report_text(central, DAY, "html")
    assert "<script" not in page.lower() and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count("<svg") >= 4 and "size: A4" in page
    csv_text = report_text(central, DAY, "csv")
    assert csv_text.splitlines()[0] == "as_of,section,item,column,value"
    # The 2026 report's bands are expressible: 18, and 19-22; the PA cases stay the same.
    later = service_figures(central, DAY, bands=BANDS_2026)
    assert list(later.total.in_touch) == ["18", "19-22"]
    assert later.total.in_touch_total.of == figures.total.in_touch_total.of  # frequencies follow the bands
    assert sum(s.of for s in later.total.in_touch.values()) < later.total.pa_cases
    assert "| 19-22 |" in report_text(central, DAY, "md", bands="2026")


def test_the_command_writes_a_report_and_refuses_bad_input_in_one_line(
    central: CentralStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = central.db_url  # type: ignore[attr-defined]
    out = tmp_path / "service.html"
    assert main(["report", "service", "--db", db, "--date", "2026-11-23", "--format", "html", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", "service", "--db", db, "--date", "2026-11-23", "--format", "html", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["report", "service", "--db", db, "--date", "2026-11-23", "--since", "2026-11-24"]) == 2
    with pytest.raises(SystemExit) as stop:
        main(["report", "service", "--db", db, "--date", "23/11/2026"])
    assert stop.value.code == 2
    assert "is not a date like 2026-11-30" in capsys.readouterr().err


def test_the_html_renders_in_headless_chromium(central: CentralStore, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed; CI runs this test")
    sys.path.insert(0, str(Path(__file__).parent.parent / "reports"))
    from png import read_png

    page = tmp_path / "service.html"
    page.write_text(report_text(central, DAY, "html"), encoding="utf-8")
    shot = tmp_path / "service.png"
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
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=900,1300",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert shot.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    image = read_png(shot.read_bytes())
    colours = Counter(image.pixels())
    background, most = colours.most_common(1)[0]
    assert all(channel > 240 for channel in background[:3]), "a white page, for printing"
    assert most / (image.width * image.height) < 0.97, "almost every pixel is the background"
    # The bars' blue is drawn: the SVG charts rendered.
    blue = sum(
        n for p, n in colours.items() if abs(p[0] - 0x1D) < 12 and abs(p[1] - 0x4E) < 12 and abs(p[2] - 0x89) < 12
    )
    assert blue > 2000, blue


def test_a_record_made_before_the_report_tables_is_indexed_at_the_first_report(central: CentralStore) -> None:
    """A central database older than the report's tables: they are filled from the records."""
    before = service_figures(central, DAY)
    with central.engine.transaction(write=True) as tx:
        for table in ("report_contacts", "report_payments", "report_actions"):
            tx.execute(f"DELETE FROM {table}")
    after = service_figures(central, DAY)
    assert after.total == before.total and after.hubs == before.hubs


def test_the_html_prints_on_a4(central: CentralStore, tmp_path: Path) -> None:
    """Printed by headless Chromium to PDF: every page is A4 (595 x 842 points), a few pages."""
    import re

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed; CI runs this test")
    page = tmp_path / "service.html"
    page.write_text(report_text(central, DAY, "html"), encoding="utf-8")
    pdf = tmp_path / "service.pdf"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert pdf.exists(), f"no PDF (exit {result.returncode}): {result.stderr[-2000:]}"
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert 1 <= len(boxes) <= 6, len(boxes)
    assert all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), boxes
