"""A DataTable that draws one-line text cells without Rich's general layout.

Textual's DataTable renders every cell through `console.render_lines(Styled(Padding(...)))`,
which measures, wraps and crops a renderable in general: about 0.3 ms a cell on a busy
laptop, and a search redraws about 200 cells on every keystroke (its rows change, so the
table's cell cache is new each time). A one-line `Text` cell needs none of that: crop it to
the column, pad it, style it. Everything else (headers, row labels, fixed rows and columns,
rows taller than one line, cells that are not text) is drawn by DataTable as before, and
the cell cache is DataTable's own, keyed the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey


def _cell_text(cell: Text, width: int) -> Text:
    """The cell's text cropped and padded to `width` cells, as DataTable draws it: the text's
    own style kept (as a span: Text.render draws a text's own style only through its spans)
    over the text, not over the padding."""
    text = cell.copy()
    text.end = ""
    text.truncate(max(0, width), overflow="crop")
    if text.style:
        text.spans.insert(0, Span(0, len(text), text.style))
        text.style = ""
    text.pad_right(max(0, width - text.cell_len))
    return text


class FastTable(DataTable):
    """DataTable, with a quick path for the cells and rows a desk table is made of."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_styles: dict[tuple[Any, ...], Style] = {}

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """As DataTable's, without working out the same component style again for every row."""
        if row_index < self.fixed_rows:
            return super()._get_row_style(row_index, base_style)
        key = (row_index % 2 if self.zebra_stripes else None, base_style, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            if len(self._row_styles) > 64:
                self._row_styles.clear()
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """With every column a fixed width and every row one line, there is nothing to
        measure (DataTable measures every new cell, ~200 a keystroke in a search)."""
        rows = list(new_rows)
        if any(column.auto_width for column in self.columns.values()) or any(
            (row := self.rows.get(key)) is not None and (row.auto_height or row.label is not None) for key in rows
        ):
            super()._update_dimensions(rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header)

    def _row_of_text(self, row_key: RowKey) -> tuple[int, list[Text]] | None:
        """The row's index and its cells, if it is one line of plain text cells."""
        if row_key is self._header_row_key or row_key not in self._row_locations:
            return None
        row = self.rows.get(row_key)
        if row is None or row.height != 1:
            return None
        row_index = self._row_locations.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        if not all(isinstance(cell, Text) and "\n" not in cell.plain for cell in cells):
            return None
        return row_index, cells  # type: ignore[return-value]

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """A whole row of one-line text cells at once, for a table whose cursor is a row.

        Drawn as DataTable draws it (the cell and row styles, the row cursor and hover, each
        cell's row and column in its style's meta for the mouse, the row's style extended to
        the table's width), with one Text per row instead of a layout per cell."""
        found = None
        if self.cursor_type == "row" and not self.fixed_columns and not self._labelled_row_exists:
            found = self._row_of_text(row_key)
        if found is None or line_no != 0:
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cache_key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row_index, cells = found
        cursor = self.show_cursor and cursor_location.row == row_index
        hover = hover_location.row == row_index
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        row_style = self._get_row_style(row_index, base_style)
        console = self.app.console
        padding = Segment(" " * self.cell_padding)
        line: list[Segment] = []
        table_width = 0
        for column_index, (column, cell) in enumerate(zip(self.ordered_columns, cells, strict=False)):
            width = column.get_render_width(self)
            table_width += width
            text = _cell_text(cell, width - 2 * self.cell_padding)
            style = row_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
            line.extend(Segment.apply_style([padding, *text.render(console), padding], style, post_style))
        extend_style, _ = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor_location.row == row_index,
            self.show_cursor,
            self._show_hover_cursor,
            False,
            False,
        )
        extend_style = (
            row_style + extend_style + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        )
        remaining = max(0, self.size.width - table_width)
        rendered: tuple[list[list[Segment]], list[list[Segment]]] = (
            [],
            [line, [Segment(" " * remaining, extend_style)]],
        )
        self._row_render_cache[cache_key] = rendered
        return rendered

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        if row_index < self.fixed_rows or column_index < self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row = self.rows.get(row_key) if row_key is not None else None
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        if row is None or row.height != 1 or not isinstance(cell, Text) or "\n" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        padding = " " * self.cell_padding
        text = _cell_text(cell, width - 2 * self.cell_padding)
        segments = [Segment(padding), *text.render(self.app.console), Segment(padding)]
        style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        lines = [list(Segment.apply_style(segments, style, post_style))]
        self._cell_render_cache[cache_key] = lines
        return lines
