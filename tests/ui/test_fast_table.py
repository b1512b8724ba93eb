"""FastTable draws exactly what Textual's DataTable draws, only faster.

Each case renders the same rows in a DataTable and a FastTable and compares every cell of
the screen: its character, its style and the mouse meta in it. A difference in padding,
cropping, the cursor, zebra stripes, hover, focus or a cell's own style fails here."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable, Input

from hubdesk.widgets.fast_table import FastTable

ROWS = [
    (Text("Kayden Mockridge (Kay)"), Text("19"), Text.assemble(("⚠ Risk", "bold red"), " x"), Text("DEMO-1001")),
    (Text("Amira Testbury", style="bold"), Text("20"), Text(""), Text("DEMO-1002")),
    (Text("Jade Sampleton"), Text("17"), Text("é漢字 wide"), Text("DEMO-1003")),
    (Text("A very long name that will not fit the column"), Text("100"), Text("-"), Text("DEMO-1004")),
]


class Tables(App):
    def __init__(self, cls: type[DataTable], width: int, auto: bool = False, **options) -> None:
        super().__init__()
        self.cls, self.table_width, self.options, self.auto = cls, width, options, auto

    def compose(self) -> ComposeResult:
        yield Input(id="other")
        yield self.cls(id="t", **self.options)

    def on_mount(self) -> None:
        table = self.query_one("#t", DataTable)
        table.styles.width = self.table_width
        for key, width in (("name", 16), ("age", 3), ("alerts", 8), ("case", 9)):
            table.add_column(key.title(), width=None if self.auto else width, key=key)
        for n, row in enumerate(ROWS):
            table.add_row(*row, key=str(n))


def cells(strips) -> list[list[tuple[str, str, dict]]]:
    out = []
    for strip in strips:
        line = []
        for segment in strip:
            style = segment.style or Style()
            for ch in segment.text:
                line.append((ch, str(style), dict(style.meta or {})))
        out.append(line)
    return out


async def drawn(cls: type[DataTable], *, width: int, focus: bool, cursor: int, hover: int | None, **options):
    app = Tables(cls, width, **options)
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one("#t", DataTable)
        if focus:
            table.focus()
        table.move_cursor(row=cursor)
        if hover is not None:
            table._show_hover_cursor = True
            table.hover_coordinate = Coordinate(hover, 0)
        await pilot.pause()
        return table.virtual_size, cells(table.render_lines(Region(0, 0, table.size.width, table.size.height)))


@pytest.mark.parametrize(
    ("width", "focus", "cursor", "hover", "options"),
    [
        (60, True, 1, None, {"cursor_type": "row", "zebra_stripes": True}),
        (60, False, 0, 2, {"cursor_type": "row"}),
        (30, True, 3, None, {"cursor_type": "row", "zebra_stripes": True}),  # wider than the widget: cropped
        (60, True, 2, 1, {"cursor_type": "cell"}),
        (60, True, 0, None, {"cursor_type": "row", "show_cursor": False}),
        (60, True, 1, None, {"cursor_type": "row", "zebra_stripes": True, "auto": True}),  # measured widths
    ],
)
async def test_fast_table_draws_what_data_table_draws(width, focus, cursor, hover, options) -> None:
    expected_size, expected = await drawn(DataTable, width=width, focus=focus, cursor=cursor, hover=hover, **options)
    got_size, got = await drawn(FastTable, width=width, focus=focus, cursor=cursor, hover=hover, **options)
    assert got_size == expected_size
    assert "".join(ch for ch, _, _ in expected[1]).strip().startswith("Kayden")
    for y, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert have == want, f"line {y} differs"


async def test_a_row_of_two_lines_is_drawn_by_data_table() -> None:
    """A row taller than one line takes DataTable's own path: same result."""

    class TwoLines(Tables):
        def on_ready(self) -> None:
            self.query_one("#t", DataTable).add_row(
                Text("Two\nlines"), Text("1"), Text("-"), Text("DEMO-1"), key="tall", height=2
            )

    async def render(cls):
        app = TwoLines(cls, 60, cursor_type="row")
        async with app.run_test(size=(80, 12)) as pilot:
            await pilot.pause()
            table = app.query_one("#t", DataTable)
            return cells(table.render_lines(Region(0, 0, table.size.width, table.size.height)))

    assert await render(FastTable) == await render(DataTable)
