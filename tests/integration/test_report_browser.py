# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""report.html in a real browser (headless Chromium): no console errors, no external fetches, a lag chart
with distinct ticks, the cluster ids and offsets on the page. Screenshots and PDFs go to tests/output/
(a CI artifact). ``make test`` installs Debian's chromium first (the Makefile's ``browser`` target)."""

from __future__ import annotations

import sys

import pytest

from linkops_it import REPO
from report_browser import Chromium, find_chromium

sys.path.insert(0, str(REPO / ".collections"))
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _report  # noqa: E402

OUTPUT = REPO / "tests" / "output" / "report-browser"

pytestmark = pytest.mark.skipif(not find_chromium(), reason="chromium is not installed (make test installs it)")

SAMPLES = [{"time": 1795320000 + 2 * i, "max_lag": max(0, 1800 - 300 * i), "total_lag": max(0, 5000 - 800 * i),
            "phase": "sync_wait"} for i in range(8)]
DATA = {
    "title": "orders-link",
    "generated_at": "2026-11-22T04:00:30Z",
    "header": {
        "link_name": "orders-link", "link_id": "q1Vx-LinkId-42", "mode": "DESTINATION",
        "source": {"cluster_id": "SrcClusterAbc", "bootstrap_servers": "onprem-1:9092"},
        "destination": {"cluster_id": "DstClusterXyz", "bootstrap_servers": "cloud-1:9092"},
        "rest_endpoint": "https://cloud-1:8090/kafka", "inventory_host": "orders-link", "run_by": "operator",
        "collection_version": "0.1.0",
        "phases": [{"name": "sync_wait", "start": SAMPLES[0]["time"], "end": SAMPLES[-1]["time"]},
                   {"name": "cutover", "start": 1795320016, "end": 1795320018}],
    },
    "checks": [{"name": "end_offsets:orders", "ok": True, "detail": "end offsets equal on 2 partitions",
                "skipped": False}],
    "cutover": [{"topic": "orders", "action": "promoted", "max_lag": 0, "epoch": 1795320017,
                 "time": "2026-11-22T04:00:17Z", "partition_lags": [{"partition": 0, "lag": 0}, {"partition": 1, "lag": 0}]}],
    "lag_samples": SAMPLES,
    "details": {"topics": {"orders": {"source_topic": "orders", "partitions": {"source": 2, "destination": 2},
                                      "source_end_offsets": {"0": 19747, "1": 512},
                                      "destination_end_offsets": {"0": 19747, "1": 512}}}},
}

TICKS = "Array.from(document.querySelectorAll('svg .%s text')).map(t => t.textContent)"


@pytest.fixture(scope="module")
def browser():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    chromium = Chromium()
    yield chromium
    chromium.close()


def open_report(browser, tmp_path, data, name):
    page_file = tmp_path / "report.html"
    page_file.write_text(_report.render_html(data))
    page = browser.open(page_file.as_uri())
    browser.screenshot(str(OUTPUT / ("%s.png" % name)))
    return page


def test_report_renders_cleanly_with_distinct_ticks_and_the_evidence(browser, tmp_path):
    page = open_report(browser, tmp_path, DATA, "report")
    assert page.problems == []
    yticks, xticks = browser.evaluate(TICKS % "ytick"), browser.evaluate(TICKS % "xtick")
    assert len(yticks) >= 3 and len(set(yticks)) == len(yticks), yticks
    assert len(xticks) >= 3 and len(set(xticks)) == len(xticks), xticks
    assert browser.evaluate("document.querySelectorAll('svg circle').length") == len(SAMPLES) + 1  # + cutover
    text = browser.evaluate("document.body.innerText")
    for needle in ("SrcClusterAbc", "DstClusterXyz", "q1Vx-LinkId-42", "onprem-1:9092", "19,747", "512",
                   "lag (records)", "0 records (a promote waits"):
        assert needle in text, needle
    # The chart is visible: it has a size on the page.
    assert browser.evaluate("document.querySelector('svg.lag-chart').getBoundingClientRect().height") > 100
    browser.pdf(str(OUTPUT / "report.pdf"))
    assert (OUTPUT / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_one_sample_is_a_sentence_in_the_browser(browser, tmp_path):
    data = dict(DATA, lag_samples=SAMPLES[:1], cutover=[])
    page = open_report(browser, tmp_path, data, "report-one-sample")
    assert page.problems == []
    assert browser.evaluate("document.querySelectorAll('svg').length") == 0
    assert "One lag sample was recorded" in browser.evaluate("document.body.innerText")


def test_the_browser_check_catches_console_errors_and_external_fetches(browser, tmp_path):
    """The check above can fail: a page with a script error and a remote image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                   '<script>console.error("boom"); undefinedFunction();</script></body></html>')
    page = browser.open(bad.as_uri())
    assert any("boom" in e for e in page.console_errors), page.console_errors
    assert any("undefinedFunction" in (e or "") for e in page.console_errors), page.console_errors
    assert page.external_requests == ["http://127.0.0.1:9/x.png"]
