"""One small SVG per figure: its median (and p95) across the tiers, beside its baseline."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 420, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 40


def slug(figure: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", figure.lower()).strip("-")


def _polyline(points, colour, dash=""):
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points)
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{style}/>{dots}'
    )


def chart_svg(figure: str, rows: list[dict], tiers: list[str]) -> str:
    rows = sorted(rows, key=lambda r: tiers.index(r["tier"]))
    unit = rows[0]["unit"]
    values = [v for r in rows for v in (r["median"], r["p95"], r["baseline"]) if v is not None]
    top = max(values) * 1.1 or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(tiers) - 1, 1)

    def x(tier):
        return LEFT + tiers.index(tier) * step

    def y(value):
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(figure)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(figure)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = top * fraction
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2}" transform="rotate(-90 12 {TOP + plot_h / 2})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    for tier in tiers:
        parts.append(
            f'<text x="{x(tier):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{tier}</text>'
        )
    parts.append(_polyline([(x(r["tier"]), y(r["p95"])) for r in rows], "#9ab", "4 3"))
    parts.append(
        _polyline(
            [(x(r["tier"]), y(r["baseline"])) for r in rows if r["baseline"] is not None],
            "#888",
            "2 2",
        )
    )
    parts.append(_polyline([(x(r["tier"]), y(r["median"])) for r in rows], "#1f6feb"))
    legend = [("median", "#1f6feb"), ("p95", "#9ab"), ("baseline", "#888")]
    for n, (label, colour) in enumerate(legend):
        lx = LEFT + n * 90
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 14}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{HEIGHT - 10}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def charts_write(rows: list[dict], out: Path, *, tiers: list[str]) -> list[Path]:
    """One ``<figure>.svg`` per figure under ``out``; returns the paths written."""
    written = []
    for figure in dict.fromkeys(r["figure"] for r in rows):
        path = out / f"{slug(figure)}.svg"
        path.write_text(chart_svg(figure, [r for r in rows if r["figure"] == figure], tiers))
        written.append(path)
    return written
