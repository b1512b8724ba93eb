"""Hostile files given to `hubdesk-central`: each refused with a clear one-line report, and nothing loaded.

A caseload CSV comes from another system and a bundle from a memory stick: either may be damaged
or made to hurt. Every test runs the real command on a real central database (SQLite, and
PostgreSQL when one is reachable; always under CI=true) and reads the database back.
"""

from __future__ import annotations

import csv
import os
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubcentral import cli
from hubcentral.caseload import CaseloadError, check_caseload, stream_caseload
from hubcentral.storage import CentralStore

HEADER = "case_id,first_name,last_name,date_of_birth,hub_code\n"
NOW = datetime(2026, 11, 25, 9, 40, tzinfo=UTC)


def row(n: int, first: str = "Testfirst") -> str:
    return f"KC-{n:07d},{first},Testperson,2005-01-02,DEW\n"


def write_rows(path: Path, count: int, *, last: str | None = None) -> None:
    with path.open("w") as out:
        out.write(HEADER)
        for n in range(1, count + 1):
            out.write(row(n))
        if last is not None:
            out.write(last)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def load(capsys: pytest.CaptureFixture[str], db: str, path: Path, *extra: str) -> tuple[int, str]:
    code, out, err = run(capsys, "--db", db, "caseload", "load", str(path), *extra)
    assert "Traceback" not in err and "Error" not in err.replace("CaseloadError", ""), err
    return code, out + err


def people(db: str) -> int:
    store = CentralStore.open(db)
    try:
        return store.count("people")
    finally:
        store.close()


def test_a_column_named_twice_is_refused(tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "twice.csv"
    # csv.DictReader would keep the second first_name silently: the file is refused instead.
    f.write_text("case_id,first_name,date_of_birth,hub_code,first_name\nKC-1,Testfirst,2005-01-02,DEW,Other\n")
    code, text = load(capsys, central_db, f)
    assert code == 1
    assert "Nothing loaded from twice.csv" in text and "line 1: column 'first_name' is named twice" in text
    assert people(central_db) == 0


def test_a_cell_over_the_csv_limit_is_a_clear_refusal(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "long.csv"
    huge = "Testpad" * (csv.field_size_limit() // 7 + 10)
    f.write_text(HEADER + row(1) + row(2) + f'KC-3,"{huge}",Testperson,2005-01-02,DEW\n' + row(4))
    code, text = load(capsys, central_db, f)
    assert code == 1
    assert f"line 4: a cell is longer than the csv module's limit of {csv.field_size_limit():,} characters" in text
    assert "Testpad" not in text and "Testperson" not in text
    assert people(central_db) == 0


def test_a_file_over_max_mb_is_refused_before_it_is_read(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "big.csv"
    write_rows(f, 200)  # about 9 kB
    code, text = load(capsys, central_db, f, "--max-mb", "0.005")
    assert code == 1 and "big.csv is 0.0 MB, over the 0.005 MB allowed (--max-mb)" in text
    assert people(central_db) == 0
    # The default is 50 MB: a file one byte over it is refused without being read.
    sparse = tmp_path / "sparse.csv"
    with sparse.open("wb") as out:
        out.truncate(50_000_001)
    code, text = load(capsys, central_db, sparse)
    assert code == 1 and "sparse.csv is 50.0 MB, over the 50 MB allowed (--max-mb)" in text
    assert people(central_db) == 0
    # Within the limit, the same file loads.
    code, text = load(capsys, central_db, f, "--max-mb", "1")
    assert code == 0 and "Loaded 200 rows: 200 new" in text
    assert people(central_db) == 200


def test_a_device_or_pipe_is_not_read(tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # /dev/zero has no size and no end: it would be read for ever.
    code, text = load(capsys, central_db, Path("/dev/zero"))
    assert code == 1 and "zero is not a regular file" in text
    fifo = tmp_path / "caseload.csv"
    os.mkfifo(fifo)
    code, text = load(capsys, central_db, fifo)
    assert code == 1 and "caseload.csv is not a regular file" in text
    assert people(central_db) == 0


def test_bytes_that_are_not_utf8_a_nul_and_an_empty_file_are_refused(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "latin1.csv"
    f.write_bytes((HEADER + row(1)).encode() + "KC-2,Tést,Testperson,2005-01-02,DEW\n".encode("latin-1"))
    code, text = load(capsys, central_db, f)
    assert code == 1 and "not UTF-8 text" in text
    f.write_bytes((HEADER + row(1)).encode() + b"KC-2,Te\x00st,Testperson,2005-01-02,DEW\n")
    code, text = load(capsys, central_db, f)  # the csv module reads a NUL since 3.11: the Person refuses it
    assert code == 1 and "line 3, first_name: Name contains characters that cannot be shown" in text
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, text = load(capsys, central_db, empty)
    assert code == 1 and "empty.csv is empty" in text
    assert people(central_db) == 0


def test_a_bad_row_at_the_end_of_a_long_file_loads_nothing(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "long.csv"
    write_rows(f, 20_000, last="KC-X,Testfirst,Testperson,2005-13-40,DEW\n")
    code, text = load(capsys, central_db, f)
    assert code == 1 and "line 20002, date_of_birth:" in text
    assert people(central_db) == 0


def test_a_case_id_twice_far_apart_is_named_with_both_lines(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "dupes.csv"
    write_rows(f, 5_000, last=row(17, "Testagain"))
    code, text = load(capsys, central_db, f)
    assert code == 1 and "line 5002, case_id: the same case id is on line 18" in text
    assert "Testagain" not in text
    assert people(central_db) == 0


def test_many_bad_rows_are_counted_not_all_listed(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + "".join(f"KC-{n},Testfirst,Testperson,not-a-date,DEW\n" for n in range(1000)))
    code, text = load(capsys, central_db, f)
    assert code == 1 and "line 101, date_of_birth" in text and "line 102," not in text
    assert "... and 900 more problems" in text
    assert people(central_db) == 0


def test_a_load_that_fails_part_way_keeps_nothing_of_it(tmp_path: Path, central_db: str) -> None:
    """All or nothing inside the one transaction: the file is changed after it was checked
    (the second read finds it out at its end, after every row was written), and the people
    an earlier load made are left exactly as they were."""
    store = CentralStore.open(central_db)
    try:
        f = tmp_path / "caseload.csv"
        write_rows(f, 300)
        store.load_caseload(stream_caseload(check_caseload(f)), NOW)
        assert store.count("people") == 300
        changes = store.count("changes")
        with f.open("w") as out:  # every row changed: each would be a new version
            out.write(HEADER + "".join(row(n, "Testchanged") for n in range(1, 301)))
        checked = check_caseload(f)
        with f.open("a") as out:
            out.write(row(301))
        with pytest.raises(CaseloadError, match="changed while it was being loaded: nothing loaded"):
            store.load_caseload(stream_caseload(checked), NOW)
        assert store.count("people") == 300 and store.count("changes") == changes
        person = store.person_by_case_id("KC-0000001")
        assert person is not None and person["version"] == 1 and person["first_name"] == "Testfirst"
    finally:
        store.close()


def test_checking_a_file_keeps_memory_flat(tmp_path: Path) -> None:
    """The check holds no rows: 10x the rows costs no more than a little more memory.
    (bench/bench_caseload.py measures a whole load's peak RSS at 100,000 and 1,000,000 rows.)"""
    peaks = []
    for count in (2_000, 20_000):
        f = tmp_path / f"rows{count}.csv"
        write_rows(f, count)
        tracemalloc.start()
        try:
            assert check_caseload(f).rows == count
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # The fixed 8 MB case-id filter dominates both; reading rows into a list would add ~40 MB.
    assert peaks[1] - peaks[0] < 1_000_000, peaks


def test_import_bundle_nested_deep_is_refused(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.bundle"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    code, _, err = run(capsys, "--db", central_db, "import-bundle", str(deep))
    assert code == 2 and "not a hubdesk sync bundle" in err and "Recursion" not in err
    nested = tmp_path / "nested.bundle"
    inner = "[" * 900 + "]" * 900
    nested.write_text(
        '{"format": "hubdesk-bundle/1", "device_id": "d", "hub_code": "DEW", "user": "sam", '
        f'"created_at": "2026-11-25T09:40:00+00:00", "nonce": {inner}}}'
    )
    code, _, err = run(capsys, "--db", central_db, "import-bundle", str(nested))
    assert code == 2 and "not a hubdesk sync bundle" in err
    store = CentralStore.open(central_db)
    try:
        assert store.count("received") == 0 and store.count("records") == 0
    finally:
        store.close()


@pytest.mark.parametrize("expires", ["99999999d", "9" * 40 + "h", "0m", "31d"])
def test_enrol_expiry_out_of_range_is_refused(
    expires: str, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--db", central_db, "enrol", "--hub", "DEW", "--expires", expires])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --expires: give a duration above 0 and at most 30d" in err and "Traceback" not in err
