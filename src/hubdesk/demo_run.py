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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hubdesk import config
from hubdesk.demo import DEMO_PASSPHRASE, DEMO_USERS, EXAMPLE_REFERENCE, build_demo
from hubdesk.store.store import Store, store_exists

DEMO_PORT = int(os.environ.get("HUBDESK_DEMO_PORT", "8470"))


def _central_reference():
    from hubdesk.sync.protocol import CentralReference

    ref = EXAMPLE_REFERENCE
    return CentralReference(
        hubs=ref.hubs,
        users=DEMO_USERS,
        session_types=ref.session_types,
        contact_purposes=ref.contact_purposes,
        payment_categories=ref.payment_categories,
        example=True,
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_central(data_dir: Path) -> subprocess.Popen | None:
    """The demo's central service on 127.0.0.1:DEMO_PORT, or None if it cannot start."""
    try:
        from hubcentral.storage import CentralStore
    except ImportError:
        return None
    db = data_dir / "central.db"
    if not db.exists():
        central = CentralStore.open(str(db))
        try:
            central.set_reference(_central_reference(), datetime.now(UTC))
        finally:
            central.close()
    if not _port_free(DEMO_PORT):
        print(f"  port {DEMO_PORT} is in use: the desk opens offline (set HUBDESK_DEMO_PORT)")
        return None
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


def main() -> int:
    data_dir = config.data_dir()
    if not store_exists(data_dir):
        print(f"Building the demo store in {data_dir} (synthetic people only)...", flush=True)
        counts = build_demo(data_dir, people=300, days=21, seed=7)
        print("  " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    passphrase = os.environ.get("HUBDESK_PASSPHRASE") or DEMO_PASSPHRASE
    central = start_central(data_dir)
    try:
        if central is not None:
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
