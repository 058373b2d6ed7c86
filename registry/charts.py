"""Bar charts as plain geometry for server-rendered SVG (no JavaScript, no inline style: CSS classes colour them).

Each chart stands beside a table with the same numbers, which is what screen readers and copying use.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    width: int
    height: int
    bars: list[Bar]
    vertical: bool
    baseline: float = 0


def horizontal(id: str, title: str, items: list[tuple[str, float, str]], *, label_width: int = 190,
               bar_space: int = 300, row: int = 24) -> Chart:
    """One bar per (label, value, text), longest for the largest value; the text is written after the bar."""
    biggest = max((value for _, value, _ in items), default=0) or 1
    bars = []
    for n, (label, value, text) in enumerate(items):
        y = n * row + 4
        width = bar_space * value / biggest
        bars.append(Bar(label=label, text=text, x=label_width, y=y, width=round(width, 1), height=row - 8,
                        label_x=label_width - 6, label_y=y + row / 2, text_x=label_width + width + 6,
                        text_y=y + row / 2))
    return Chart(id, title, label_width + bar_space + 70, max(len(items), 1) * row + 8, bars, vertical=False)


def vertical(id: str, title: str, items: list[tuple[str, float, str]], *, height: int = 220, width: int = 640,
             every: int | None = None) -> Chart:
    """One column per (label, value, text) from left to right; with many columns only every n-th is labelled."""
    biggest = max((value for _, value, _ in items), default=0) or 1
    count = max(len(items), 1)
    slot = width / count
    every = every or max(1, round(count / 12))
    plot = height - 50
    bars = []
    for n, (label, value, text) in enumerate(items):
        bar_height = plot * value / biggest
        x = n * slot + slot * 0.15
        bars.append(Bar(label=label if n % every == 0 else "", text=text if count <= 24 else "", x=round(x, 1),
                        y=round(20 + plot - bar_height, 1), width=round(slot * 0.7, 1), height=round(bar_height, 1),
                        label_x=round(n * slot + slot / 2, 1), label_y=height - 12,
                        text_x=round(n * slot + slot / 2, 1), text_y=round(20 + plot - bar_height - 4, 1)))
    return Chart(id, title, width, height, bars, vertical=True, baseline=20 + plot)
