"""Server-side SVG charts (no scripts, no CDN): weekly volumes stacked by route."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from wugan.web.texts import ROUTE_LABELS

__all__ = ["ROUTE_COLOURS", "stacked_bars"]

ROUTE_COLOURS = {
    "instant_approve": "#2f7d4f",
    "bundle_case": "#2b6cb0",
    "assistant_task": "#d97706",
    "no_action": "#9ca3af",
}


def _nice(top: int) -> int:
    for step in (1, 2, 5):
        for scale in (1, 10, 100, 1000, 10000, 100000):
            if step * scale * 4 >= top:
                return step * scale
    return max(1, top // 4)


def stacked_bars(rows: Iterable, *, event_type: str | None = None, width: int = 560, height: int = 200) -> Markup:
    """One bar per week, stacked by route; ``rows`` have week, event_type, route, count."""
    data: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if event_type is None or r.event_type == event_type:
            data[r.week][r.route] += r.count
    if not data:
        return Markup('<p class="muted">暂无数据</p>')
    weeks = sorted(data)
    top = max(sum(v.values()) for v in data.values())
    step = _nice(top)
    ymax = step * max(1, -(-top // step))
    left, right, top_pad, bottom = 44, 8, 10, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    slot = plot_w / len(weeks)
    bar = max(4.0, min(42.0, slot * 0.7))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="每周决定数量（按路径）" xmlns="http://www.w3.org/2000/svg">']
    for k in range(0, ymax + 1, step):
        y = top_pad + plot_h - plot_h * k / ymax
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{k}</text>')
    label_every = max(1, len(weeks) // 8)
    for n, week in enumerate(weeks):
        x = left + slot * n + (slot - bar) / 2
        y = top_pad + plot_h
        for route, colour in ROUTE_COLOURS.items():
            count = data[week].get(route, 0)
            if not count:
                continue
            h = plot_h * count / ymax
            y -= h
            title = escape(f"{week:%m-%d} 当周 {ROUTE_LABELS.get(route, route)}：{count}")
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{title}</title></rect>')
        if n % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'class="axis">{week.month}/{week.day}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
