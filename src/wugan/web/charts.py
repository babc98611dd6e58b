"""Server-side SVG charts (no scripts): weekly volumes stacked by route, readable without colour.

Each route has a colour and a pattern (solid, stripes, dots, cross-hatch), the
total stands above every bar, each chart names its own event, and the first
week — the first run's backlog, often many times a normal week — is marked;
when it would flatten the rest, the scale is cut above the other weeks and
that bar is drawn broken, with its number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from wugan.web.texts import ROUTE_LABELS

__all__ = ["ROUTE_STYLES", "stacked_bars", "legend"]

# route: (colour, pattern)
ROUTE_STYLES = {
    "instant_approve": ("#1b6b3c", "solid"),
    "bundle_case": ("#1d4ed8", "stripes"),
    "assistant_task": ("#b45309", "dots"),
    "no_action": ("#5b6472", "hatch"),
}
BREAK_FACTOR = 3.0


def _defs(prefix: str, only: str | None = None) -> str:
    parts = ["<defs>"]
    for route, (colour, pattern) in ROUTE_STYLES.items():
        if only is not None and route != only:
            continue
        pid = f"{prefix}-{route}"
        if pattern == "solid":
            parts.append(f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                         f'<rect width="6" height="6" fill="{colour}"/></pattern>')
        elif pattern == "stripes":
            parts.append(f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse" '
                         f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{colour}"/>'
                         f'<rect width="3" height="8" fill="#fff" fill-opacity=".55"/></pattern>')
        elif pattern == "dots":
            parts.append(f'<pattern id="{pid}" width="7" height="7" patternUnits="userSpaceOnUse">'
                         f'<rect width="7" height="7" fill="{colour}"/><circle cx="3.5" cy="3.5" r="1.6" '
                         f'fill="#fff" fill-opacity=".7"/></pattern>')
        else:
            parts.append(f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                         f'<rect width="8" height="8" fill="{colour}"/><path d="M0 0L8 8M8 0L0 8" '
                         f'stroke="#fff" stroke-opacity=".6" stroke-width="1.5"/></pattern>')
    parts.append("</defs>")
    return "".join(parts)


def legend() -> Markup:
    """The routes' swatches, each with its pattern and its name."""
    items = []
    for route in ROUTE_STYLES:
        items.append(f'<span><svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">{_defs("lg", only=route)}'
                     f'<rect width="16" height="16" rx="3" fill="url(#lg-{route})"/></svg>'
                     f'{escape(ROUTE_LABELS.get(route, route))}</span>')
    return Markup('<div class="legend">' + "".join(items) + "</div>")


def _nice(top: float) -> int:
    for scale in (1, 10, 100, 1000, 10000, 100000, 1000000):
        for step in (1, 2, 5):
            if step * scale * 4 >= top:
                return step * scale
    return max(1, int(top) // 4)


def stacked_bars(rows: Iterable, *, event_type: str | None = None, title: str = "每周决定数量",
                 first_week: dt.date | None = None, width: int = 560, height: int = 220) -> Markup:
    """One bar per week, stacked by route; ``rows`` have week, event_type, route, count."""
    data: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if event_type is None or r.event_type == event_type:
            data[r.week][r.route] += r.count
    if not data:
        return Markup('<p class="muted">暂无数据</p>')
    weeks = sorted(data)
    totals = {w: sum(data[w].values()) for w in weeks}
    others = [totals[w] for w in weeks if w != first_week]
    broken = (first_week in totals and others and totals[first_week] > BREAK_FACTOR * max(others))
    top = max(others) * 1.25 if broken else max(totals.values())
    step = _nice(top)
    ymax = step * max(1, -(-int(top) // step))
    left, right, top_pad, bottom = 48, 8, 24, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    slot = plot_w / len(weeks)
    bar = max(4.0, min(42.0, slot * 0.7))
    prefix = f"p-{escape(event_type or 'all')}"
    label = escape(f"{title}（按路径）" + ("，首周为首次运行，高度已截断" if broken else ""))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
             f'xmlns="http://www.w3.org/2000/svg">', _defs(prefix)]
    for k in range(0, ymax + 1, step):
        y = top_pad + plot_h - plot_h * k / ymax
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{k:,}</text>')
    label_every = max(1, len(weeks) // 8)
    for n, week in enumerate(weeks):
        x = left + slot * n + (slot - bar) / 2
        y = top_pad + plot_h
        scale = min(1.0, ymax / totals[week]) if totals[week] else 1.0
        for route in ROUTE_STYLES:
            count = data[week].get(route, 0)
            if not count:
                continue
            h = plot_h * count * scale / ymax
            y -= h
            tip = escape(f"{week:%m-%d} 当周 {ROUTE_LABELS.get(route, route)}：{count:,}")
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="url(#{prefix}-{route})"><title>{tip}</title></rect>')
        if week == first_week:
            parts.append(f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="{bar + 6:.1f}" '
                         f'height="{top_pad + plot_h - y + 3:.1f}" class="first"/>')
            if broken:
                mid = top_pad + plot_h * 0.25
                parts.append(f'<path d="M{x - 2:.1f} {mid:.1f}l{bar / 3:.1f} -5l{bar / 3:.1f} 10l{bar / 3 + 4:.1f} -5" '
                             f'class="break" fill="none"/>')
        if slot >= 24 or n % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{max(y - 5, 12):.1f}" text-anchor="middle" '
                         f'class="num">{totals[week]:,}</text>')
        if n % label_every == 0:
            tag = "首次运行" if week == first_week else f"{week.month}/{week.day}"
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'class="axis">{tag}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
