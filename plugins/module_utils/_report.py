# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A migration report in four renderings: JSON, Markdown, a self-contained HTML page with a lag chart, JUnit XML.

Everything here is a pure function of the report data, so the same data always renders the same bytes
(the module then writes only what changed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    from html import escape as _html_escape
except ImportError:  # pragma: no cover (Python 2)
    from cgi import escape as _html_escape

FORMATS = ('json', 'markdown', 'html', 'junit')
FILE_NAMES = {'json': 'report.json', 'markdown': 'report.md', 'html': 'report.html', 'junit': 'junit.xml'}


def esc(value):
    return _html_escape('' if value is None else str(value), True)


def md_cell(value):
    text = '' if value is None else str(value)
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('|', '\\|').replace('\n', ' ')


def summarize(data):
    checks = data.get('checks') or []
    failed = [c['name'] for c in checks if not c.get('ok') and not c.get('skipped')]
    skipped = [c['name'] for c in checks if c.get('skipped')]
    passed = [c['name'] for c in checks if c.get('ok') and not c.get('skipped')]
    samples = data.get('lag_samples') or []
    return {
        'checks': len(checks), 'passed': len(passed), 'failed': len(failed), 'skipped': len(skipped),
        'failed_checks': failed,
        'result': 'FAILED' if failed else ('PASSED' if checks else 'NO CHECKS'),
        'topics_cut_over': len(data.get('cutover') or []),
        'max_lag_seen': max([int(s.get('max_lag') or 0) for s in samples] or [0]),
        'lag_samples': len(samples),
    }


def render_json(data):
    doc = dict(data)
    doc['summary'] = summarize(data)
    return json.dumps(doc, indent=2, sort_keys=True) + '\n'


def render_markdown(data):
    s = summarize(data)
    lines = ['# Migration report: %s' % md_cell(data.get('title')), '']
    if data.get('generated_at'):
        lines += ['Generated at %s.' % md_cell(data['generated_at']), '']
    lines += ['**Result: %s**: %d checks, %d passed, %d failed, %d skipped.' % (
        s['result'], s['checks'], s['passed'], s['failed'], s['skipped']), '']
    if s['failed_checks']:
        lines += ['Failed checks: %s.' % ', '.join('`%s`' % n for n in s['failed_checks']), '']
    lines += ['## Checks', '', '| check | result | detail |', '|---|---|---|']
    for c in data.get('checks') or []:
        result = 'skipped' if c.get('skipped') else ('ok' if c.get('ok') else '**FAILED**')
        lines.append('| `%s` | %s | %s |' % (md_cell(c.get('name')), result, md_cell(c.get('detail'))))
    cutover = data.get('cutover') or []
    if cutover:
        lines += ['', '## Cutover', '', '| topic | action | max lag at cutover | time |', '|---|---|---|---|']
        for row in cutover:
            cells = [md_cell(row.get(k)) for k in ('topic', 'action', 'max_lag', 'time')]
            lines.append('| `%s` | %s | %s | %s |' % tuple(cells))
    samples = data.get('lag_samples') or []
    if samples:
        lines += ['', '## Lag', '', '%d samples from %s to %s; highest max lag %d; last max lag %s.' % (
            len(samples), md_cell(samples[0].get('time')), md_cell(samples[-1].get('time')),
            s['max_lag_seen'], md_cell(samples[-1].get('max_lag'))), '',
            'The HTML report (report.html) draws them as a chart.']
    return '\n'.join(lines) + '\n'


def _chart_svg(samples, cutover, width=720, height=260):
    """An inline SVG line chart of max lag (and total lag) over time, cutover marked; no external assets."""
    left, right, top, bottom = 60, 20, 20, 40
    pts = [(float(s['time']), int(s.get('max_lag') or 0), int(s.get('total_lag') or s.get('max_lag') or 0),
            s.get('phase') or '') for s in samples if s.get('time') is not None]
    if not pts:
        return '<p>No lag samples were recorded.</p>'
    t0 = pts[0][0]
    t1 = max(p[0] for p in pts)
    span = (t1 - t0) or 1.0
    ymax = max([p[2] for p in pts] + [1])
    pw, ph = width - left - right, height - top - bottom

    def x(t):
        return left + (t - t0) / span * pw

    def y(v):
        return top + ph - (float(v) / ymax) * ph

    out = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Mirror lag over time" '
           'width="%d" height="%d" viewBox="0 0 %d %d">' % (width, height, width, height),
           '<rect x="%d" y="%d" width="%d" height="%d" fill="#fafafa" stroke="#ccc"/>' % (left, top, pw, ph)]
    for i in range(5):
        v = ymax * i / 4.0
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>' % (left, left + pw, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%d</text>' % (left - 6, y(v) + 4, v))
    out.append('<text x="%d" y="%d" font-size="11" text-anchor="middle">seconds since the first sample '
               '(%.0f s in all)</text>' % (left + pw // 2, height - 8, span))
    for series, color, idx in (('total lag', '#9ecae1', 2), ('max partition lag', '#d62728', 1)):
        path = ' '.join('%.1f,%.1f' % (x(p[0]), y(p[idx])) for p in pts)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>'
                   % (color, path, series))
    for p in pts:
        out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="#d62728"><title>%s: max lag %d, total %d</title>'
                   '</circle>' % (x(p[0]), y(p[1]), esc(p[3] or 'sample'), p[1], p[2]))
    times = sorted(set(float(r['epoch']) for r in cutover if r.get('epoch') is not None))
    for t in times[:1]:
        if t0 <= t <= t1 + span:
            cx = min(x(t), left + pw)
            out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#2ca02c" stroke-dasharray="4 3"/>'
                       % (cx, cx, top, top + ph))
            out.append('<text x="%.1f" y="%d" font-size="11" fill="#2ca02c">cutover</text>' % (cx + 4, top + 12))
    out.append('<text x="%d" y="%d" font-size="11" fill="#d62728">max partition lag</text>' % (left + 8, top + 14))
    out.append('<text x="%d" y="%d" font-size="11" fill="#3182bd">total lag</text>' % (left + 130, top + 14))
    out.append('</svg>')
    return '\n'.join(out)


def render_html(data):
    s = summarize(data)
    color = '#d62728' if s['failed'] else '#2ca02c'
    rows = []
    for c in data.get('checks') or []:
        result = 'skipped' if c.get('skipped') else ('ok' if c.get('ok') else 'FAILED')
        rows.append('<tr class="%s"><td><code>%s</code></td><td>%s</td><td>%s</td></tr>' % (
            result.lower(), esc(c.get('name')), result, esc(c.get('detail'))))
    cut_rows = ['<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
        esc(r.get('topic')), esc(r.get('action')), esc(r.get('max_lag')), esc(r.get('time')))
        for r in data.get('cutover') or []]
    parts = [
        '<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
        '<title>Migration report: %s</title>' % esc(data.get('title')),
        '<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}'
        'td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.failed td{background:#fdd}'
        'tr.skipped td{color:#777}.result{font-size:1.3em;font-weight:bold}</style>',
        '</head><body>',
        '<h1>Migration report: %s</h1>' % esc(data.get('title')),
    ]
    if data.get('generated_at'):
        parts.append('<p>Generated at %s.</p>' % esc(data['generated_at']))
    parts.append('<p class="result" style="color:%s">%s: %d checks, %d passed, %d failed, %d skipped</p>'
                 % (color, s['result'], s['checks'], s['passed'], s['failed'], s['skipped']))
    parts += ['<h2>Lag over the sync and cutover</h2>',
              _chart_svg(data.get('lag_samples') or [], data.get('cutover') or [])]
    parts += ['<h2>Checks</h2>', '<table><tr><th>check</th><th>result</th><th>detail</th></tr>'] + rows + ['</table>']
    if cut_rows:
        parts += ['<h2>Cutover</h2>', '<table><tr><th>topic</th><th>action</th><th>max lag at cutover</th>'
                  '<th>time</th></tr>'] + cut_rows + ['</table>']
    parts.append('</body></html>')
    return '\n'.join(parts) + '\n'


def render_junit(data):
    s = summarize(data)
    name = esc(data.get('title'))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="linkops migration" tests="%d" failures="%d" skipped="%d">' % (
               s['checks'], s['failed'], s['skipped']),
           '  <testsuite name="%s" tests="%d" failures="%d" skipped="%d">' % (
               name, s['checks'], s['failed'], s['skipped'])]
    for c in data.get('checks') or []:
        kind = (c.get('name') or '').split(':', 1)[0]
        out.append('    <testcase classname="%s.%s" name="%s">' % (name, esc(kind), esc(c.get('name'))))
        if c.get('skipped'):
            out.append('      <skipped message="%s"/>' % esc(c.get('detail')))
        elif not c.get('ok'):
            out.append('      <failure message="%s">%s</failure>' % (esc(c.get('detail')), esc(c.get('detail'))))
        out.append('    </testcase>')
    out += ['  </testsuite>', '</testsuites>']
    return '\n'.join(out) + '\n'


RENDERERS = {'json': render_json, 'markdown': render_markdown, 'html': render_html, 'junit': render_junit}
