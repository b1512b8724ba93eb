"""A hub laptop's install: the wheel without the `central` extra runs the desk and `hubdesk sync`.

The wheel is built from this tree and installed with pip into a new virtual environment
(no system site-packages), its dependencies from the package index, so the environment
holds exactly what `pip install hubdesk` gives a laptop. There FastAPI, uvicorn, psycopg
and starlette must not be found at all; every module of the desk imports; the desk opens
and unlocks under Pilot; and `hubdesk sync` talks to a central service this test starts
in another process (from the project's own environment, which has the extra).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubcentral.cli import DEFAULT_PORT
from hubcentral.storage import CentralStore

ROOT = Path(__file__).resolve().parent.parent
CENTRAL_ONLY = ("fastapi", "uvicorn", "psycopg", "starlette")
PASSPHRASE = "hubdesk-demo"  # the demo's documented passphrase; fake people only

pytestmark = pytest.mark.slow


def run(argv: list[str | Path], *, env: dict[str, str] | None = None, timeout: float = 240) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, timeout=timeout, check=False)
    assert done.returncode == 0, f"{argv[:4]} exited {done.returncode}: {done.stderr.strip()[-1500:]}"
    return done.stdout


@pytest.fixture(scope="module")
def laptop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed as a laptop would: no extra."""
    work = tmp_path_factory.mktemp("laptop-install")
    source = work / "source"
    source.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("src", "sync"):
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "wheels", source])
    wheel = next((work / "wheels").glob("hubdesk-*.whl"))
    venv = work / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel])
    return venv


def laptop_env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME")}
    return {**keep, "HUBDESK_HOME": str(home), "HUBDESK_PASSPHRASE": PASSPHRASE, "HUBDESK_KDF_PROFILE": "fast"}


IMPORTS = """
import importlib, importlib.util, json, pkgutil, sys
import hubdesk
central = sys.argv[1:]
absent = [m for m in central if importlib.util.find_spec(m) is None]
names = [m.name for m in pkgutil.walk_packages(hubdesk.__path__, "hubdesk.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"absent": absent, "modules": len(names),
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in central)}))
"""

DESK = """
import asyncio, os, sys
from pathlib import Path
from hubdesk.app import make_app

async def main():
    app = make_app(Path(os.environ["HUBDESK_HOME"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#login").value = "sam"
        screen.query_one("#passphrase").value = os.environ["HUBDESK_PASSPHRASE"]
        screen.query_one("#passphrase").focus()
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.1)
            if type(app.screen).__name__ == "DeskScreen":
                break
        print(type(app.screen).__name__)
        app.exit()

asyncio.run(main())
"""


def test_the_desk_installs_and_runs_without_the_central_extra(laptop: Path, tmp_path: Path) -> None:
    python = laptop / "bin" / "python"
    report = json.loads(run([python, "-c", IMPORTS, *CENTRAL_ONLY]).strip().splitlines()[-1])
    assert report["absent"] == list(CENTRAL_ONLY), "a laptop install must not bring the central service's packages"
    assert report["modules"] > 40 and report["loaded"] == []
    env = laptop_env(tmp_path / "desk")
    run([laptop / "bin" / "hubdesk", "demo", "--people", "30", "--days", "2", "--seed", "5"], env=env)
    assert run([python, "-c", DESK], env=env).strip().splitlines()[-1] == "DeskScreen"
    assert "The store is healthy" in run([laptop / "bin" / "hubdesk", "doctor", "--user", "sam"], env=env)
    # The service itself says what it is missing, in one line.
    done = subprocess.run(
        [laptop / "bin" / "hubdesk-central", "--db", tmp_path / "c.db", "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "pip install 'hubdesk[central]'" in done.stderr
    assert "Traceback" not in done.stderr
    # So does any command given a PostgreSQL database (psycopg is the extra's).
    done = subprocess.run(
        [laptop / "bin" / "hubdesk-central", "--db", "postgresql://nobody@127.0.0.1:5432/none", "devices", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "psycopg is not installed: pip install 'hubdesk[central]'" in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The central service in its own process (the project's environment, with the extra)."""
    from hubdesk.demo import DEMO_USERS, EXAMPLE_REFERENCE
    from hubdesk.sync.protocol import CentralReference

    db = str(tmp_path / "central.db")
    reference = CentralReference(
        hubs=EXAMPLE_REFERENCE.hubs,
        users=DEMO_USERS,
        session_types=EXAMPLE_REFERENCE.session_types,
        contact_purposes=EXAMPLE_REFERENCE.contact_purposes,
        payment_categories=EXAMPLE_REFERENCE.payment_categories,
        example=True,
    )
    (tmp_path / "reference.json").write_text(reference.model_dump_json())
    central = [sys.executable, "-m", "hubcentral.cli", "--db", db]
    run([*central, "reference", "set", tmp_path / "reference.json"])
    (tmp_path / "caseload.csv").write_text(
        "case_id,first_name,last_name,date_of_birth,hub_code\n"
        "PKG-1,Testfirst,Testperson,2005-01-02,DEW\n"
        "PKG-2,Testsecond,Testperson,2006-03-04,DEW\n"
        "PKG-3,Testthird,Testperson,2004-05-06,N11\n"
    )
    run([*central, "caseload", "load", tmp_path / "caseload.csv"])
    port = free_port()
    log = (tmp_path / "service.log").open("w")
    proc = subprocess.Popen([*central, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, (tmp_path / "service.log").read_text()[-800:]
            time.sleep(0.1)
        code = run([*central, "enrol", "--hub", "DEW", "--expires", "30m"]).strip()
        yield f"http://127.0.0.1:{port}", code, db
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_hubdesk_sync_runs_without_the_central_extra(
    laptop: Path, tmp_path: Path, service: tuple[str, str, str]
) -> None:
    """A new laptop as a council sets one up: init, enrol, sync; the caseload arrives."""
    url, code, db = service
    env = laptop_env(tmp_path / "desk")
    hubdesk = laptop / "bin" / "hubdesk"
    run([hubdesk, "init", "--hub", "DEW", "--user", "nadia", "--role", "duty_manager", "--limit", "250"], env=env)
    run([hubdesk, "enrol", "--user", "nadia", "--server", url, "--code", code, "--label", "laptop test"], env=env)
    run([hubdesk, "sync", "--user", "nadia"], env=env)
    people = json.loads(run([hubdesk, "export", "--user", "nadia", "--what", "people", "--format", "json"], env=env))
    assert sorted(p["case_id"] for p in people) == ["PKG-1", "PKG-2", "PKG-3"]
    store = CentralStore.open(db)
    try:
        assert store.count("devices") == 1
        assert store.audit_devices(), "the desk's audit chain reached the service"
    finally:
        store.close()


def test_one_default_port_everywhere() -> None:
    from hubcentral.cli import parser
    from hubdesk import demo_run

    serve = parser().parse_args(["serve"])
    assert serve.port == DEFAULT_PORT == 8470
    if "HUBDESK_DEMO_PORT" not in os.environ:
        assert demo_run.DEMO_PORT == DEFAULT_PORT
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        assert "8765" not in text, doc.name
        ports = set(re.findall(r"(?:--port |127\.0\.0\.1:|localhost:)(\d{4,5})", text))
        assert ports - {"5432"} <= {str(DEFAULT_PORT)}, (doc.name, ports)  # 5432: PostgreSQL's own
