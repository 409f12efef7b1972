"""``vnsearch analytics report --html FILE``: one self-contained HTML file with
charts drawn here as inline SVG (no script, no font, no request to anywhere:
its Content-Security-Policy allows nothing but its own inline styles)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from search_api.analytics import queries as Q
from search_api.analytics.queries import Events

BAR_W = 560
LABEL_W = 220

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#1a1a1a;
  padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.totals{display:flex;gap:1.5rem;flex-wrap:wrap;padding:0;list-style:none}
.totals li{background:#f3f5f8;border-radius:6px;padding:.5rem .9rem}
.totals b{display:block;font-size:1.3rem}
svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}
.bar{fill:#2f6fb3}.zero{fill:#c2410c}.axis{stroke:#999}
table{border-collapse:collapse}
td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right}.muted{color:#666}
"""


def _bars(rows: list[dict], label: str, value: str, cls: str, title: str) -> str:
    """A horizontal bar chart: one bar per row, labelled."""
    if not rows:
        return '<p class="muted">Nothing in this period.</p>'
    top = max(r[value] for r in rows) or 1
    h = 22
    height = h * len(rows) + 10
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" class="chart" width="{LABEL_W + BAR_W + 70}"'
        f' height="{height}" viewBox="0 0 {LABEL_W + BAR_W + 70} {height}">'
    ]
    for i, r in enumerate(rows):
        y = 5 + i * h
        w = max(1.0, BAR_W * r[value] / top)
        text = str(r[label])
        short = text if len(text) <= 32 else text[:31] + "…"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="{cls}" x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{h - 6}">'
            f"<title>{escape(text)}: {r[value]}</title></rect>"
            f'<text x="{LABEL_W + w + 5:.1f}" y="{y + 15}">{r[value]:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _columns(rows: list[dict], title: str) -> str:
    """Searches per day as columns, zero-result searches stacked inside in orange."""
    if not rows:
        return '<p class="muted">Nothing in this period.</p>'
    rows = sorted(rows, key=lambda r: r["day"])
    top = max(r["searches"] for r in rows) or 1
    plot_h, left, bottom = 220, 50, 40
    col = max(4.0, min(28.0, 860 / len(rows)))
    width = left + col * len(rows) + 10
    height = plot_h + bottom + 10
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" class="chart" width="{width:.0f}"'
        f' height="{height}" viewBox="0 0 {width:.0f} {height}">',
        f'<line class="axis" x1="{left}" y1="{plot_h + 5}" x2="{width - 5:.0f}"'
        f' y2="{plot_h + 5}"/>',
        f'<text x="{left - 6}" y="15" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{plot_h + 5}" text-anchor="end">0</text>',
    ]
    every = max(1, len(rows) // 10)
    for i, r in enumerate(rows):
        x = left + i * col
        h = plot_h * r["searches"] / top
        hz = plot_h * r["zero_hits"] / top
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{plot_h + 5 - h:.1f}" width="{col - 2:.1f}"'
            f' height="{h:.1f}"><title>{r["day"]}: {r["searches"]} searches, '
            f"{r['zero_hits']} without results</title></rect>"
            f'<rect class="zero" x="{x + 1:.1f}" y="{plot_h + 5 - hz:.1f}" width="{col - 2:.1f}"'
            f' height="{hz:.1f}"/>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + col / 2:.1f}" y="{plot_h + 22}" text-anchor="middle">'
                f"{escape(r['day'][5:])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return '<p class="muted">Nothing in this period.</p>'
    head = "".join(f"<th>{escape(t)}</th>" for _, t in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{r[k]}</td>'
            if isinstance(r[k], int | float)
            else f"<td>{escape(str(r[k] if r[k] is not None else ''))}</td>"
            for k, _ in columns
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(ev: Events, *, limit: int = 20, period: str = "") -> str:
    """The report of the events in ``ev`` as an HTML document."""
    t = Q.totals(ev)
    days = Q.daily(ev)
    top = Q.top(ev, limit)
    zero = Q.zero(ev, limit)
    dym = Q.did_you_mean(ev, limit)
    relaxed = Q.relaxed(ev, limit)
    clicks = Q.clicks(ev, limit) if t["clicks"] else []
    noclick = Q.no_click(ev, limit) if t["clicks"] else []
    share = f"{100 * t['zero_hits'] / t['searches']:.1f}%" if t["searches"] else "–"
    span = f"{t['first_day']} – {t['last_day']}" if t["first_day"] else "no events"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        "<h2>Searches per day</h2>",
        '<p class="muted">Blue: searches; orange: those that found nothing.</p>',
        _columns(days, "Searches per day"),
        "<h2>Top queries</h2>",
        _bars(top, "query", "count", "bar", "Top queries"),
        "<h2>Queries without results</h2>",
        '<p class="muted">What visitors look for and do not find.</p>',
        _bars(zero, "query", "count", "zero", "Queries without results"),
        "<h2>Answered with “did you mean”</h2>",
        _table(dym, [("query", "query"), ("count", "searches"), ("did_you_mean", "reading")]),
        "<h2>Relaxed (not every word found)</h2>",
        _table(relaxed, [("query", "query"), ("count", "searches"), ("avg_hits", "avg hits")]),
    ]
    if t["clicks"]:
        sections += [
            "<h2>Clicks per query</h2>",
            _table(
                clicks,
                [
                    ("query", "query"),
                    ("count", "searches"),
                    ("clicks", "clicks"),
                    ("ctr", "click-through"),
                    ("mean_position", "mean position"),
                ],
            ),
            "<h2>Results found, never opened</h2>",
            _table(noclick, [("query", "query"), ("count", "searches")]),
        ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vnsearch: what people search for</title><style>{CSS}</style></head>
<body><h1>What people search for</h1>
<p class="muted">{escape(span)}{escape(period)} · made {made} by vnsearch analytics</p>
<ul class="totals">
<li><b>{t["searches"]:,}</b>searches</li><li><b>{t["zero_hits"]:,}</b>without results ({share})</li>
<li><b>{t["suggests"]:,}</b>suggestion requests</li><li><b>{t["clicks"]:,}</b>clicks</li>
</ul>
{"".join(sections)}
</body></html>
"""
