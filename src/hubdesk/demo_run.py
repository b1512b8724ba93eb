"""`make run`: build the demo profile if it is not there yet, start a central record
service for it on loopback, and open the desk on it.

The demo central service keeps its (synthetic) records in `central.db` beside the demo
store and listens on 127.0.0.1 only; the desk enrols with it once and syncs as any desk
does. If the port is taken, the desk opens anyway and works offline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hubdesk import config
from hubdesk.demo import (
    DEMO_PASSPHRASE,
    DEMO_USERS,
    EXAMPLE_REFERENCE,
    add_demo_history,
    build_demo,
    create_demo_store,
    demo_caseload,
)
from hubdesk.domain.models import Person
from hubdesk.store.store import Store, store_exists

DEMO_PORT = int(os.environ.get("HUBDESK_DEMO_PORT", "8470"))
DEMO_PEOPLE, DEMO_DAYS, DEMO_SEED = 300, 21, 7
DEMO_PER_DAY = (30, 60)  # contacts a day at a busy hub


def _central_reference():
    from hubdesk.sync.protocol import CentralReference

    ref = EXAMPLE_REFERENCE
    return CentralReference(
        hubs=ref.hubs,
        users=DEMO_USERS,
        session_types=ref.session_types,
        contact_purposes=ref.contact_purposes,
        payment_categories=ref.payment_categories,
        local_offer=ref.local_offer,
        example=True,
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_central(data_dir: Path, caseload: list[Person] | None = None) -> subprocess.Popen | None:
    """The demo's central service on 127.0.0.1:DEMO_PORT, or None if it cannot start.

    A new central database gets the example reference data and, when given, the demo
    caseload (both hubs), as a council's would from its case management system."""
    try:
        from hubcentral.storage import CentralStore
    except ImportError:
        return None
    if not _port_free(DEMO_PORT):
        print(f"  port {DEMO_PORT} is in use: the desk opens offline (set HUBDESK_DEMO_PORT)")
        return None
    db = data_dir / "central.db"
    if not db.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        central = CentralStore.open(str(db))
        try:
            now = datetime.now(UTC)
            central.set_reference(_central_reference(), now)
            if caseload:
                rows = [p.model_dump(mode="json", exclude={"id", "version"}) for p in caseload]
                central.load_caseload(rows, now)
        finally:
            central.close()
    log = open(data_dir / "central.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubcentral.cli",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--port",
            str(DEMO_PORT),
        ],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    for _ in range(100):
        if not _port_free(DEMO_PORT):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    print(f"  the demo central service did not start (see {data_dir / 'central.log'}); the desk opens offline")
    process.terminate()
    return None


def enrol_demo(data_dir: Path, passphrase: str) -> None:
    """Enrol the demo desk with the demo central service, once."""
    from hubcentral.storage import CentralStore
    from hubdesk.store import sync_state
    from hubdesk.sync.client import enrol

    with Store.unlock(data_dir, "nadia", passphrase) as store:
        if sync_state.enrolled(store):
            return
        now = datetime.now(UTC)
        central = CentralStore.open(str(data_dir / "central.db"))
        try:
            code = central.make_enrolment_code(store.hub_code, now + timedelta(minutes=10), now)
        finally:
            central.close()
        enrol(store, f"http://127.0.0.1:{DEMO_PORT}", code, label="demo desk")
        print(f"  enrolled the demo desk with the central service on 127.0.0.1:{DEMO_PORT}")


def build_from_central(
    data_dir: Path, passphrase: str, caseload: list[Person], today: date | None = None
) -> dict[str, int]:
    """The demo desk as a real one starts: enrolled, its working set pulled from the central
    record (its own hub's people in full, the other hub's only as duty needs them), then
    weeks of duty work recorded at the desk and not yet synced."""
    from hubdesk.sync.client import SyncClient

    create_demo_store(data_dir, passphrase).lock()
    enrol_demo(data_dir, passphrase)
    with Store.unlock(data_dir, "nadia", passphrase) as store:
        with SyncClient(store) as client:
            client.pull()
        held = store.people()
        day = today or date.today()
        counts = add_demo_history(store, held, days=DEMO_DAYS, seed=DEMO_SEED, today=day, per_day=DEMO_PER_DAY)
    return {"people": len(caseload), "held here": len(held), **counts}


def main() -> int:
    data_dir = config.data_dir()
    passphrase = os.environ.get("HUBDESK_PASSPHRASE") or DEMO_PASSPHRASE
    fresh = not store_exists(data_dir)
    caseload = None
    if fresh:
        print(f"Building the demo in {data_dir} (synthetic people only)...", flush=True)
        caseload = demo_caseload(DEMO_PEOPLE, DEMO_SEED, date.today())
        (data_dir / "central.db").unlink(missing_ok=True)  # a new demo desk gets a new central record
    central = start_central(data_dir, caseload)
    try:
        if fresh:
            if central is not None:
                try:
                    counts = build_from_central(data_dir, passphrase, caseload or [])
                except Exception as exc:
                    print(f"  the demo could not be built with its central service ({type(exc).__name__}: {exc});")
                    print("  run `make clean` and `make run` again")
                    return 1
            else:  # offline: the desk makes its own hub's people, which it may send later
                counts = build_demo(
                    data_dir, people=DEMO_PEOPLE, days=DEMO_DAYS, seed=DEMO_SEED, per_day=DEMO_PER_DAY, only_hub="DEW"
                )
            print("  " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        elif central is not None:
            try:
                enrol_demo(data_dir, passphrase)
            except Exception as exc:  # the demo desk still opens, offline
                print(f"  could not enrol the demo desk ({type(exc).__name__}); it opens offline")
        print(f"Demo users: sam (PA), nadia (duty manager), priya, tom, admin; passphrase '{passphrase}'")
        from hubdesk.app import run_desk

        return run_desk(data_dir)
    finally:
        if central is not None:
            central.terminate()
            try:
                central.wait(timeout=5)
            except subprocess.TimeoutExpired:
                central.kill()


if __name__ == "__main__":
    sys.exit(main())
