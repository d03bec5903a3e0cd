"""Charts drawn on the server as SVG with pygal (DESIGN §8), so one chart shows on the
page, in the monthly report and in the board pack.

:func:`bar_svg` returns the SVG markup to put inline. For a page, the markup carries no
``<style>`` or ``<script>`` (the Content-Security-Policy allows neither inline) and the
look comes from :func:`stylesheet`, served as a file; for WeasyPrint, pass
``inline_style=True`` and the chart carries its own style. Every chart has a title (also
its accessible name), a caption and the data table it was drawn from (:class:`Chart`),
so nothing on it is only visual.

Drawing costs pygal about 10–25 ms a chart, most of a dashboard's time outside SQL. A
page's chart is a pure function of what it is drawn from (title, labels, series, already
in the reader's words) and carries no per-render id once its style is taken out, so the
last :data:`CACHE_SIZE` page charts are kept by that content: a dashboard shown again
with the same figures reuses its SVG, and a changed figure is a different key, never a
stale chart. A chart for WeasyPrint (``inline_style=True``) is drawn every time, as it
always was, so a PDF's charts are pygal's own output.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

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

#: Page charts kept by content (a dashboard draws four; languages and agencies differ).
CACHE_SIZE = 256


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


def _series(series: dict[str, list], gaps: bool) -> tuple:
    """The series as a hashable key: floats, ``None`` kept as a gap or drawn as zero."""
    return tuple((str(name), tuple((None if gaps else 0.0) if v is None else float(v) for v in values))
                 for name, values in series.items())


def _number_formatter(locale: str):
    """Values and axis labels as people read numbers in ``locale`` (grouped, the figure's
    own decimals up to two): pygal would print ``4088.89``."""
    from babel.numbers import format_decimal

    return lambda v: "" if v is None else format_decimal(v, format="#,##0.##", locale=locale)


def _draw(kind: str, title: str, y_title: str | None, labels: tuple, series: tuple,
          inline_style: bool, locale: str = "en") -> str:
    config = {**_CONFIG, "value_formatter": _number_formatter(locale)}
    if kind == "stacked":
        chart = pygal.StackedBar(title=title, **config)
    else:
        cls = pygal.HorizontalBar if kind == "horizontal" else pygal.Bar
        chart = cls(title=title, y_title=y_title, **config)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, title, inline_style)


@lru_cache(maxsize=CACHE_SIZE)
def _page_chart(kind: str, title: str, y_title: str | None, labels: tuple, series: tuple, locale: str) -> str:
    return _draw(kind, title, y_title, labels, series, False, locale)


def _svg(kind: str, title: str, y_title: str | None, labels: list, series: tuple, inline_style: bool) -> Markup:
    from flask_babel import get_locale

    try:  # the reader's language; a PDF rendered by a job is in the one its job forces
        locale = str(get_locale() or "en")
    except RuntimeError:
        locale = "en"
    key = (kind, str(title), None if y_title is None else str(y_title), tuple(str(x) for x in labels), series)
    return Markup(_draw(*key, True, locale) if inline_style else _page_chart(*key, locale))


def bar_svg(title: str, labels: list[str], series: dict[str, list], *, inline_style: bool = False,
            horizontal: bool = False, y_title: str | None = None) -> Markup:
    """A bar chart as inline SVG markup; ``None`` values are gaps, not zeros."""
    return _svg("horizontal" if horizontal else "bar", title, y_title, labels, _series(series, True),
                inline_style)


def stacked_svg(title: str, labels: list[str], series: dict[str, list], *, inline_style: bool = False) -> Markup:
    """A stacked bar chart; ``None`` values count as zero."""
    return _svg("stacked", title, None, labels, _series(series, False), inline_style)


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
