"""Charts drawn on the server (pygal) and shown as an SVG image, with the numbers in a table.

Why an <img> with a data: URI: pygal's SVG carries its own <style> and <script>; inline, they
would need 'unsafe-inline' in the page's Content-Security-Policy. As an image the SVG's own style
still applies, its script never runs, and the page's CSP stays strict (img-src 'self' data:).
Screen readers get the alt text and the table (macro ``chart`` in templates/macros/charts.html),
which holds every number the chart shows.
"""

from __future__ import annotations

import base64
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pygal
from pygal.style import Style

# pygal 3.1 appends an old-style import hook to sys.meta_path (for its map plugins, unused here).
# It has no find_spec: Python 3.11 warns on every later import that reaches it, and pytest's
# importlib mode fails on it. Taken out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

# Text colours of at least 4.5:1 against white (WCAG AA); bars of at least 3:1 (non-text).
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1f2328", foreground_strong="#1f2328",
    foreground_subtle="#57606a", colors=("#0b5cad", "#b3261e", "#1a7f37", "#8250df", "#9a6700", "#1b7c83"),
    font_family='"Noto Sans CJK SC", "Noto Sans", sans-serif', label_font_size=16, major_label_font_size=16,
    title_font_size=20, legend_font_size=16, value_font_size=14, opacity="1", opacity_hover="1",
)

# Chart kind -> pygal class.
KINDS: dict[str, type[pygal.graph.graph.Graph]] = {
    "bar": pygal.Bar,
    "stacked_bar": pygal.StackedBar,
    "horizontal_bar": pygal.HorizontalBar,
    "line": pygal.Line,
}


@dataclass(frozen=True)
class Chart:
    title: str
    data_uri: str  # data:image/svg+xml;base64,...
    columns: list[str]  # table header: the category, then one column per series
    rows: list[list[str]]  # one row per category


def chart(kind: str, title: str, category_label: str, categories: Sequence[str],
          series: Mapping[str, Sequence[float | int | None]], *, width: int = 400, height: int = 300,
          rotate_labels: int = 0) -> Chart:
    """A chart of ``series`` (name -> one value per category) and the table of the same numbers.
    Titles and labels are shown as given: translate them before calling."""
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
    frozen = tuple((str(name), tuple(values)) for name, values in series.items())
    uri = _svg_uri(kind, str(title), tuple(str(c) for c in categories), frozen, width, height, rotate_labels)
    rows = [[str(category), *(_cell(values[i]) for values in series.values())] for i, category in enumerate(categories)]
    return Chart(title, uri, [category_label, *series], rows)


@lru_cache(maxsize=256)
def _svg_uri(kind: str, title: str, categories: tuple[str, ...], series: tuple[tuple[str, tuple[Any, ...]], ...],
             width: int, height: int, rotate_labels: int) -> str:
    """The drawing, remembered: the same figures draw the same image (drawing is the slow part
    of a dashboard, ~30 ms a chart)."""
    graph = KINDS[kind](
        style=STYLE, js=[], disable_xml_declaration=True, no_prefix=True, width=width, height=height,
        explicit_size=False, show_legend=len(series) > 1, legend_at_bottom=True,
        legend_at_bottom_columns=max(1, min(len(series), 3)), truncate_legend=-1, truncate_label=-1,
        spacing=14, print_values=False,
        # Many categories along the bottom (a dozen weeks) overlap on a phone-sized chart: slanted.
        x_label_rotation=rotate_labels or (40 if kind != "horizontal_bar" and len(categories) > 6 else 0),
    )
    # pygal draws a horizontal bar chart's first category at the bottom: reversed, the chart
    # reads top-down in the order of its table.
    order = slice(None, None, -1) if kind == "horizontal_bar" else slice(None)
    graph.x_labels = list(categories)[order]
    values_of = dict(series)
    if _all_whole(values_of):  # counts: ticks at whole numbers, never 0.1, 0.2, ...
        graph.y_labels = whole_ticks(max((v for vs in values_of.values() for v in vs if v is not None), default=0))
    for name, values in series:
        graph.add(name, list(values)[order])
    svg = graph.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def whole_ticks(top: float, most: int = 6) -> list[int]:
    """0 to at least ``top`` in steps of 1, 2 or 5 times a power of ten, at most ``most`` ticks."""
    top = max(int(math.ceil(top)), 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if -(-top // step) + 1 <= most:
                return list(range(0, -(-top // step) * step + 1, step))
        magnitude *= 10


def _all_whole(series: Mapping[str, Sequence[float | int | None]]) -> bool:
    return all(v is None or float(v).is_integer() for values in series.values() for v in values)


def _cell(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"
