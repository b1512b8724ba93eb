"""Writing an export or report file: readable by its owner only (0600), never over a file by accident.

An export is personal data in clear. The desk's `export` and `report` commands and
`hubdesk-central export` all write through here: a new file is made with mode 0600
from the start (never made and then narrowed), an existing one is replaced only when
the caller says so (`--force`), and a replacement is written beside it and renamed
into place, so a reader never sees half a file and a failed write leaves the old one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class OutputRefused(Exception):
    """The file was not written; str() says why, naming no data."""


def check_target(path: Path, *, force: bool = False) -> Path:
    """The resolved path to write, or OutputRefused (it exists, or its folder does not)."""
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise OutputRefused(f"{target} is a folder; give a file name")
    if target.exists() and not force:
        raise OutputRefused(f"{target} already exists; choose a new file name, or give --force to replace it")
    if not target.parent.is_dir():
        raise OutputRefused(f"there is no folder {target.parent}")
    return target


def write_private(path: Path, text: str, *, force: bool = False) -> Path:
    """Write text (UTF-8) to path as a 0600 file; replace an existing file only with force."""
    target = check_target(path, force=force)
    data = text.encode("utf-8")
    if not force:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise OutputRefused(f"{target} already exists; choose a new file name, or give --force") from None
        _write_all(fd, data, target)
        return target
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    _write_all(fd, data, tmp)
    try:
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _write_all(fd: int, data: bytes, path: Path) -> None:
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


__all__ = ["OutputRefused", "check_target", "write_private"]
