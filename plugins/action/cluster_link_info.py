# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health wait of cluster_link_info, run on the controller with one progress line per try.

A module prints nothing until it returns, so a health gate of minutes looked like a hang. With
``wait_healthy``, this action runs the module once per try (one read, its health computed in the
module) and prints, after every try that goes on waiting, the link, the mirrors not ready yet, the
largest lag and the time left. The wait itself (stop at once on a state that does not heal, after
``unavailable_grace`` on an unreachable remote, else at ``wait_timeout``) is
_link_health.wait_for_health, the same the module uses on its own. ``reuse_link_result`` and
``reuse_mirror_result`` are judged here first: a link they show healthy costs no module run at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_health import (
    progress_line, reused_health, reused_result, verdict_message, wait_for_health)

display = Display()

MODULE = 'linkops.cluster_linking.cluster_link_info'
REUSE = ('reuse_link_result', 'reuse_mirror_result')
WAIT = ('wait_healthy', 'wait_timeout', 'wait_interval', 'unavailable_grace')


def _number(value, default):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _bool(value):
    return value if isinstance(value, bool) else str(value).lower() in ('1', 'true', 'yes', 'on')


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        counter = 'cli_commands' if args.get('api') == 'cli' else 'rest_requests'
        if not (_bool(args.get('wait_healthy', False)) or any(args.get(k) for k in REUSE)):
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result

        reused = None
        limit = args.get('health_max_lag')
        limit = None if limit in (None, '') else _number(limit, -1)
        if limit is None or (limit >= 0 and limit == int(limit)):  # else the module names the bad value
            reused = reused_health(dict(args, include_mirrors=_bool(args.get('include_mirrors', True)),
                                        health_max_lag=None if limit is None else int(limit)))
        if reused is not None:
            result.update(reused_result(reused, {counter: 0}), changed=False)
            return result

        # one read per module run; the wait and the reuse are done here
        once = dict((k, v) for k, v in args.items() if k not in REUSE + WAIT)
        calls = [0]

        def read():
            answer = self._execute_module(module_name=MODULE, module_args=once, task_vars=task_vars)
            calls[0] += int(answer.get(counter) or 0)
            return answer

        if not _bool(args.get('wait_healthy', False)):
            result.update(read())
            return result

        timeout = _number(args.get('wait_timeout', 600), 600)
        grace = _number(args.get('unavailable_grace', 60), 60)
        name = ', '.join(args.get('names') or []) or '(all links)'
        answer, verdict = wait_for_health(
            read, timeout, _number(args.get('wait_interval', 5), 5), grace,
            on_try=lambda last, left: display.display(progress_line(name, last.get('health') or {}, left)))
        result.update(answer)
        result[counter] = calls[0]
        if verdict not in ('ok', 'error'):
            result['failed'] = True
            result['msg'] = verdict_message(name, answer.get('health') or {}, verdict, int(timeout), int(grace))
        return result
