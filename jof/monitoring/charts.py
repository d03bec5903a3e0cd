"""Charts drawn on the server as SVG with pygal (DESIGN §8), so one chart shows on the
page, in the monthly report and in the board pack.

:func:`bar_svg` returns the SVG markup to put inline. For a page, the markup carries no
``<style>`` or ``<script>`` (the Content-Security-Policy allows neither inline) and the
look comes from :func:`stylesheet`, served as a file; for WeasyPrint, pass
``inline_style=True`` and the chart carries its own style. Every chart has a title (also
its accessible name), a caption and the data table it was drawn from (:class:`Chart`),
so nothing on it is only visual.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cache

import pygal
from markupsafe import Markup, escape
from pygal.style import Style

#: Colours with enough contrast on white, in a fixed order (one per series).
STYLE = Style(
    background="white", plot_background="white", foreground="#212529", foreground_strong="#212529",
    foreground_subtle="#495057", opacity=".9", opacity_hover="1", transition="0ms",
    colors=("#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#7f6000", "#990000", "#351c75"),
    font_family="DejaVu Sans, Arial, sans-serif", title_font_size=15, label_font_size=11,
    major_label_font_size=11, legend_font_size=12, value_font_size=11,
)

_CONFIG = {"style": STYLE, "disable_xml_declaration": True, "js": [],
           "width": 640, "height": 320, "legend_at_bottom": True, "print_values": False,
           "show_y_guides": True, "truncate_label": -1}

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S)
_ATTR_STYLE = re.compile(r'\sstyle="[^"]*"')
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_PREFIX = re.compile(r"#chart-[0-9a-f-]+")
_ID = re.compile(r'\sid="chart-[0-9a-f-]+"')


@dataclass
class Chart:
    """A chart with what makes it readable without seeing it."""

    key: str
    title: str
    caption: str
    svg: Markup
    headers: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)


def _render(chart: pygal.Graph, title: str, inline_style: bool) -> str:
    svg = chart.render(is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    if not inline_style:
        svg = _ID.sub("", _ATTR_STYLE.sub("", _STYLE.sub("", svg)), count=1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)


def bar_svg(title: str, labels: list[str], series: dict[str, list], *, inline_style: bool = False,
            horizontal: bool = False, y_title: str | None = None) -> Markup:
    """A bar chart as inline SVG markup; ``None`` values are gaps, not zeros."""
    cls = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = cls(title=title, y_title=y_title, **_CONFIG)
    chart.x_labels = [str(x) for x in labels]
    for name, values in series.items():
        chart.add(name, [None if v is None else float(v) for v in values])
    return Markup(_render(chart, title, inline_style))


def stacked_svg(title: str, labels: list[str], series: dict[str, list], *, inline_style: bool = False) -> Markup:
    chart = pygal.StackedBar(title=title, **_CONFIG)
    chart.x_labels = [str(x) for x in labels]
    for name, values in series.items():
        chart.add(name, [float(v or 0) for v in values])
    return Markup(_render(chart, title, inline_style))


@cache
def stylesheet() -> str:
    """The charts' look as a stylesheet: pygal's own rules for a reference chart with a
    series for every colour, scoped to ``.pygal-chart`` instead of that chart's id, so
    they fit every chart drawn with :data:`_CONFIG` and nothing else on the page."""
    chart = pygal.StackedBar(**_CONFIG)
    chart.x_labels = ["a"]
    for i in range(len(STYLE.colors)):
        chart.add(str(i), [1])
    # The rules come out of the SVG's XML text, so ">" arrives as "&gt;".
    css = html.unescape("\n".join(_STYLE.findall(chart.render(is_unicode=True))))
    return _PREFIX.sub(".pygal-chart", css) + (
        "\n.pygal-chart .tooltip{display:none}\nsvg.pygal-chart{width:100%;height:auto;max-width:640px}\n")
