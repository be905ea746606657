"""Migration report renderings (module_utils/_report.py): deterministic, escaped, parseable."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _report as r

DATA = {
    "title": "orders-link",
    "checks": [
        {"name": "topic_exists:orders", "ok": True, "detail": "exists", "skipped": False},
        {"name": "end_offsets:orders", "ok": False, "detail": "partition 0: 5 != <4> & more", "skipped": False},
        {"name": "probe:orders", "ok": False, "detail": "check mode", "skipped": True},
    ],
    "cutover": [{"topic": "orders", "action": "promoted", "max_lag": 0, "time": "2026-11-22T03:00:05Z",
                 "epoch": 1005}],
    "lag_samples": [{"time": 1000, "max_lag": 40, "total_lag": 100, "phase": "sync_wait"},
                    {"time": 1002.5, "max_lag": 5, "total_lag": 7, "phase": "sync_wait"},
                    {"time": 1005, "max_lag": 0, "total_lag": 0, "phase": "cutover"}],
    "details": {},
    "generated_at": None,
}


def test_summary_counts_failed_passed_skipped():
    s = r.summarize(DATA)
    assert (s["checks"], s["passed"], s["failed"], s["skipped"]) == (3, 1, 1, 1)
    assert s["failed_checks"] == ["end_offsets:orders"]
    assert s["result"] == "FAILED" and s["max_lag_seen"] == 40 and s["topics_cut_over"] == 1


def test_every_rendering_is_deterministic():
    for fmt, render in r.RENDERERS.items():
        assert render(DATA) == render(json.loads(json.dumps(DATA))), fmt


def test_json_keeps_everything_and_adds_the_summary():
    doc = json.loads(r.render_json(DATA))
    assert doc["checks"] == DATA["checks"] and doc["summary"]["failed"] == 1


def test_junit_is_valid_xml_with_one_case_per_check():
    root = ET.fromstring(r.render_junit(DATA))
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c["name"] for c in DATA["checks"]]
    assert cases[1].find("failure").get("message") == "partition 0: 5 != <4> & more"
    assert cases[2].find("skipped") is not None and cases[0].find("failure") is None


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_draws_the_lag_chart():
    page = r.render_html(DATA)
    parsed = _Collector()
    parsed.feed(page)
    tags = [t for t, dummy in parsed.tags]
    assert "svg" in tags and tags.count("polyline") == 2 and tags.count("circle") == 3
    # no external assets: no script, link, img or remote URL
    assert not {"script", "link", "img", "iframe"} & set(tags)
    assert not re.search(r"(src|href)=\"https?:", page)
    text = "".join(parsed.text)
    assert "FAILED: 3 checks, 1 passed, 1 failed, 1 skipped" in text
    assert "partition 0: 5 != <4> & more" in text  # escaped in the source, readable on the page
    assert "<4>" not in page
    assert "cutover" in text


def test_chart_marks_the_cutover_and_scales_points_into_the_plot():
    svg = r._chart_svg(DATA["lag_samples"], DATA["cutover"], width=720, height=260)
    points = re.findall(r'points="([^"]+)"', svg)[1].split()
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs[0] == 60 and xs[-1] == 700  # first and last sample span the plot width
    assert ys[-1] == 220  # lag 0 sits on the x axis (top 20 + plot height 200)
    assert 'stroke-dasharray' in svg


def test_no_samples_gives_a_sentence_not_a_chart():
    assert "No lag samples" in r._chart_svg([], [])


def test_markdown_escapes_table_breakers():
    md = r.render_markdown(dict(DATA, checks=[{"name": "a|b", "ok": True, "detail": "x\ny <z>"}]))
    assert "| `a\\|b` | ok | x y &lt;z> |" in md
