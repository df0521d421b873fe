"""A PRISMA flow diagram of screening's counts, drawn as SVG on the server.

Django-free: it takes the dict of screening.prisma.prisma_counts() and returns
SVG text. Every piece of text (saved-search labels and exclusion reasons come
from users) is escaped here, so the file is safe to serve and to download.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

WIDTH = 760
BOX_W = 330
SIDE_X = WIDTH - BOX_W - 20
MAIN_X = 20
LINE = 18
PAD = 10


def _box(x: int, y: int, title: str, lines: list[str], testid: str) -> tuple[str, int]:
    """One box (a title line, then detail lines); returns its SVG and its height."""
    height = PAD * 2 + LINE * (1 + len(lines))
    parts = [
        f"<g data-testid={quoteattr(testid)}>",
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{height}" rx="4" '
        'fill="#fff" stroke="#333"/>',
        f'<text x="{x + PAD}" y="{y + PAD + 13}" font-weight="bold">{escape(title)}</text>',
    ]
    for i, line in enumerate(lines, start=2):
        parts.append(f'<text x="{x + PAD}" y="{y + PAD + LINE * i - 5}">{escape(line)}</text>')
    parts.append("</g>")
    return "".join(parts), height


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" marker-end="url(#arrow)"/>'
    )


def flow_svg(counts: dict, title: str = "PRISMA flow of screening") -> str:
    """The flow: identified -> (duplicates removed) -> records -> screened ->
    (excluded by reason, maybe, awaiting) -> included."""
    identified = [f"{label}: {n}" for label, n in counts["identified"]]
    identified += [f"  saved search “{label}”: {n}" for label, n in counts["searches"]]
    excluded = [f"{reason or 'no reason'}: {n}" for reason, n in counts["excluded_by_reason"]]
    rows = [
        (
            (f"Records identified: {counts['identified_total']}", identified, "identified"),
            (f"Duplicates removed: {counts['duplicates']}", [], "duplicates"),
        ),
        (
            (f"Records (one per paper): {counts['records']}", [], "records"),
            (f"Awaiting screening: {counts['awaiting']}", [], "awaiting"),
        ),
        (
            (f"Records screened: {counts['screened']}", [], "screened"),
            (f"Records excluded: {counts['excluded']}", excluded, "excluded"),
        ),
        (
            (f"Maybe (undecided): {counts['maybe']}", [], "maybe"),
            None,
        ),
        (
            (f"Included: {counts['included']}", [], "included"),
            None,
        ),
        (
            (
                f"Cases curated: {counts['cases_curated']}",
                [f"published: {counts['cases_published']}"],
                "cases",
            ),
            None,
        ),
    ]
    body: list[str] = []
    y = 50
    previous_bottom = None
    for main, side in rows:
        main_svg, main_h = _box(MAIN_X, y, *main)
        side_h = 0
        if side is not None:
            side_svg, side_h = _box(SIDE_X, y, *side)
            body.append(side_svg)
            body.append(_arrow(MAIN_X + BOX_W, y + main_h // 2, SIDE_X, y + main_h // 2))
        body.append(main_svg)
        if previous_bottom is not None:
            body.append(_arrow(MAIN_X + BOX_W // 2, previous_bottom, MAIN_X + BOX_W // 2, y))
        previous_bottom = y + main_h
        y += max(main_h, side_h) + 30
    height = y
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13" role="img">'
        f"<title>{escape(title)}</title>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>'
        f'<text x="{MAIN_X}" y="28" font-size="16" font-weight="bold">{escape(title)}</text>'
        + "".join(body)
        + "</svg>\n"
    )
