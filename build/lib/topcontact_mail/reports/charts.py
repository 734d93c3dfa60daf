"""Bar charts as inline SVG, drawn by pygal: static, readable without JavaScript, no files.

The report template calls `bar_chart` with its own Dutch titles and labels;
this module only draws. pygal always writes a small configuration script and
a generation comment (with the date) into its SVG; both are removed so the
report holds no script at all and the same figures give the same file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pygal  # type: ignore[import-untyped]  # pygal ships no type information
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup
from pygal.style import Style  # type: ignore[import-untyped]  # as above

#: Plain, high-contrast colours that stay apart for the common colour-vision deficiencies.
COLOURS = ("#1b5e9e", "#d9822b", "#5a5a5a", "#2e8540", "#8e44ad", "#b3261e")

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#6b6b6b",
    colors=COLOURS,
    font_family='system-ui, "Segoe UI", Roboto, Arial, sans-serif',
    title_font_size=18,
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=13,
    legend_font_size=14,
    opacity="1",
    opacity_hover="1",
)

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CHART_ID = re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _formatter(percent: bool, locale: str) -> object:
    def fmt(value: float | None) -> str:
        if value is None:
            return ""
        if percent:
            return str(format_percent(value, locale=locale))
        return str(format_decimal(value, locale=locale))

    return fmt


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    percent: bool = False,
    horizontal: bool = False,
    locale: str = "nl",
    height: int = 360,
) -> Markup:
    """An SVG bar chart: one group per label, one bar per series; values printed on the bars.

    `chart_id` names the chart in the page (letters, digits and dashes).
    Percent charts run from 0 to 100 %; a value None is left out.
    """
    if not re.fullmatch(r"[A-Za-z][\w-]*", chart_id):
        raise ValueError(f"chart id must be letters, digits and dashes, not {chart_id!r}")
    chart_type = pygal.HorizontalBar if horizontal else pygal.Bar
    options: dict[str, object] = {
        "title": title,
        "style": _STYLE,
        "width": 900,
        "height": height,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "print_values": True,
        "print_values_position": "top",
        "show_legend": len(series) > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": max(1, len(series)),
        "value_formatter": _formatter(percent, locale),
        "margin": 16,
        "spacing": 12,
        "tooltip_border_radius": 0,
        "truncate_label": -1,
        "truncate_legend": -1,
    }
    if percent:
        options["range"] = (0, 1)
        options["y_labels"] = [0, 0.5, 1]
    else:
        ticks = count_ticks(max((v for _, vs in series for v in vs if v is not None), default=0))
        options["range"] = (0, ticks[-1])
        options["y_labels"] = ticks
    chart = chart_type(**options)
    # pygal draws the first label of a horizontal chart at the bottom: reverse to read top-down.
    order = slice(None, None, -1) if horizontal else slice(None)
    chart.x_labels = list(labels)[order]
    for name, values in series:
        chart.add(name, list(values)[order])
    svg = str(chart.render(is_unicode=True))
    svg = _SCRIPT.sub("", svg)
    svg = _COMMENT.sub("", svg)
    svg = _CHART_ID.sub(f"chart-{chart_id}", svg)
    # role and label let a screen reader announce the chart; the table below it has the numbers.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return Markup(svg)  # noqa: S704 - pygal's own SVG; titles and labels are escaped by it


def count_ticks(highest: float) -> list[int]:
    """Whole-number axis ticks from 0 past `highest`, at most 11, in steps of 1, 2 or 5 times 10^k."""
    step = 1
    while highest / step > 10:
        for factor in (2, 5, 10):
            if highest / (step * factor) <= 10:
                step *= factor
                break
        else:
            step *= 10
    top = max(step, math.ceil(highest / step) * step)
    return list(range(0, top + 1, step))


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
