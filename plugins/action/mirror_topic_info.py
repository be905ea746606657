# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long wait of mirror_topic_info, shown on the controller.

A module prints nothing until it returns, so a sync wait of minutes looked like a hang. With
``wait_for``, this action runs the module in slices of ``progress_interval`` seconds (each slice one
module run that reads every ``wait_interval`` seconds, as before) and prints one line per link after
every slice that did not finish the wait: how many mirrors are not there yet, the largest lag, its
trend since the wait started, the time left, and the mirrors waited for (ten named, the rest counted). The samples of every slice are returned together, and
a timeout says the lag, that a re-run resumes, and how long it waited in all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_health import named

display = Display()

MODULE = 'linkops.cluster_linking.mirror_topic_info'


def _int(value, default):
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def trend(samples):
    """``'falling from 5,000'``-like words for the largest lag over the samples so far."""
    lags = [int(s.get('max_lag') or 0) for s in samples if s.get('max_lag') is not None]
    if len(lags) < 2 or lags[0] == lags[-1]:
        return 'steady' if len(lags) >= 2 else 'first read'
    return '%s from %s' % ('falling' if lags[-1] < lags[0] else 'rising', format(lags[0], ','))


def progress_line(link, result, samples, left):
    """One line about a wait that goes on."""
    waiting = result.get('waiting') or []
    missing = [n for n in waiting if n in (result.get('missing') or [])]
    asked = len(result.get('states') or {}) + len(result.get('missing') or [])
    parts = ['%s: %d of %d mirror topics not caught up yet' % (link, len(waiting), asked or len(waiting))]
    if missing:
        parts.append('%d of them not mirrors yet' % len(missing))
    parts.append('max lag %s (%s)' % (format(int(result.get('max_lag') or 0), ','), trend(samples)))
    parts.append('%d s left' % max(0, int(left)))
    return '%s (waiting for %s)' % (', '.join(parts), named(waiting)) if waiting else ', '.join(parts)


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        interval = _int(args.get('progress_interval', 10), 10)
        total = _int(args.get('wait_timeout', 300), 300)
        if not args.get('wait_for') or interval <= 0 or total <= interval:
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result

        link = args.get('link_name')
        started = time.monotonic()
        samples = []
        while True:
            left = total - (time.monotonic() - started)
            run_args = dict(args, wait_timeout=max(0, int(min(interval, left))))
            answer = self._execute_module(module_name=MODULE, module_args=run_args, task_vars=task_vars)
            samples.extend(answer.get('samples') or [])
            answer['samples'] = samples
            timed_out = answer.get('failed') and 'waiting' in answer
            if not timed_out:  # done, or a failure that is not the wait (bad input, no link, unreachable)
                result.update(answer)
                return result
            left = total - (time.monotonic() - started)
            if left <= 0:
                # the last slice's own error details (its shorter timeout) would stand beside this message
                result.update((key, value) for key, value in answer.items() if key != 'exception')
                result['msg'] = ('Timed out after %ds: %s. Largest lag %s (%s). A re-run resumes the wait; '
                                 'wait_timeout sets how long it waits.' % (
                                     total, answer.get('msg', '').split(': ', 1)[-1].rstrip('.'),
                                     format(int(answer.get('max_lag') or 0), ','), trend(samples)))
                return result
            display.display(progress_line(link, answer, samples, left))
