"""Every `hubdesk` and `hubdesk-central` command the documents show exists, with its options.

Each command line in the code blocks of docs/*.md is parsed by the program's own argument
parser (the real one, as `main` builds it): a command or option renamed or removed makes
this fail, naming the document and the line. (Running them was done by hand when they were
written; this keeps them from drifting.)
"""

from __future__ import annotations

import contextlib
import io
import shlex
from pathlib import Path

import pytest

from hubcentral.cli import parser as central_parser
from hubdesk.cli import build_parser as desk_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented_commands() -> list[tuple[str, int, list[str]]]:
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        fenced = False
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            if line.startswith("```"):
                fenced = not fenced
                continue
            indented = line.startswith("    ")
            if not (fenced or indented):
                continue
            text = line.split(" #")[0].split(" > ")[0].strip()
            if not text.startswith(("hubdesk ", "hubdesk-central ")):
                continue
            found.append((doc.name, number, shlex.split(text)))
    return found


COMMANDS = documented_commands()


def test_the_documents_show_commands() -> None:
    programs = {argv[0] for _, _, argv in COMMANDS}
    assert programs == {"hubdesk", "hubdesk-central"} and len(COMMANDS) > 20


@pytest.mark.parametrize(("doc", "line", "argv"), COMMANDS, ids=[f"{d}:{n}" for d, n, _ in COMMANDS])
def test_a_documented_command_parses(doc: str, line: int, argv: list[str]) -> None:
    parser = desk_parser() if argv[0] == "hubdesk" else central_parser()
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            parser.parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"{doc} line {line}: `{' '.join(argv)}` is refused: {err.getvalue().strip()[-300:]}")
