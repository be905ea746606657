# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a cluster link healthy? One pass over its mirrors, in Python, so a gate asserts on one field.

health(link, mirrors, ...) is what cluster_link_info returns per link (and the rollout gate asserts
on): ok, the reasons it is not, the largest lag, the counts by status, and which problems do not
heal by waiting (``failed``) or heal only if the remote comes back soon (``unavailable``).
wait_for_health() is the gate's wait: one read per try, a stop at once on ``failed``, after a short
grace on ``unavailable``, else at the timeout. from_results() reads the same health from what the
cluster_link and mirror_topic tasks of a run returned, so a healthy link costs the gate no request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links

# Statuses a mirror rests in when healthy (STOPPED: promoted or failed over by a cutover).
SETTLED = frozenset(['ACTIVE', 'STOPPED'])
# States that do not heal by waiting: the gate stops at once.
DEAD_LINK_STATES = frozenset(['FAILED', 'PAUSED'])
DEAD_MIRROR_STATUSES = frozenset(['FAILED', 'LINK_FAILED'])
# States of an unreachable remote: they heal when it comes back, so the gate waits a grace period only.
UNAVAILABLE_LINK_STATES = frozenset(['UNAVAILABLE'])
UNAVAILABLE_MIRROR_STATUSES = frozenset(['SOURCE_UNAVAILABLE'])
# Names shown per reason; the rest are counted.
SHOWN = 10


def named(names, shown=SHOWN):
    """Up to `shown` names, the rest counted ("a, b and 3 more")."""
    names = list(names)
    text = ', '.join(names[:shown])
    if len(names) > shown:
        text += ' and %d more' % (len(names) - shown)
    return text


def _error(code):
    return code if code and code != 'NO_ERROR' else None


def health(link, mirrors, expected_topics=(), max_lag=None, name=None):
    """The health of one link.

    link: the link as cluster_link_info or cluster_link returns it (link_state, link_error, tasks or
    tasks_in_error), None when it does not exist. mirrors: its mirror topics as the modules return them
    (mirror_topic_name, status, max_lag, mirror_topic_error). expected_topics: mirror names the link must
    have. max_lag: largest partition lag of a mirror that is not STOPPED, or None not to judge lag.
    """
    name = name or (link or {}).get('link_name') or 'the link'
    mirrors = list(mirrors or [])
    counts = {}
    for row in mirrors:
        counts[row.get('status')] = counts.get(row.get('status'), 0) + 1
    live = [row for row in mirrors if row.get('status') != 'STOPPED']
    largest = max([int(row.get('max_lag') or 0) for row in live] or [0])
    reasons, failed, unavailable, not_ready = [], [], [], []

    if not link:
        reasons.append('link %s does not exist' % name)
        not_ready = list(expected_topics)
    else:
        state = link.get('link_state')
        if state != 'ACTIVE':
            error = _error(link.get('link_error'))
            reasons.append('the link is %s%s' % (state, ' (%s)' % error if error else ''))
            if state in DEAD_LINK_STATES:
                failed.append(name)
            elif state in UNAVAILABLE_LINK_STATES:
                unavailable.append(name)
        tasks = link.get('tasks_in_error')
        if tasks is None:
            tasks = _links.tasks_in_error(link)
        reasons.extend('task %s' % task for task in tasks)

        present = set(row.get('mirror_topic_name') for row in mirrors)
        missing = [topic for topic in dict.fromkeys(expected_topics or []) if topic not in present]
        if missing:
            reasons.append('no mirror topic %s' % named(missing))
            not_ready.extend(missing)

        by_status = {}
        for row in mirrors:
            if row.get('status') not in SETTLED:
                by_status.setdefault(row.get('status'), []).append(row)
        for status in sorted(by_status, key=str):
            rows = by_status[status]
            texts = ['%s%s' % (r.get('mirror_topic_name'), ' (%s)' % _error(r.get('mirror_topic_error'))
                               if _error(r.get('mirror_topic_error')) else '') for r in rows]
            reasons.append('%s %s %s: %s' % (len(rows), 'mirror is' if len(rows) == 1 else 'mirrors are', status,
                                             named(texts)))
            names = [r.get('mirror_topic_name') for r in rows]
            not_ready.extend(names)
            if status in DEAD_MIRROR_STATUSES:
                failed.extend(names)
            elif status in UNAVAILABLE_MIRROR_STATUSES:
                unavailable.extend(names)

        if max_lag is not None:
            lagging = sorted((r for r in live if int(r.get('max_lag') or 0) > max_lag and r.get('status') in SETTLED),
                             key=lambda r: -int(r.get('max_lag') or 0))
            if lagging:
                reasons.append('lag above %s: %s' % (max_lag, named(
                    '%s max lag %s' % (r.get('mirror_topic_name'), r.get('max_lag')) for r in lagging)))
                not_ready.extend(r.get('mirror_topic_name') for r in lagging)

    return {
        'ok': not reasons,
        'reasons': reasons,
        'max_lag': largest,
        'status_counts': counts,
        'mirror_count': len(mirrors),
        'not_ready': not_ready[:SHOWN],
        'not_ready_count': len(not_ready),
        'failed': failed,
        'unavailable': unavailable,
        'summary': 'link %s, %d mirrors %s, max lag %s' % ((link or {}).get('link_state') or 'missing', len(mirrors),
                                                           json.dumps(counts, sort_keys=True), largest),
    }


def combine(healths, names):
    """One health over several links (names: their names, in the same order); reasons name the link."""
    several = len(healths) > 1
    counts = {}
    for item in healths:
        for status, count in item['status_counts'].items():
            counts[status] = counts.get(status, 0) + count

    def tag(link, texts):
        return ['%s: %s' % (link, t) if several else t for t in texts]

    reasons, not_ready, failed, unavailable = [], [], [], []
    for link, item in zip(names, healths):
        reasons.extend(tag(link, item['reasons']))
        not_ready.extend(tag(link, item['not_ready']))
        failed.extend(item['failed'])
        unavailable.extend(item['unavailable'])
    return {
        'ok': bool(healths) and not reasons,
        'reasons': reasons,
        'max_lag': max([h['max_lag'] for h in healths] or [0]),
        'status_counts': counts,
        'mirror_count': sum(h['mirror_count'] for h in healths),
        'not_ready': not_ready[:SHOWN],
        'not_ready_count': sum(h['not_ready_count'] for h in healths),
        'failed': failed,
        'unavailable': unavailable,
        'summary': '; '.join(('%s: %s' % (n, h['summary'])) if several else h['summary'] for n, h in zip(names, healths)),
    }


def from_results(link_result, mirror_result, expected_topics=(), max_lag=None, name=None):
    """The health of a link from the registered results of this run's cluster_link and mirror_topic tasks,
    or None when they do not show all of it (skipped, failed, or the link has mirrors the task was not given)."""
    def usable(result):
        return isinstance(result, dict) and not result.get('failed') and not result.get('skipped')
    if not usable(link_result) or not isinstance(link_result.get('link'), dict) or not link_result['link']:
        return None
    if not usable(mirror_result):
        return None
    if mirror_result.get('unlisted_mirror_count') != 0:
        return None  # the link has mirrors the task was not given (or an older result): read them
    rows = [r for r in mirror_result.get('topics') or [] if r.get('status')]
    return health(link_result['link'], rows, expected_topics, max_lag, name)


def reused_health(params):
    """cluster_link_info's health from its reuse_link_result and reuse_mirror_result options when they show the
    one named link healthy; None when a read is needed."""
    names = params.get('names') or []
    if len(names) != 1 or not params.get('include_mirrors', True):
        return None
    state = from_results(params.get('reuse_link_result'), params.get('reuse_mirror_result'),
                         params.get('health_topics') or (), params.get('health_max_lag'), names[0])
    return state if state and state['ok'] else None


def reused_result(state, counts):
    """cluster_link_info's result for a healthy link known from the run's results (no request sent)."""
    statuses = state['status_counts']
    result = {'links': [], 'missing': [], 'exists': True, 'all_active': True, 'tasks_in_error': [],
              'all_mirrors_active': bool(statuses) and set(statuses) == set(['ACTIVE']),
              'max_lag': state['max_lag'], 'status_counts': statuses, 'health': state, 'reused': True}
    result.update(counts)
    return result


def wait_for_health(read, timeout, interval, grace, sleep=time.sleep, clock=time.monotonic, on_try=None):
    """Read until healthy; return (last result, verdict).

    read(): a result with 'health' (or one that failed: returned at once). verdict: 'ok', 'failed' (a state
    that does not heal), 'unavailable' (unavailable for longer than grace seconds) or 'timeout'.
    on_try(result, seconds_left) is called after every try that goes on waiting.
    """
    started = clock()
    unavailable_since = None
    while True:
        result = read()
        state = result.get('health') or {}
        if result.get('failed') or state.get('ok'):
            return result, 'ok' if state.get('ok') else 'error'
        if state.get('failed'):
            return result, 'failed'
        now = clock()
        if state.get('unavailable'):
            unavailable_since = now if unavailable_since is None else unavailable_since
            if now - unavailable_since >= grace:
                return result, 'unavailable'
        else:
            unavailable_since = None
        left = timeout - (now - started)
        if left <= 0:
            return result, 'timeout'
        if on_try is not None:
            on_try(result, left)
        sleep(min(interval, left))


def verdict_message(name, state, verdict, timeout, grace):
    """Why the wait gave up, for the task's msg."""
    why = {
        'failed': 'stopped waiting at once: %s does not recover by itself' % named(state.get('failed') or []),
        'unavailable': 'stopped waiting after the grace of %ss (unavailable_grace): %s stayed unavailable'
                       % (grace, named(state.get('unavailable') or [])),
        'timeout': 'not healthy after %ss (wait_timeout)' % timeout,
    }[verdict]
    return 'Link %s %s: %s.' % (name, why, '; '.join(state.get('reasons') or []) or 'no reason given')


def progress_line(name, state, left):
    """One line per try of a wait that goes on: the link, the mirrors not ready yet, the max lag, the time left."""
    parts = ['%s: not healthy yet' % name]
    if state.get('not_ready_count'):
        parts.append('%d mirrors not ready (%s)' % (state['not_ready_count'], named(state.get('not_ready') or [])))
    parts.append(state.get('summary') or 'no read')
    if state.get('reasons') and not state.get('not_ready_count'):
        parts.append(state['reasons'][0])
    parts.append('%d s left' % max(0, int(left)))
    return ', '.join(parts)
