"""`hubdesk-central` commands, and the device's `enrol` / `sync` handlers the CLI wires in."""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, day_of_records

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync import commands

HEADER = "case_id,first_name,last_name,date_of_birth,hub_code,legal_status,allocated_pa,uasc,alerts\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_caseload_bad_rows_are_named_and_nothing_is_half_loaded(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "caseload.csv"
    f.write_text(
        HEADER
        + "KC-1,Ada,Testperson,2005-01-02,DEW,former_relevant,,no,\n"
        + "KC-2,Bo,Testperson,2005-13-40,DEW,,,no,\n"
        + "KC-3,Cy,Testperson,2004-02-02,DEW,pirate,,maybe,\n"
        + "KC-1,Di,Testperson,2004-02-02,DEW,,,,\n"
        + "KC-5,Ed,Testperson,2004-02-02,DEW,,,,risk\n"
    )
    code, _, err = run(capsys, "--db", central_db, "caseload", "load", str(f))
    assert code == 1
    assert "line 3, date_of_birth:" in err
    assert "line 4, uasc: Must be yes or no" in err
    assert "line 5, case_id: the same case id is on line 2" in err
    assert "line 6, alerts:" in err
    assert "Testperson" not in err and "Ada" not in err  # no personal data in messages
    store = CentralStore.open(central_db)
    assert store.count("people") == 0
    store.close()


def test_caseload_unknown_column(tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "caseload.csv"
    f.write_text("case_id,first_name,date_of_birth,hub_code,shoe_size\nKC-1,Ada,2005-01-02,DEW,9\n")
    code, _, err = run(capsys, "--db", central_db, "caseload", "load", str(f))
    assert code == 1 and "unknown column 'shoe_size'" in err


def test_caseload_load_is_idempotent_and_versions_changes(
    tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "caseload.csv"
    f.write_text(HEADER + "KC-1,Ada,Testperson,2005-01-02,DEW,former_relevant,sam,yes,risk: synthetic\n")
    assert run(capsys, "--db", central_db, "caseload", "load", str(f))[1].startswith("Loaded 1 rows: 1 new")
    assert "1 unchanged" in run(capsys, "--db", central_db, "caseload", "load", str(f))[1]
    f.write_text(HEADER + "KC-1,Ada,Testperson,2005-01-02,DEW,former_relevant,,yes,risk: synthetic\n")
    assert "1 changed" in run(capsys, "--db", central_db, "caseload", "load", str(f))[1]
    store = CentralStore.open(central_db)
    person = store.person_by_case_id("KC-1")
    assert person is not None and person["version"] == 2 and person["allocated_pa"] is None and person["uasc"]
    store.close()


def test_reference_set_and_show(tmp_path: Path, central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ref.json"
    f.write_text(CENTRAL_REFERENCE.model_dump_json())
    code, out, _ = run(capsys, "--db", central_db, "reference", "set", str(f))
    assert code == 0 and "2 hubs, 4 users" in out
    code, out, _ = run(capsys, "reference", "show", "--db", central_db)
    assert json.loads(out)["payment_categories"][0]["code"] == "gas"
    bad = json.loads(f.read_text())
    bad["payment_categories"][0]["limit_pence"] = -5
    bad["users"][0]["role"] = "wizard"
    f.write_text(json.dumps(bad))
    code, _, err = run(capsys, "--db", central_db, "reference", "set", str(f))
    assert code == 1 and "payment_categories.0.limit_pence" in err and "users.0.role" in err


def test_reference_show_when_empty(central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--db", central_db, "reference", "show")[0] == 1


def test_enrol_devices_list_and_revoke(
    central: CentralStore, central_db: str, server: LiveServer, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", central_db, "enrol", "--hub", "dew", "--expires", "30m")
    assert code == 0 and "hub DEW" in err
    one_time = out.strip()
    assert run(capsys, "--db", central_db, "enrol", "--hub", "XYZ")[0] == 2
    args = argparse.Namespace(server=server.url, code=one_time, label="front desk", ca=None)
    assert commands.run_enrol(args, store) == 0
    assert "Enrolled" in capsys.readouterr().out
    code, out, _ = run(capsys, "--db", central_db, "devices", "list")
    assert store.meta("device_id") in out and "active" in out and "front desk" in out
    code, out, _ = run(capsys, "--db", central_db, "devices", "revoke", store.meta("device_id"))
    assert code == 0 and "Revoked" in out
    assert "revoked" in run(capsys, "--db", central_db, "devices", "list")[1]
    assert run(capsys, "--db", central_db, "devices", "revoke", "no-such-device")[0] == 1
    sync = argparse.Namespace(to_file=None, quiet=True, ca=None)
    assert commands.run_sync(sync, store) == 2
    assert "revoked" in capsys.readouterr().err


def test_sync_command_progress_and_exit_status(
    device: Store, server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    day_of_records(device, people=1)
    parser = argparse.ArgumentParser()
    commands.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sync"])
    assert args.store_command(args, device) == 0
    out, err = capsys.readouterr()
    assert "Sending" in err and out.startswith("Sent ")
    assert device.outbox_waiting() == 0
    args = parser.parse_args(["enrol", "--server", server.url, "--code", "X"])
    assert args.store_command is commands.run_enrol


def test_sync_when_the_service_is_down(device: Store, server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    day_of_records(device, people=1)
    server.stop()
    from hubdesk.sync.client import SyncClient, Unreachable

    with SyncClient(device, retries=1, backoff=0.01) as client, pytest.raises(Unreachable):
        client.sync()
    assert device.outbox_waiting() > 0
    assert commands.run_sync(argparse.Namespace(to_file=None, quiet=True, ca=None), device) == 3
    server.start()


def test_not_enrolled(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.run_sync(argparse.Namespace(to_file=None, quiet=True, ca=None), store) == 4
    assert "not enrolled" in capsys.readouterr().err


def test_export_csv_and_json_since(
    device: Store, server: LiveServer, central_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day_of_records(device, people=2)
    from hubdesk.sync.client import SyncClient

    with SyncClient(device) as client:
        client.sync()
    code, out, _ = run(capsys, "--db", central_db, "export", "--what", "payment", "--format", "csv")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3 and "amount_pence" in lines[0] and "receipt_no" in lines[0]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    code, out, _ = run(capsys, "--db", central_db, "export", "--what", "contact", "--since", tomorrow)
    assert json.loads(out) == []
    code, out, _ = run(capsys, "--db", central_db, "export", "--what", "contact", "--since", "2020-01-01")
    assert len(json.loads(out)) == len(device._rows("SELECT id FROM contacts"))
    with pytest.raises(SystemExit):
        cli.main(["--db", central_db, "export", "--what", "all", "--format", "csv"])


def test_serve_refuses_plain_http_off_loopback(central_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--db", central_db, "serve", "--host", "0.0.0.0")[0] == 2  # noqa: S104
    assert run(capsys, "--db", central_db, "serve", "--tls-cert", "x.pem")[0] == 2


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Wide, fixed validity: TLS checks it against the system clock, which a run on a
        # moved clock (HUBDESK_TEST_MOVE_CLOCK) does not move.
        .not_valid_before(datetime(2000, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2099, 1, 1, tzinfo=UTC))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_serve_over_tls_as_a_process(tmp_path: Path, store: Store) -> None:
    """The real console entry point: serve with a certificate, enrol and sync over https."""
    db = str(tmp_path / "central.db")
    central = CentralStore.open(db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    code = central.make_enrolment_code("DEW", datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC))
    central.close()
    cert, key = _self_signed(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubcentral.cli",
            "--db",
            db,
            "serve",
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        url = f"https://127.0.0.1:{port}"
        trust = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(url + "/v1/health", verify=trust).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/v1/health")  # an unknown certificate is not trusted by default
        args = argparse.Namespace(server=url, code=code, label="", ca=str(cert))
        assert commands.run_enrol(args, store) == 0
        day_of_records(store, people=1)
        assert commands.run_sync(argparse.Namespace(to_file=None, quiet=True, ca=str(cert)), store) == 0
        assert store.outbox_waiting() == 0 and sync_state.cursor(store) > 0
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def test_bundle_carried_and_imported_exactly_once(
    device: Store,
    server: LiveServer,
    central: CentralStore,
    central_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sync_helpers import device_records

    day_of_records(device, people=2)
    waiting = device.outbox_waiting()
    bundle = tmp_path / "stick" / "dew.bundle"
    bundle.parent.mkdir()
    assert commands.run_sync(argparse.Namespace(to_file=str(bundle), quiet=True, ca=None), device) == 0
    assert f"Wrote {waiting} records" in capsys.readouterr().out
    raw = bundle.read_bytes()
    assert b"Synthetic" not in raw and b"Walkin" not in raw  # sealed: no personal data in clear
    code, out, _ = run(capsys, "--db", central_db, "import-bundle", str(bundle))
    assert code == 0 and f"{waiting} new" in out
    code, out, _ = run(capsys, "--db", central_db, "import-bundle", str(bundle))
    assert code == 0 and f"0 new, {waiting} already held" in out
    for kind, records in device_records(device).items():
        assert {r["id"]: r for r in central.records(kind)} == records
    # The desk later syncs online: everything is already there, nothing twice.
    from hubdesk.sync.client import SyncClient

    with SyncClient(device) as client:
        report = client.sync()
    assert report.already_had == waiting and report.accepted == 0


def test_tampered_or_foreign_bundles_are_refused(
    device: Store,
    server: LiveServer,
    central: CentralStore,
    central_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day_of_records(device, people=1)
    bundle = tmp_path / "dew.bundle"
    commands.run_sync(argparse.Namespace(to_file=str(bundle), quiet=True, ca=None), device)
    sealed = json.loads(bundle.read_text())
    for change in ({"hub_code": "N11"}, {"user": "nadia"}, {"ciphertext": sealed["ciphertext"][:-4] + "AAAA"}):
        (tmp_path / "bad.bundle").write_text(json.dumps({**sealed, **change}))
        code, _, err = run(capsys, "--db", central_db, "import-bundle", str(tmp_path / "bad.bundle"))
        assert code == 2 and "signature" in err
    (tmp_path / "junk.bundle").write_text("not a bundle")
    assert run(capsys, "--db", central_db, "import-bundle", str(tmp_path / "junk.bundle"))[0] == 2
    central.revoke(device.meta("device_id"), datetime.now(UTC))
    code, _, err = run(capsys, "--db", central_db, "import-bundle", str(bundle))
    assert code == 2 and "revoked" in err
    assert central.count("received") == 0
