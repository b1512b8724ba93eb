"""Table columns that fit the terminal: the ones that matter first (a name, a status, an
amount, alerts) stay as it narrows to 80 columns; lesser ones narrow, then drop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual.widgets import DataTable

PADDING = 2  # a cell's padding, one each side


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    keep: int
    """Lower is kept longer as the terminal narrows."""
    least: int = 0
    """Narrowest it may be squeezed to before lesser columns are dropped (0: never squeezed)."""
    most: int = 0
    """Widest it grows to on a wide terminal (0: its width)."""


def fit_columns(
    columns: Sequence[Column], width: int, *, essential: int, squeeze_for: int
) -> tuple[tuple[Column, int], ...]:
    """The columns shown in `width` cells, in their order, each with its width.

    The `essential` columns kept first stay even if they overflow; to keep a column whose
    `keep` is at most `squeeze_for`, the squeezable ones narrow down to their `least`;
    lesser columns are dropped. Left-over room grows columns up to their `most`."""
    chosen: dict[str, int] = {}
    used = 0
    squeezable = [c for c in columns if c.least]
    for rank, column in enumerate(sorted(columns, key=lambda c: c.keep)):
        short = used + column.width + PADDING - width
        room = sum(chosen[c.key] - c.least for c in squeezable if c.key in chosen)
        if short > 0 and rank >= essential and (column.keep > squeeze_for or short > room):
            continue
        for other in squeezable:
            if short > 0 and other.key in chosen:
                give = min(short, chosen[other.key] - other.least)
                chosen[other.key] -= give
                used -= give
                short -= give
        chosen[column.key] = column.width
        used += column.width + PADDING
    for column in columns:
        if column.key in chosen and column.most and used < width:
            grow = min(width - used, column.most - chosen[column.key])
            chosen[column.key] += grow
            used += grow
    return tuple((c, chosen[c.key]) for c in columns if c.key in chosen)


def lay_out(table: DataTable, fitted: tuple[tuple[Column, int], ...]) -> bool:
    """Give `table` these columns (fixed widths); False if it already has them."""
    wanted = [(c.key, w) for c, w in fitted]
    have = [(str(key.value), col.width) for key, col in table.columns.items()]
    if wanted == have:
        return False
    table.clear(columns=True)
    for column, width in fitted:
        table.add_column(column.label, width=width, key=column.key)
    return True


def add_row(table: DataTable, cells: Mapping[str, object], *, key: str | None = None, height: int | None = 1) -> None:
    """A row given as {column key: cell}; cells of columns not shown at this width are left out."""
    table.add_row(*(cells.get(str(k.value), "") for k in table.columns), key=key, height=height)
