"""The TUI boundary: domain, store and sync import without Textual (as Harlequin checks)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "hubdesk.domain.models",
    "hubdesk.domain.rules",
    "hubdesk.store.store",
    "hubdesk.store.search",
    "hubdesk.store.keys",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'hubdesk.screens', 'hubdesk.widgets'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_does_no_io() -> None:
    code = (
        "import sys, hubdesk.domain.models, hubdesk.domain.rules, hubdesk.domain.money\n"
        "bad = [m for m in sys.modules if m.startswith(('sqlcipher3', 'sqlite_utils', 'hubdesk.store'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
