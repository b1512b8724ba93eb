"""The caseload CSV carries the same circumstances the desk records: read with the desk's own
parsers, refused cell by cell in plain words, and merged subject by subject over what a desk
recorded (a file with accommodation alone leaves EET as it is)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.domain.circumstances import CSV_COLUMNS, Circumstances
from hubdesk.domain.models import Person

HEAD = "case_id,first_name,last_name,date_of_birth,hub_code"


@pytest.fixture
def load(central_db: str, central: CentralStore, tmp_path: Path):
    def run(text: str) -> int:
        path = tmp_path / "caseload.csv"
        path.write_text(text, encoding="utf-8")
        return cli.main(["--db", central_db, "caseload", "load", str(path)])

    return run


def test_every_circumstance_column_is_read(load, central: CentralStore) -> None:
    columns = ",".join(CSV_COLUMNS)
    row = (
        "07700 900555,fake@example.invalid,1 Synthetic Row,text,B&B,,2026-11-20,NEET,pregnancy,01/09/2026,"
        "2 Apr 2026,,awaiting decision,Tigrinya,2025-02-03,2,weekly,yes"
    )
    assert load(f"{HEAD},{columns}\nKC-5001,Ottoline,Testcsv,2003-05-06,DEW,{row}\n") == 0
    person = Person.model_validate(central.person_by_case_id("KC-5001"))
    assert person.contact.phone == "07700 900555" and person.contact.preferred == "text"
    c = person.circumstances
    assert c.accommodation and c.accommodation.kind == "bed_and_breakfast" and c.accommodation.suitable is False
    assert c.eet and c.eet.status == "neet" and c.eet.neet_reason == "pregnancy_or_parenting"
    assert c.eet.since == date(2026, 9, 1)
    assert c.pathway_plan and c.pathway_plan.next_due == date(2026, 10, 2)
    assert c.immigration and c.immigration.status == "awaiting_decision" and c.interpreter_language == "Tigrinya"
    assert c.health_passport_given == date(2025, 2, 3) and c.children == 2 and c.extended_support
    assert person.expected_contact_days == 7


@pytest.mark.parametrize(
    ("columns", "cells", "says"),
    [
        ("accommodation", "a tent", "line 2, accommodation: Accommodation must be one of"),
        ("eet", "neet", "line 2, eet: NEET needs a reason"),
        ("accommodation,accommodation_suitable", "custody,yes", "Custody is never counted as suitable"),
        ("plan_last_review,plan_next_due", "2026-01-01,2026-12-01", "at least every 6 months"),
        ("children", "two", "line 2, children: Children must be a whole number"),
        ("contact_every", "sometimes", "line 2, contact_every: Contact frequency must be"),
        ("health_passport_given", "31/02/2026", "that date does not exist"),
    ],
)
def test_a_bad_cell_is_one_plain_line_and_nothing_is_loaded(
    load, central: CentralStore, capsys: pytest.CaptureFixture[str], columns: str, cells: str, says: str
) -> None:
    assert load(f"{HEAD},{columns}\nKC-5002,Pemberly,Testcsv,2004-01-01,DEW,{cells}\n") == 1
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert cells.split(",")[0] not in err  # the cell itself is never echoed
    assert central.person_by_case_id("KC-5002") is None


def test_a_file_with_one_subject_leaves_the_others(load, central: CentralStore) -> None:
    assert load(f"{HEAD},eet,plan_last_review\nKC-5003,Rosamund,Testcsv,2005-01-01,DEW,employment,2026-06-01\n") == 0
    assert load(f"{HEAD},accommodation\nKC-5003,Rosamund,Testcsv,2005-01-01,DEW,supported lodgings\n") == 0
    c = Circumstances.model_validate(central.person_by_case_id("KC-5003")["circumstances"])
    assert c.accommodation and c.accommodation.kind == "supported_lodgings" and c.accommodation.suitable is None
    assert c.eet and c.eet.status == "employment"  # not in the second file: kept
    assert c.pathway_plan and c.pathway_plan.last_review == date(2026, 6, 1)
    # A blank subject in a file that has its column clears it.
    assert load(f"{HEAD},eet\nKC-5003,Rosamund,Testcsv,2005-01-01,DEW,\n") == 0
    c = Circumstances.model_validate(central.person_by_case_id("KC-5003")["circumstances"])
    assert c.eet is None and c.accommodation is not None
