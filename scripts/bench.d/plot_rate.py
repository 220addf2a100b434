#!/usr/bin/env python3
"""Draws latency against offered rate as an SVG, one panel per tool: the p99 from the due time
(corrected) and from the send (service), on a log scale, against the rate asked for.

Usage: plot_rate.py FIGURES.tsv OUT.svg

FIGURES.tsv has a header line, then one line per run:
    tool  offered  achieved  corrected_p99_ms  service_p99_ms  held
(held is 1 or 0). Written by scripts/bench.d/rate.sh; no library beyond Python's own.
"""

import math
import sys
from collections import OrderedDict

W, H = 330, 260  # one panel
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 34, 46
COLORS = {"corrected": "#c0392b", "service": "#2c7fb8"}


def read(path):
    panels = OrderedDict()
    with open(path, encoding="utf-8") as f:
        header = f.readline().split()
        for line in f:
            if not line.strip():
                continue
            row = dict(zip(header, line.split()))
            panels.setdefault(row["tool"], []).append(
                {
                    "offered": float(row["offered"]),
                    "corrected": max(float(row["corrected_p99_ms"]), 1e-3),
                    "service": max(float(row["service_p99_ms"]), 1e-3),
                    "held": row["held"] == "1",
                }
            )
    for rows in panels.values():
        rows.sort(key=lambda r: r["offered"])
    return panels


def nice_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.3g}"


def panel(x0, tool, rows):
    out = []
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    xmax = max(r["offered"] for r in rows) * 1.05
    lo = min(min(r["corrected"], r["service"]) for r in rows)
    hi = max(max(r["corrected"], r["service"]) for r in rows)
    ylo = 10 ** math.floor(math.log10(lo))
    yhi = 10 ** math.ceil(math.log10(hi))
    if yhi <= ylo:
        yhi = ylo * 10

    def px(v):
        return x0 + LEFT + pw * v / xmax

    def py(v):
        return TOP + ph * (1 - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)))

    out.append(f'<text x="{x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">{tool}</text>')
    out.append(f'<rect x="{x0 + LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    decade = ylo
    while decade <= yhi * 1.0001:
        y = py(decade)
        out.append(f'<line x1="{x0 + LEFT}" y1="{y:.1f}" x2="{x0 + LEFT + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{decade:g}</text>')
        decade *= 10
    for i in range(0, 5):
        v = xmax * i / 4
        x = px(v)
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle">{nice_rate(v)}</text>')
    out.append(f'<text x="{x0 + LEFT + pw / 2}" y="{H - 8}" text-anchor="middle">offered rate (ops/s)</text>')
    out.append(
        f'<text x="{x0 + 14}" y="{TOP + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 14} {TOP + ph / 2})">p99 latency (ms, log)</text>'
    )
    for kind, dash in (("corrected", ""), ("service", ' stroke-dasharray="5,3"')):
        pts = " ".join(f"{px(r['offered']):.1f},{py(r[kind]):.1f}" for r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[kind]}" stroke-width="2"{dash}/>')
        for r in rows:
            fill = COLORS[kind] if r["held"] else "white"
            out.append(
                f'<circle cx="{px(r["offered"]):.1f}" cy="{py(r[kind]):.1f}" r="3" '
                f'fill="{fill}" stroke="{COLORS[kind]}"/>'
            )
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_rate.py FIGURES.tsv OUT.svg")
    panels = read(sys.argv[1])
    if not panels:
        sys.exit("error: no figures in " + sys.argv[1])
    width = W * len(panels)
    body = []
    for i, (tool, rows) in enumerate(panels.items()):
        body += panel(i * W, tool, rows)
    legend_y = H + 14
    body.append(f'<line x1="20" y1="{legend_y}" x2="44" y2="{legend_y}" stroke="{COLORS["corrected"]}" stroke-width="2"/>')
    body.append(f'<text x="50" y="{legend_y + 4}">corrected p99 (from the due time)</text>')
    body.append(
        f'<line x1="260" y1="{legend_y}" x2="284" y2="{legend_y}" stroke="{COLORS["service"]}" '
        f'stroke-width="2" stroke-dasharray="5,3"/>'
    )
    body.append(f'<text x="290" y="{legend_y + 4}">service p99 (from the send)</text>')
    body.append(f'<text x="500" y="{legend_y + 4}">hollow point: rate not held</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H + 26}" '
        f'font-family="sans-serif" font-size="11">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
