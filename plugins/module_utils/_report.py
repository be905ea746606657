# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A migration report in four renderings: JSON, Markdown, a self-contained HTML page with a lag chart, JUnit XML.

Every rendering carries the same evidence (``evidence(data)``): the header (link, clusters, who ran it,
when each phase ran, the collection version), per topic and partition the end offsets on both clusters
and the lag at cutover, the records copied, the committed offsets of each group on both sides, the
ACLs compared, the cutover with its recovery point, and every lag sample.

Everything here is a pure function of the report data, so the same data always renders the same bytes
(the module then writes only what changed). Secrets never get in: values of secret-like keys and the
user information of URLs are masked before anything is rendered.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import re

try:
    from html import escape as _html_escape
except ImportError:  # pragma: no cover (Python 2)
    from cgi import escape as _html_escape

FORMATS = ('json', 'markdown', 'html', 'junit')
FILE_NAMES = {'json': 'report.json', 'markdown': 'report.md', 'html': 'report.html', 'junit': 'junit.xml'}

MASK = '********'
_SECRET_KEY = re.compile(r'password|passwd|secret|token|jaas|credential|private|(^|[._])key$|ssl[._]key', re.I)
_URL_USERINFO = re.compile(r'(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@', re.I)

#: Header fields in the order they are printed, with their labels.
HEADER_FIELDS = (
    ('link_name', 'Link'), ('link_id', 'Link id'), ('mode', 'Mode'),
    ('source.cluster_id', 'Source cluster id'), ('source.reported_cluster_id', 'Source cluster id its brokers report'),
    ('source.bootstrap_servers', 'Source bootstrap'),
    ('destination.cluster_id', 'Destination cluster id'),
    ('destination.reported_cluster_id', 'Destination cluster id its brokers report'),
    ('destination.bootstrap_servers', 'Destination bootstrap'),
    ('rest_endpoint', 'REST endpoint'), ('inventory_host', 'Inventory host'), ('run_by', 'Run by'),
    ('collection_version', 'Collection version'),
)


# --------------------------------------------------------------------------------------------
# Small text helpers


def esc(value):
    return _html_escape('' if value is None else str(value), True)


def md_cell(value):
    text = '' if value is None else str(value)
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('|', '\\|').replace('\n', ' ')


def plural(count, noun, nouns=None):
    """``1 partition``, ``2 partitions``."""
    return '%s %s' % (format(count, ','), noun if count == 1 else (nouns or noun + 's'))


def number(value):
    """Thousands separators for whole numbers; anything else as text; None as a dash."""
    if value is None or value == '':
        return '-'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return format(value, ',')
    return str(value)


def fmt_time(value):
    """Seconds since the epoch (a number) as ISO 8601 UTC; a text as it is; None as a dash."""
    if value is None or value == '':
        return '-'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        stamp = datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
        return stamp.strftime('%Y-%m-%dT%H:%M:%SZ')
    return str(value)


def _is_secret(key, value):
    """Whether ``value`` under ``key`` is a secret to mask: a secret-like key holding a non-empty scalar."""
    if not _SECRET_KEY.search(str(key)) or value in (None, '', {}, []):
        return False
    return not isinstance(value, (bool, int, float, dict, list))


def redact(value, key=''):
    """A copy with the values of secret-like keys masked and user information removed from URLs."""
    if isinstance(value, dict):
        return dict((k, MASK if _is_secret(k, v) else redact(v, k)) for k, v in value.items())
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(r'\g<scheme>%s@' % MASK, value)
    return value


def _get(mapping, dotted):
    for part in dotted.split('.'):
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(part)
    return mapping


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _partition_key(value):
    number_value = _int(value)
    return (0, number_value, '') if number_value is not None else (1, 0, str(value))


# --------------------------------------------------------------------------------------------
# The evidence, computed once for every rendering


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


def result_line(s):
    return '%s: %s, %d passed, %d failed, %d skipped' % (
        s['result'], plural(s['checks'], 'check'), s['passed'], s['failed'], s['skipped'])


def header_rows(header):
    """[(label, value)] of the header fields that are known."""
    rows = []
    for key, label in HEADER_FIELDS:
        value = _get(header, key)
        if value not in (None, ''):
            rows.append((label, str(value)))
    return rows


def _epoch(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.datetime.strptime(str(value), '%Y-%m-%dT%H:%M:%SZ').replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None


def phases(data):
    """The header's phases, plus those the data times by itself: the sync wait (its first and last lag
    sample of phase sync_wait in the last run) and the cutover (its rows' times). In time order."""
    given = [p for p in ((data.get('header') or {}).get('phases') or []) if isinstance(p, dict)]
    names = set(str(p.get('name') or '') for p in given)
    derived = []
    samples = [x for x in data.get('lag_samples') or []
               if x.get('phase', 'sync_wait') == 'sync_wait' and _epoch(x.get('time')) is not None]
    if samples and 'sync_wait' not in names:
        last_run = samples[-1].get('run_started')
        run = [x for x in samples if x.get('run_started') == last_run]
        derived.append({'name': 'sync_wait', 'start': _epoch(run[0]['time']), 'end': _epoch(run[-1]['time'])})
    epochs = [_epoch(r.get('epoch')) for r in data.get('cutover') or [] if _epoch(r.get('epoch')) is not None]
    if epochs and 'cutover' not in names:
        derived.append({'name': 'cutover', 'start': min(epochs), 'end': max(epochs)})
    rows = given + derived
    order = dict((id(p), i) for i, p in enumerate(rows))
    return sorted(rows, key=lambda p: (_epoch(p.get('start')) is None, _epoch(p.get('start')) or 0, order[id(p)]))


def phase_rows(data):
    """[(phase, start, end)] as printed."""
    return [(str(p.get('name') or p.get('phase') or ''), fmt_time(p.get('start')), fmt_time(p.get('end')))
            for p in phases(data)]


def rpo_text(row):
    """The recovery point of a cutover row: records not mirrored when it was cut over."""
    action = row.get('action')
    lags = [max(0, _int(p.get('lag')) or 0) for p in row.get('partition_lags') or [] if isinstance(p, dict)]
    if action == 'failed_over':
        total = sum(lags) if lags else _int(row.get('max_lag'))
        if total is None:
            return 'unknown (no lag recorded)'
        return '%s not mirrored' % plural(total, 'record')
    if action == 'promoted':
        return '0 records (a promote waits until the mirror has caught up)'
    return '-'


def topic_rows(data):
    """Per topic: partitions, per-partition offsets and lag at cutover, records copied."""
    topics = (data.get('details') or {}).get('topics') or {}
    cut_lags = {}
    for row in data.get('cutover') or []:
        lags = {}
        for p in row.get('partition_lags') or []:
            if isinstance(p, dict) and p.get('partition') is not None:
                lags[str(p['partition'])] = _int(p.get('lag'))
        cut_lags[row.get('topic')] = lags
    rows = []
    for name in sorted(topics):
        t = topics[name] or {}
        src = t.get('source_end_offsets') or {}
        dst = t.get('destination_end_offsets') or {}
        start = t.get('destination_start_offsets') or {}
        probes = t.get('destination_probe_records') or {}
        lags = cut_lags.get(name, {})
        partitions = []
        for p in sorted(set(src) | set(dst), key=_partition_key):
            partitions.append({'partition': _int(p) if _int(p) is not None else p,
                               'source_end_offset': src.get(p), 'destination_end_offset': dst.get(p),
                               'lag_at_cutover': lags.get(str(p))})
        copied = t.get('records_copied')
        if copied is None and dst:
            copied = sum((_int(v) or 0) - (_int(start.get(p)) or 0) - (_int(probes.get(p)) or 0)
                         for p, v in dst.items())
        counts = t.get('partitions') or {}
        rows.append({'topic': name, 'source_topic': t.get('source_topic') or name,
                     'partitions_source': counts.get('source'), 'partitions_destination': counts.get('destination'),
                     'records_copied': copied, 'partitions': partitions})
    return rows


def group_rows(data):
    """Per group, topic and partition: the committed offset on each side."""
    groups = (data.get('details') or {}).get('consumer_groups') or {}
    rows = []
    for group in sorted(groups):
        sides = groups[group] or {}
        src, dst = sides.get('source') or {}, sides.get('destination') or {}
        for topic in sorted(set(src) | set(dst)):
            s_parts, d_parts = src.get(topic) or {}, dst.get(topic) or {}
            for p in sorted(set(s_parts) | set(d_parts), key=_partition_key):
                rows.append({'group': group, 'topic': topic, 'partition': _int(p) if _int(p) is not None else p,
                             'source': s_parts.get(p), 'destination': d_parts.get(p),
                             'equal': s_parts.get(p) == d_parts.get(p)})
    return rows


ACL_COLUMNS = ('principal', 'resourceType', 'name', 'patternType', 'operation', 'permissionType', 'host')


def acl_rows(data):
    """The ACLs compared: every selected source ACL with whether it is on the destination, then the
    selected destination-only ones."""
    acls = (data.get('details') or {}).get('acls') or {}
    rows = []
    compared = acls.get('compared')
    if compared is None:  # an older verification result: only the missing ones are listed
        compared = [dict(a, on_destination=False) for a in acls.get('missing') or []]
    for acl in compared:
        rows.append(dict([(k, acl.get(k)) for k in ACL_COLUMNS],
                         source=True, destination=bool(acl.get('on_destination'))))
    for acl in acls.get('destination_only') or []:
        rows.append(dict([(k, acl.get(k)) for k in ACL_COLUMNS], source=False, destination=True))
    return rows


def chart_points(data):
    """The points of the lag chart: every sync-wait sample, then the lag at cutover where recorded.

    [(time, max lag, total lag, phase)] in time order."""
    points = []
    for s in data.get('lag_samples') or []:
        if s.get('time') is None:
            continue
        max_lag = _int(s.get('max_lag')) or 0
        total = _int(s.get('total_lag'))
        points.append((float(s['time']), max_lag, max_lag if total is None else total, s.get('phase') or 'sample'))
    cut = [r for r in data.get('cutover') or [] if r.get('epoch') is not None and r.get('max_lag') is not None]
    if cut:
        at = max(float(r['epoch']) for r in cut)
        max_lag = max(_int(r['max_lag']) or 0 for r in cut)
        total = 0
        for r in cut:
            lags = [max(0, _int(p.get('lag')) or 0) for p in r.get('partition_lags') or [] if isinstance(p, dict)]
            total += sum(lags) if lags else (_int(r['max_lag']) or 0)
        points.append((at, max_lag, total, 'cutover'))
    points.sort(key=lambda p: p[0])
    return points


def evidence(data):
    """Everything the renderings show, computed from the data (also kept in report.json)."""
    header = data.get('header') or {}
    return {
        'header': header_rows(header), 'phases': phase_rows(data), 'topics': topic_rows(data),
        'consumer_groups': group_rows(data), 'acls': acl_rows(data),
        'cutover': [dict(r, rpo=rpo_text(r)) for r in data.get('cutover') or []],
        'chart_points': chart_points(data),
    }


def _clean(data):
    return redact(dict(data))


# --------------------------------------------------------------------------------------------
# Axis ticks


def nice_step(span, count=5):
    """A step of 1, 2 or 5 times a power of ten that cuts ``span`` into about ``count`` parts."""
    if span <= 0:
        return 1.0
    raw = span / float(count)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover


def ticks(low, high, count=5, whole=False):
    """Distinct, evenly spaced tick values covering [low, high]; whole numbers only when ``whole``."""
    step = nice_step(high - low, count)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    start = math.floor(low / step) * step
    values = [round(start, 9)]
    while len(values) < 2 or values[-1] < high - step * 1e-9:
        values.append(round(start + len(values) * step, 9))
    return values


def _tick_label(value):
    if float(value).is_integer():
        return format(int(value), ',')
    return ('%.3f' % value).rstrip('0').rstrip('.')


# --------------------------------------------------------------------------------------------
# Renderings


def render_json(data):
    doc = _clean(data)
    doc['summary'] = summarize(doc)
    ev = evidence(doc)
    ev['chart_points'] = [{'time': t, 'max_lag': m, 'total_lag': s, 'phase': ph} for t, m, s, ph in ev['chart_points']]
    ev['header'] = [{'field': k, 'value': v} for k, v in ev['header']]
    ev['phases'] = [{'phase': n, 'start': s, 'end': e} for n, s, e in ev['phases']]
    doc['evidence'] = ev
    return json.dumps(doc, indent=2, sort_keys=True) + '\n'


def _md_table(head, rows):
    lines = ['| %s |' % ' | '.join(head), '|%s|' % '|'.join('---' for _h in head)]
    lines += ['| %s |' % ' | '.join(md_cell(c) for c in row) for row in rows]
    return lines


def render_markdown(data):
    data = _clean(data)
    s = summarize(data)
    ev = evidence(data)
    lines = ['# Migration report: %s' % md_cell(data.get('title')), '']
    if data.get('generated_at'):
        lines += ['Generated at %s.' % md_cell(data['generated_at']), '']
    lines += ['**Result: %s**.' % result_line(s), '']
    if s['failed_checks']:
        lines += ['Failed checks: %s.' % ', '.join('`%s`' % n for n in s['failed_checks']), '']
    if ev['header']:
        lines += ['## Run', ''] + _md_table(('field', 'value'), ev['header']) + ['']
    if ev['phases']:
        lines += ['## Phases', ''] + _md_table(('phase', 'start (UTC)', 'end (UTC)'), ev['phases']) + ['']
    lines += ['## Checks', ''] + _md_table(('check', 'result', 'detail'), [
        ('`%s`' % c.get('name'), 'skipped' if c.get('skipped') else ('ok' if c.get('ok') else '**FAILED**'),
         c.get('detail')) for c in data.get('checks') or []])
    if ev['topics']:
        lines += ['', '## Topics', '']
        for t in ev['topics']:
            lines += ['### `%s`' % md_cell(t['topic']), '', _topic_sentence(t), '']
            lines += _md_table(('partition', 'source end offset', 'destination end offset', 'lag at cutover'), [
                (p['partition'], number(p['source_end_offset']), number(p['destination_end_offset']),
                 number(p['lag_at_cutover'])) for p in t['partitions']]) + ['']
    if ev['consumer_groups']:
        lines += ['## Consumer groups (committed offsets)', ''] + _md_table(
            ('group', 'topic', 'partition', 'source', 'destination', 'equal'),
            [(g['group'], g['topic'], g['partition'], number(g['source']), number(g['destination']),
              'yes' if g['equal'] else '**no**') for g in ev['consumer_groups']]) + ['']
    if ev['acls']:
        lines += ['## ACLs compared', ''] + _md_table(
            ('principal', 'resource', 'name', 'pattern', 'operation', 'permission', 'host', 'source', 'destination'),
            [tuple(a[k] for k in ACL_COLUMNS) + ('yes' if a['source'] else 'no',
                                                 'yes' if a['destination'] else '**missing**') for a in ev['acls']]) + ['']
    if ev['cutover']:
        lines += ['## Cutover', ''] + _md_table(('topic', 'action', 'max lag at cutover', 'recovery point (RPO)', 'time'), [
            ('`%s`' % r.get('topic'), r.get('action'), number(r.get('max_lag')), r['rpo'], r.get('time'))
            for r in ev['cutover']]) + ['']
    samples = data.get('lag_samples') or []
    lines += ['## Lag', '', _lag_sentence(ev['chart_points'], s), '']
    if samples:
        lines += _md_table(('time (UTC)', 'phase', 'max partition lag (records)', 'total lag (records)'), [
            (fmt_time(x.get('time')), x.get('phase') or '', number(x.get('max_lag')), number(x.get('total_lag')))
            for x in samples])
    return '\n'.join(lines).rstrip('\n') + '\n'


def _topic_sentence(t):
    src, dst = t['partitions_source'], t['partitions_destination']
    if src == dst and src is not None:
        parts = '%s on both clusters' % plural(src, 'partition')
    else:
        parts = 'partitions: source %s, destination %s' % (number(src), number(dst))
    name = t['topic'] if t['source_topic'] == t['topic'] else '%s (from %s on the source)' % (t['topic'], t['source_topic'])
    copied = '' if t['records_copied'] is None else '; %s copied' % plural(t['records_copied'], 'record')
    return '%s: %s%s.' % (name, parts, copied)


def _lag_sentence(points, s):
    if not points:
        return 'No lag samples were recorded.'
    if len(points) == 1:
        t, max_lag, total, phase = points[0]
        return ('One lag sample was recorded (%s, at %s): max partition lag %s, total lag %s; '
                'a chart needs two.' % (phase, fmt_time(t), plural(max_lag, 'record'), plural(total, 'record')))
    return ('%d lag samples from %s to %s (%s); highest max partition lag %s; last %s.' % (
        len(points), fmt_time(points[0][0]), fmt_time(points[-1][0]), _duration(points[-1][0] - points[0][0]),
        plural(max(p[1] for p in points), 'record'), plural(points[-1][1], 'record')))


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 120:
        return plural(seconds, 'second')
    if seconds < 7200:
        return '%d min %d s' % (seconds // 60, seconds % 60)
    return '%d h %d min' % (seconds // 3600, (seconds % 3600) // 60)


def _chart_svg(points, cutover=(), width=720, height=280):
    """An inline SVG line chart of max and total lag over time, cutover marked; no external assets.

    ``points`` as ``chart_points`` returns them. Fewer than two points give a sentence instead."""
    if len(points) < 2:
        return '<p class="chart-note">%s</p>' % esc(_lag_sentence(points, None))
    left, right, top, bottom = 78, 20, 28, 48
    pw, ph = width - left - right, height - top - bottom
    t0 = points[0][0]
    span = (points[-1][0] - t0) or 1.0
    unit, scale = ('min', 60.0) if span >= 600 else ('s', 1.0)
    xticks = ticks(0, span / scale, 6)
    xmax = xticks[-1] * scale
    yticks = ticks(0, max([p[2] for p in points] + [p[1] for p in points] + [1]), 5, whole=True)
    ymax = yticks[-1]

    def x(t):
        return left + (t - t0) / xmax * pw

    def y(v):
        return top + ph - (float(v) / ymax) * ph

    out = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Mirror lag over time" class="lag-chart" '
           'width="%d" height="%d" viewBox="0 0 %d %d">' % (width, height, width, height),
           '<rect x="%d" y="%d" width="%d" height="%d" fill="#fafafa" stroke="#ccc"/>' % (left, top, pw, ph)]
    for v in yticks:
        out.append('<g class="ytick"><line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>'
                   '<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text></g>'
                   % (left, left + pw, y(v), y(v), left - 6, y(v) + 4, _tick_label(v)))
    for v in xticks:
        out.append('<g class="xtick"><line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999"/>'
                   '<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text></g>'
                   % (x(t0 + v * scale), x(t0 + v * scale), top + ph, top + ph + 4, x(t0 + v * scale),
                      top + ph + 17, _tick_label(v)))
    out.append('<text class="axis-label" x="%d" y="%d" font-size="11" text-anchor="middle">time since %s '
               '(%s)</text>' % (left + pw // 2, height - 8, fmt_time(t0), unit))
    out.append('<text class="axis-label" x="14" y="%d" font-size="11" text-anchor="middle" '
               'transform="rotate(-90 14 %d)">lag (records)</text>' % (top + ph // 2, top + ph // 2))
    for series, color, idx in (('total lag', '#3182bd', 2), ('max partition lag', '#d62728', 1)):
        path = ' '.join('%.1f,%.1f' % (x(p[0]), y(p[idx])) for p in points)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>'
                   % (color, path, series))
    for p in points:
        out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s at %s: max lag %s, total %s</title>'
                   '</circle>' % (x(p[0]), y(p[1]), '#2ca02c' if p[3] == 'cutover' else '#d62728', esc(p[3]),
                                  fmt_time(p[0]), number(p[1]), number(p[2])))
    times = sorted(set(float(r['epoch']) for r in cutover or [] if r.get('epoch') is not None))
    for t in times[:1]:
        if t0 <= t <= t0 + xmax:
            out.append('<line class="cutover" x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#2ca02c" '
                       'stroke-dasharray="4 3"/>' % (x(t), x(t), top, top + ph))
            out.append('<text x="%.1f" y="%d" font-size="11" fill="#2ca02c" text-anchor="end">cutover</text>'
                       % (x(t) - 4, top + 12))
    out.append('<text x="%d" y="%d" font-size="11" fill="#d62728">max partition lag</text>' % (left + 8, top - 10))
    out.append('<text x="%d" y="%d" font-size="11" fill="#3182bd">total lag</text>' % (left + 130, top - 10))
    out.append('</svg>')
    return '\n'.join(out)


_STYLE = (
    'body{font-family:sans-serif;margin:2em;max-width:64em;color:#222}'
    'table{border-collapse:collapse;margin:.5em 0 1em}'
    'td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}'
    'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}'
    'tr.failed td,td.bad{background:#fdd}tr.skipped td{color:#777}'
    '.result{font-size:1.3em;font-weight:bold}.passed{color:#2ca02c}.failedr{color:#d62728}'
    'h3{margin-bottom:.2em}'
    '@media print{@page{margin:14mm}body{margin:0;max-width:none;font-size:9.5pt}'
    'h2,h3{break-after:avoid;page-break-after:avoid}'
    'table,svg,tr{break-inside:avoid;page-break-inside:avoid}'
    'tr.failed td,td.bad{-webkit-print-color-adjust:exact;print-color-adjust:exact}}'
)


def _html_table(head, rows, numeric=()):
    out = ['<table><tr>%s</tr>' % ''.join('<th%s>%s</th>' % (' class="num"' if i in numeric else '', esc(h))
                                          for i, h in enumerate(head))]
    for row, cls in rows:
        cells = []
        for i, cell in enumerate(row):
            klass = []
            if i in numeric:
                klass.append('num')
            if isinstance(cell, tuple):  # (text, css class)
                cell, extra = cell
                klass.append(extra)
            cells.append('<td%s>%s</td>' % (' class="%s"' % ' '.join(klass) if klass else '', cell))
        out.append('<tr%s>%s</tr>' % (' class="%s"' % cls if cls else '', ''.join(cells)))
    out.append('</table>')
    return out


def render_html(data):
    data = _clean(data)
    s = summarize(data)
    ev = evidence(data)
    title = esc(data.get('title'))
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<title>Migration report: %s</title>' % title, '<style>%s</style>' % _STYLE, '</head><body>',
             '<h1>Migration report: %s</h1>' % title]
    if data.get('generated_at'):
        parts.append('<p>Generated at %s.</p>' % esc(data['generated_at']))
    parts.append('<p class="result %s">%s</p>' % ('failedr' if s['failed'] else 'passed', esc(result_line(s))))
    if ev['header']:
        parts += ['<h2>Run</h2>'] + _html_table(('field', 'value'), [
            ((esc(k), '<code>%s</code>' % esc(v)), '') for k, v in ev['header']])
    if ev['phases']:
        parts += ['<h2>Phases</h2>'] + _html_table(('phase', 'start (UTC)', 'end (UTC)'), [
            ((esc(n), esc(a), esc(b)), '') for n, a, b in ev['phases']])
    parts += ['<h2>Lag over the sync and cutover</h2>', _chart_svg(ev['chart_points'], data.get('cutover'))]
    rows = []
    for c in data.get('checks') or []:
        result = 'skipped' if c.get('skipped') else ('ok' if c.get('ok') else 'FAILED')
        rows.append((('<code>%s</code>' % esc(c.get('name')), result, esc(c.get('detail'))), result.lower()))
    parts += ['<h2>Checks</h2>'] + _html_table(('check', 'result', 'detail'), rows)
    if ev['topics']:
        parts.append('<h2>Topics</h2>')
        for t in ev['topics']:
            parts += ['<h3><code>%s</code></h3>' % esc(t['topic']), '<p>%s</p>' % esc(_topic_sentence(t))]
            parts += _html_table(('partition', 'source end offset', 'destination end offset', 'lag at cutover'), [
                ((esc(p['partition']), number(p['source_end_offset']), number(p['destination_end_offset']),
                  number(p['lag_at_cutover'])), '') for p in t['partitions']], numeric=(0, 1, 2, 3))
    if ev['consumer_groups']:
        parts += ['<h2>Consumer groups (committed offsets)</h2>'] + _html_table(
            ('group', 'topic', 'partition', 'source', 'destination', 'equal'),
            [((esc(g['group']), esc(g['topic']), esc(g['partition']), number(g['source']), number(g['destination']),
               'yes' if g['equal'] else ('no', 'bad')), '') for g in ev['consumer_groups']], numeric=(2, 3, 4))
    if ev['acls']:
        parts += ['<h2>ACLs compared</h2>'] + _html_table(
            ('principal', 'resource', 'name', 'pattern', 'operation', 'permission', 'host', 'source', 'destination'),
            [(tuple(esc(a[k]) for k in ACL_COLUMNS) + ('yes' if a['source'] else 'no',
                                                       'yes' if a['destination'] else ('missing', 'bad')), '')
             for a in ev['acls']])
    if ev['cutover']:
        parts += ['<h2>Cutover</h2>'] + _html_table(
            ('topic', 'action', 'max lag at cutover', 'recovery point (RPO)', 'time'),
            [(('<code>%s</code>' % esc(r.get('topic')), esc(r.get('action')), number(r.get('max_lag')),
               esc(r['rpo']), esc(r.get('time'))), '') for r in ev['cutover']], numeric=(2,))
    parts.append('</body></html>')
    return '\n'.join(parts) + '\n'


def render_junit(data):
    data = _clean(data)
    s = summarize(data)
    ev = evidence(data)
    name = esc(data.get('title'))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="linkops migration" tests="%d" failures="%d" skipped="%d">' % (
               s['checks'], s['failed'], s['skipped']),
           '  <testsuite name="%s" tests="%d" failures="%d" skipped="%d">' % (
               name, s['checks'], s['failed'], s['skipped'])]
    props = list(ev['header'])
    props += [('phase.%s' % n, '%s to %s' % (a, b)) for n, a, b in ev['phases']]
    for t in ev['topics']:
        props.append(('topic.%s.records_copied' % t['topic'], number(t['records_copied'])))
        for p in t['partitions']:
            props.append(('topic.%s.%s' % (t['topic'], p['partition']),
                          'source end %s, destination end %s, lag at cutover %s' % (
                              number(p['source_end_offset']), number(p['destination_end_offset']),
                              number(p['lag_at_cutover']))))
    for r in ev['cutover']:
        props.append(('cutover.%s' % r.get('topic'), '%s; RPO %s' % (r.get('action'), r['rpo'])))
    if props:
        out.append('    <properties>')
        out += ['      <property name="%s" value="%s"/>' % (esc(k), esc(v)) for k, v in props]
        out.append('    </properties>')
    for c in data.get('checks') or []:
        kind = (c.get('name') or '').split(':', 1)[0]
        out.append('    <testcase classname="%s.%s" name="%s">' % (name, esc(kind), esc(c.get('name'))))
        if c.get('skipped'):
            out.append('      <skipped message="%s"/>' % esc(c.get('detail')))
        elif not c.get('ok'):
            out.append('      <failure message="%s">%s</failure>' % (esc(c.get('detail')), esc(c.get('detail'))))
        out.append('    </testcase>')
    out.append('    <system-out>%s</system-out>' % esc(render_markdown(data)))
    out += ['  </testsuite>', '</testsuites>']
    return '\n'.join(out) + '\n'


RENDERERS = {'json': render_json, 'markdown': render_markdown, 'html': render_html, 'junit': render_junit}
