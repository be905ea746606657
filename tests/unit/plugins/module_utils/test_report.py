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
    # three samples plus the cutover point (the cutover row has a lag and a time)
    assert "svg" in tags and tags.count("polyline") == 2 and tags.count("circle") == 4
    # no external assets: no script, link, img or remote URL
    assert not {"script", "link", "img", "iframe"} & set(tags)
    assert not re.search(r"(src|href)=\"https?:", page)
    text = "".join(parsed.text)
    assert "FAILED: 3 checks, 1 passed, 1 failed, 1 skipped" in text
    assert "partition 0: 5 != <4> & more" in text  # escaped in the source, readable on the page
    assert "<4>" not in page
    assert "cutover" in text
    assert "@media print" in page


def _tick_labels(svg, kind):
    return re.findall(r'<g class="%s">.*?<text[^>]*>([^<]*)</text></g>' % kind, svg)


def test_chart_ticks_are_distinct_with_units_and_points_span_the_plot():
    svg = r._chart_svg(r.chart_points(DATA), DATA["cutover"], width=720, height=280)
    ys = _tick_labels(svg, "ytick")
    xs = _tick_labels(svg, "xtick")
    assert len(ys) >= 3 and len(set(ys)) == len(ys) and ys[0] == "0"
    assert [int(v) for v in ys] == sorted(int(v) for v in ys) and int(ys[-1]) >= 100  # total lag 100 fits
    assert len(xs) >= 3 and len(set(xs)) == len(xs) and xs[0] == "0"
    assert "(s)</text>" in svg and "lag (records)" in svg
    points = re.findall(r'points="([^"]+)"', svg)[1].split()
    assert float(points[0].split(",")[0]) == 78  # the first sample on the y axis
    assert float(points[-1].split(",")[1]) == 232  # lag 0 sits on the x axis (top 28 + plot height 204)
    assert 'stroke-dasharray' in svg


def test_a_lag_of_one_gets_whole_distinct_ticks_not_1_0_0_0_0():
    points = [(1000.0, 1, 1, "sync_wait"), (1001.0, 0, 0, "sync_wait")]
    assert _tick_labels(r._chart_svg(points), "ytick") == ["0", "1"]
    assert r.ticks(0, 7, 5, whole=True) == [0, 2, 4, 6, 8]
    assert r.ticks(0, 12345, 5, whole=True)[-1] >= 12345


def test_long_syncs_are_plotted_in_minutes():
    points = [(0.0, 500, 900, "sync_wait"), (1800.0, 0, 0, "sync_wait")]
    svg = r._chart_svg(points)
    assert "(min)</text>" in svg and _tick_labels(svg, "xtick")[-1] == "30"


def test_one_sample_gives_a_sentence_not_a_chart():
    data = dict(DATA, cutover=[], lag_samples=[{"time": 1000, "max_lag": 0, "total_lag": 0, "phase": "sync_wait"}])
    page = r.render_html(data)
    assert "<svg" not in page and "One lag sample was recorded" in page
    assert "a chart needs two" in r.render_markdown(data)


def test_no_samples_gives_a_sentence_not_a_chart():
    assert "No lag samples" in r._chart_svg([], [])


EVIDENCE = dict(DATA, header={
    "link_name": "orders-link", "link_id": "Xk9-link-id", "mode": "DESTINATION",
    "source": {"cluster_id": "src-cluster-1", "bootstrap_servers": "onprem:9092"},
    "destination": {"cluster_id": "dst-cluster-2", "bootstrap_servers": "cloud:9092"},
    "rest_endpoint": "https://admin:hunter2@cloud:8090/kafka", "inventory_host": "orders-link", "run_by": "alice",
    "collection_version": "0.1.0",
    "phases": [{"name": "sync_wait", "start": 1000, "end": 1002.5}, {"name": "verify", "start": "2026-11-22T03:00:07Z",
                                                                     "end": "2026-11-22T03:00:08Z"}]},
    cutover=[{"topic": "orders", "action": "failed_over", "max_lag": 3, "time": "2026-11-22T03:00:05Z", "epoch": 1005,
              "partition_lags": [{"partition": 0, "lag": 3}, {"partition": 1, "lag": 2}]}],
    details={
        "topics": {"orders": {"source_topic": "orders", "partitions": {"source": 2, "destination": 2},
                              "source_end_offsets": {"0": 19747, "1": 1200},
                              "destination_end_offsets": {"0": 19744, "1": 1198},
                              "destination_start_offsets": {"0": 0, "1": 0}}},
        "consumer_groups": {"billing": {"source": {"orders": {"0": 19000}}, "destination": {"orders": {"0": 18990}}}},
        "acls": {"compared": [{"principal": "User:test-user", "resourceType": "TOPIC", "name": "test-topic",
                               "patternType": "LITERAL", "operation": "READ", "permissionType": "ALLOW", "host": "*",
                               "on_destination": True}],
                 "destination_only": []},
        "client": {"sasl.password": "hunter2", "sasl_jaas_config": "x password=hunter2;"},
})


def test_every_rendering_carries_the_evidence_and_no_secret():
    for fmt, render in r.RENDERERS.items():
        out = render(EVIDENCE)
        for needle in ("Xk9-link-id", "src-cluster-1", "dst-cluster-2", "onprem:9092", "cloud:9092", "alice",
                       "0.1.0", "User:test-user", "test-topic", "sync_wait"):
            assert needle in out, (fmt, needle)
        assert "19747" in out or "19,747" in out, fmt  # per-partition source end offset
        assert "18990" in out or "18,990" in out, fmt  # the group's committed offset on the destination
        assert "hunter2" not in out, fmt
        assert "1 partitions" not in out and "1 checks" not in out, fmt


def test_records_copied_lag_at_cutover_and_rpo():
    ev = r.evidence(EVIDENCE)
    topic = ev["topics"][0]
    assert topic["records_copied"] == 19744 + 1198
    assert [(p["partition"], p["lag_at_cutover"]) for p in topic["partitions"]] == [(0, 3), (1, 2)]
    assert ev["cutover"][0]["rpo"] == "5 records not mirrored"
    md = r.render_markdown(EVIDENCE)
    assert "| 0 | 19,747 | 19,744 | 3 |" in md
    assert "| billing | orders | 0 | 19,000 | 18,990 | **no** |" in md
    assert "orders: 2 partitions on both clusters; 20,942 records copied." in md
    root = ET.fromstring(r.render_junit(EVIDENCE))
    props = dict((p.get("name"), p.get("value")) for p in root.iter("property"))
    assert props["Source cluster id"] == "src-cluster-1"
    assert props["topic.orders.0"] == "source end 19,747, destination end 19,744, lag at cutover 3"


def test_grammar_of_one():
    assert r.plural(1, "partition") == "1 partition" and r.plural(2, "partition") == "2 partitions"
    one = dict(DATA, checks=DATA["checks"][:1])
    assert "1 check," in r.render_markdown(one)


def test_markdown_escapes_table_breakers():
    md = r.render_markdown(dict(DATA, checks=[{"name": "a|b", "ok": True, "detail": "x\ny <z>"}]))
    assert "| `a\\|b` | ok | x y &lt;z> |" in md


def test_phases_given_and_derived_in_time_order():
    data = dict(DATA, header={"phases": [{"name": "run", "start": 990, "end": 1010},
                                         {"name": "verify", "start": 1006, "end": 1007}]})
    assert r.phase_rows(data) == [
        ("run", r.fmt_time(990), r.fmt_time(1010)),
        ("sync_wait", r.fmt_time(1000), r.fmt_time(1002.5)),  # the sync-wait samples
        ("cutover", r.fmt_time(1005), r.fmt_time(1005)),  # the cutover rows
        ("verify", r.fmt_time(1006), r.fmt_time(1007))]
