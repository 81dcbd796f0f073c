"""Bar charts as inline SVG, computed on the server: no chart library, no script, no CDN.

A chart is a list of columns, each a stack of values (e.g. completed over failed); the template
``_chart.html`` draws the rectangles this module places. Each bar carries a ``<title>`` with its
numbers, so values are readable on hover and by screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
LEFT = 36
BOTTOM = 24
TOP = 10


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass(frozen=True)
class Column:
    label: str
    values: tuple[int, ...]
    title: str


@dataclass(frozen=True)
class PlacedColumn:
    rects: tuple[Rect, ...]
    label: str
    label_x: float
    show_label: bool
    title: str
    hit: Rect


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    columns: tuple[PlacedColumn, ...]
    ticks: tuple[tuple[float, str], ...]
    plot_left: int
    plot_bottom: float
    empty: bool


def _nice_max(value: int) -> int:
    """The axis top: four whole, round tick steps covering ``value`` (counts are integers)."""
    needed = max(1, -(-value // 4))  # ceil(value / 4)
    scale = 1
    while True:
        for tenths in (10, 12, 15, 20, 25, 30, 40, 50, 60, 80):  # 1, 1.2, 1.5, 2, ... times scale
            if (tenths * scale) % 10 == 0 and tenths * scale // 10 >= needed:
                return 4 * (tenths * scale // 10)
        scale *= 10


def bar_chart(columns: Sequence[Column], css: Sequence[str], label_every: int = 1) -> Chart:
    """Place stacked bars; ``css[i]`` is the class of the i-th value of every stack."""
    peak = _nice_max(max((sum(c.values) for c in columns), default=0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(1, len(columns))
    bar_w = max(2.0, slot * 0.7)
    placed = []
    for index, column in enumerate(columns):
        x = LEFT + index * slot + (slot - bar_w) / 2
        base = float(HEIGHT - BOTTOM)
        rects = []
        for value, name in zip(column.values, css, strict=False):
            h = plot_h * value / peak
            base -= h
            if value:
                rects.append(Rect(round(x, 1), round(base, 1), round(bar_w, 1), round(h, 1), name))
        placed.append(
            PlacedColumn(
                rects=tuple(rects),
                label=column.label,
                label_x=round(x + bar_w / 2, 1),
                show_label=index % label_every == 0,
                title=column.title,
                hit=Rect(round(LEFT + index * slot, 1), TOP, round(slot, 1), plot_h, "hit"),
            )
        )
    ticks = tuple(
        (round(HEIGHT - BOTTOM - plot_h * i / 4, 1), str(peak * i // 4)) for i in range(5)
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        columns=tuple(placed),
        ticks=ticks,
        plot_left=LEFT,
        plot_bottom=HEIGHT - BOTTOM,
        empty=all(sum(c.values) == 0 for c in columns),
    )
