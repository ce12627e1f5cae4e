"""Charts: an SVG image the page's CSP allows, with the same numbers in a table."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest
from flask import render_template_string

from tierwatch.web.charts import KINDS, chart, whole_ticks

WEEKS = ["第10周", "第11周", "第12周"]
SERIES = {"电话": [12, 18, 9], "AI 克隆声音": [3, 7, 11.5]}


def _svg(c) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert c.data_uri.startswith(prefix)
    return base64.b64decode(c.data_uri[len(prefix):]).decode("utf-8")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_chart_is_an_svg_with_its_labels_and_a_table_of_the_same_numbers(kind):
    c = chart(kind, "每周举报", "周", WEEKS, SERIES)
    svg = _svg(c)
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    for label in [*WEEKS, *SERIES]:
        assert label in text  # categories and series names are drawn (CJK as text, not outlines)
    assert c.columns == ["周", "电话", "AI 克隆声音"]
    assert c.rows == [["第10周", "12", "3"], ["第11周", "18", "7"], ["第12周", "9", "11.50"]]


def test_the_chart_uses_colours_with_enough_contrast():
    svg = _svg(chart("bar", "t", "c", ["a"], {"s": [1]}))
    assert "#0b5cad" in svg and "#1f2328" in svg


@pytest.mark.parametrize(("top", "ticks"), [(0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]),
                                            (12, [0, 5, 10, 15]), (1234, [0, 500, 1000, 1500])])
def test_counts_get_whole_number_ticks(top, ticks):
    assert whole_ticks(top) == ticks


def test_a_chart_of_counts_has_no_fractional_ticks():
    text = " ".join(ET.fromstring(_svg(chart("horizontal_bar", "t", "c", ["a", "b"], {"s": [0, 0]}))).itertext())
    assert "0.1" not in text and "0.5" not in text


def test_series_must_fit_the_categories():
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        chart("bar", "t", "c", ["a", "b", "c"], {"s": [1, 2]})


def test_big_numbers_and_gaps_in_the_table():
    c = chart("line", "t", "c", ["a", "b"], {"s": [1234567, None]})
    assert c.rows == [["a", "1,234,567"], ["b", "–"]]


def test_the_chart_macro_gives_an_image_with_alt_text_and_a_captioned_table(app):
    c = chart("bar", "每周举报", "周", WEEKS, SERIES)
    with app.test_request_context("/"):
        html = render_template_string('{% from "macros/charts.html" import chart %}{{ chart(c) }}', c=c)
    assert re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="每周举报：具体数字见下表。">', html)
    assert "<figcaption>每周举报</figcaption>" in html and "<caption>每周举报：数据</caption>" in html
    assert html.count('<th scope="row">') == 3 and html.count('<th scope="col"') == 3
    assert '<td class="num">11.50</td>' in html
