"""The service's figures written out: Markdown, spreadsheet-safe CSV, and a self-contained HTML
page with server-side SVG charts (no scripts, nothing fetched) that prints on A4. Used by
`hubdesk-central report service` (every hub) and the desk's end of day (one hub)."""

from __future__ import annotations

import html
from collections.abc import Mapping

from hubdesk.domain.figures import EET_STATES, PLAN_STATES, SUITABILITY, HubFigures, ServiceFigures
from hubdesk.domain.money import format_pence
from hubdesk.domain.spreadsheet import csv_text

FORMATS = ("html", "csv", "md")
EET_LABELS = {
    "education": "Education",
    "training": "Training",
    "employment": "Employment",
    "neet": "NEET",
    "not recorded": "Not recorded",
}


def _day(d) -> str:
    return f"{d.day} {d:%b %Y}"


def _columns(f: ServiceFigures) -> list[HubFigures]:
    """Each hub, then the whole service (one hub: just it)."""
    return [*f.hubs.values(), f.total] if len(f.hubs) != 1 else list(f.hubs.values())


def sections(
    f: ServiceFigures, hub_names: Mapping[str, str], categories: Mapping[str, str]
) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) for each section, every cell a string: one source for all formats."""
    cols = _columns(f)
    head = ["", *[("All hubs" if c.hub == "ALL" else hub_names.get(c.hub, c.hub)) for c in cols]]
    if len(cols) == 1:
        head = ["", "Figure"]  # one hub: its name is in the title already
    out = []
    rows = [[band, *[str(c.in_touch[band]) for c in cols]] for band in (b.label for b in f.bands)]
    rows.append(["All PA cases", *[str(c.in_touch_total) for c in cols]])
    out.append(
        (
            "In touch by age band",
            head,
            rows,
            "Seen or spoken to within the young person's own contact frequency (the band's default where none "
            "is set), counted back from the end of the day. Aged 25 and over are left out unless on extended "
            "support; qualifying young people without an allocated PA are counted apart.",
        )
    )
    out.append(
        (
            "Who is counted",
            head,
            [
                ["PA cases", *[str(c.pa_cases) for c in cols]],
                ["Qualifying, no allocated PA (apart)", *[str(c.qualifying_apart) for c in cols]],
                ["Aged 25 or over (support ended)", *[str(c.over_25) for c in cols]],
            ],
            "",
        )
    )
    out.append(
        (
            "Accommodation",
            head,
            [[s.capitalize(), *[str(c.accommodation[s]) for c in cols]] for s in SUITABILITY],
            "Bed and breakfast, custody and no fixed abode are never counted suitable.",
        )
    )
    for c in cols:
        label = "All hubs" if c.hub == "ALL" else hub_names.get(c.hub, c.hub)
        bands = [b.label for b in f.bands]
        out.append(
            (
                "Education, employment or training by age band" + (f": {label}" if len(cols) > 1 else ""),
                ["", *bands, "All"],
                [
                    [EET_LABELS[s], *[str(c.eet[b][s]) for b in bands], str(sum(c.eet[b][s] for b in bands))]
                    for s in EET_STATES
                ],
                f"Engaged in education, training or employment: {c.engaged}.",
            )
        )
    out.append(
        (
            "Pathway plans",
            head,
            [[s.capitalize(), *[str(c.plans[s]) for c in cols]] for s in PLAN_STATES],
            "A plan is reviewed at least every 6 months: overdue when its next review is before the day.",
        )
    )
    out.append(
        (
            "Actions",
            head,
            [
                ["Open", *[str(c.actions_open) for c in cols]],
                ["Overdue", *[str(c.actions_overdue) for c in cols]],
            ],
            "Actions from contacts not done by the end of the day, by the young person's hub.",
        )
    )
    cats = sorted({k for c in cols for k in c.payments}, key=lambda k: categories.get(k, k).lower())
    pay_rows = []
    for cat in cats:
        cells = []
        for c in cols:
            n, pence = c.payments.get(cat, (0, 0))
            cells.append(f"{n} ({format_pence(pence)})")
        pay_rows.append([categories.get(cat, cat), *cells])
    totals = []
    for c in cols:
        n = sum(v[0] for v in c.payments.values())
        totals.append(f"{n} ({format_pence(sum(v[1] for v in c.payments.values()))})")
    pay_rows.append(["All payments", *totals])
    out.append(
        (
            f"Emergency payments, {_day(f.since)} to {_day(f.as_of)}",
            head,
            pay_rows,
            "Count (total). Approved payments only: declined, reversed and awaiting approval are left out.",
        )
    )
    return out


def title(f: ServiceFigures, hub_names: Mapping[str, str]) -> str:
    where = "all hubs" if len(f.hubs) != 1 else hub_names.get(next(iter(f.hubs)), next(iter(f.hubs)))
    return f"The service's figures: {where}, {_day(f.as_of)}"


def render_md(f: ServiceFigures, hub_names: Mapping[str, str], categories: Mapping[str, str]) -> str:
    lines = [f"# {title(f, hub_names)}", ""]
    for name, head, rows, note in sections(f, hub_names, categories):
        lines += [f"## {name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        if note:
            lines += ["", note]
        lines.append("")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_csv(f: ServiceFigures, hub_names: Mapping[str, str], categories: Mapping[str, str]) -> str:
    """One row per figure: section, item, hub, value (spreadsheet-safe)."""
    rows = []
    for name, head, body, _ in sections(f, hub_names, categories):
        for row in body:
            for col, cell in zip(head[1:], row[1:], strict=True):
                rows.append([f.as_of.isoformat(), name, row[0], col, cell])
    return csv_text(rows, ["as_of", "section", "item", "column", "value"])


_CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; margin: 24px; max-width: 180mm; }
h1 { font-size: 17pt; margin: 0 0 6px; }
h2 { font-size: 12pt; margin: 16px 0 6px; border-bottom: 2px solid #1d4e89; color: #1d4e89; }
p.note { font-size: 9pt; color: #444; margin: 4px 0; }
section { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; }
th { background: #e8eef6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; margin: 6px 0; max-width: 100%; }
@media print { body { margin: 0; } }
"""


def _bars(items: list[tuple[str, int, int]], width: int = 640) -> str:
    """A horizontal bar chart: (label, count, of) -> the share filled, "262 of 283" written."""
    row, label_w = 22, 150
    height = row * len(items) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'viewBox="0 0 {width} {height}">'
    ]
    bar_w = width - label_w - 120
    for i, (label, count, of) in enumerate(items):
        y = 3 + i * row
        filled = int(bar_w * count / of) if of else 0
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="15" fill="#e8eef6"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{filled}" height="15" fill="#1d4e89"/>')
        pct = f" ({round(100 * count / of)}%)" if of else ""
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="12">{count} of {of}{pct}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _charts(f: ServiceFigures, name: str, hub_names: Mapping[str, str]) -> str:
    t = f.total if len(f.hubs) != 1 else next(iter(f.hubs.values()))
    if name.startswith("In touch"):
        return _bars([(b, s.count, s.of) for b, s in t.in_touch.items()])
    if name == "Accommodation":
        n = sum(t.accommodation.values())
        return _bars([(s.capitalize(), t.accommodation[s], n) for s in SUITABILITY])
    if name == "Pathway plans":
        n = sum(t.plans.values())
        return _bars([(s.capitalize(), t.plans[s], n) for s in PLAN_STATES])
    if name.startswith("Education") and (len(f.hubs) == 1 or name.endswith("All hubs")):
        items = []
        for band, counts in t.eet.items():
            engaged = counts["education"] + counts["training"] + counts["employment"]
            items.append((f"{band} engaged", engaged, sum(counts.values())))
        return _bars(items)
    return ""


def render_html(f: ServiceFigures, hub_names: Mapping[str, str], categories: Mapping[str, str]) -> str:
    e = html.escape
    heading = title(f, hub_names)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing is fetched and nothing runs: safe to open offline, from a USB stick.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">',
        f"<title>{e(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(heading)}</h1>",
    ]
    for name, head, rows, note in sections(f, hub_names, categories):
        parts.append(f"<section><h2>{e(name)}</h2>")
        parts.append(_charts(f, name, hub_names))
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>")
        for row in rows:
            cells = [f"<td>{e(row[0])}</td>"] + [f'<td class="n">{e(c)}</td>' for c in row[1:]]
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
        if note:
            parts.append(f'<p class="note">{e(note)}</p>')
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


RENDERERS = {"md": render_md, "csv": render_csv, "html": render_html}


def render(f: ServiceFigures, fmt: str, hub_names: Mapping[str, str], categories: Mapping[str, str]) -> str:
    return RENDERERS[fmt](f, hub_names, categories)
