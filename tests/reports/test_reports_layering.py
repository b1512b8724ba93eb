"""The report and end-of-day modules stay headless (no Textual), and domain.day does no I/O."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "hubdesk.domain.day",
    "hubdesk.store.day",
    "hubdesk.reports.daily",
    "hubdesk.reports.in_touch",
    "hubdesk.reports.commands",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_module_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'hubdesk.screens', "
        "'hubdesk.widgets'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_day_does_no_io() -> None:
    code = (
        "import sys, hubdesk.domain.day\n"
        "bad = [m for m in sys.modules if m.startswith(('sqlcipher3', 'sqlite_utils', 'hubdesk.store', "
        "'hubdesk.reports'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
