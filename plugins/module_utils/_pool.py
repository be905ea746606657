# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one call per item on a bounded number of threads, stopping new calls after a failure.

The server has no batch create for mirror topics, so creating a thousand is a thousand requests (or
CP tool commands); sent a few at a time they finish in a fraction of the time, with the same
requests and results. Calls are made by a small thread pool; a failure that stops (``stops(exc)``)
keeps the items not started yet from being started, and the calls in flight finish.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait


def run_bounded(items, call, parallel, expected=(Exception,), stops=None):
    """call(item) for each item, at most ``parallel`` at a time.

    Returns (done, failed, not_started): done {index: return value}, failed {index: exception} for the
    exceptions of the ``expected`` classes (others are raised once the calls in flight finished), and
    the indexes never started because an earlier call failed with an exception for which ``stops``
    (default: every one) is true. parallel 1 calls in order on this thread.
    """
    items = list(items)
    stops = stops or (lambda exc: True)
    done, failed = {}, {}
    upcoming = iter(range(len(items)))
    state = {'stop': False}
    errors = []  # unexpected exceptions, the first is raised

    def settle(index, thunk):
        try:
            done[index] = thunk()
        except expected as exc:  # pylint: disable=catching-non-exception
            failed[index] = exc
            state['stop'] = state['stop'] or bool(stops(exc))
        except Exception as exc:  # a bug, not a server answer: stop and raise it
            errors.append(exc)
            state['stop'] = True

    if parallel <= 1:
        for index in upcoming:
            settle(index, lambda: call(items[index]))
            if state['stop']:
                break
    else:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            running = {}

            def start_next():
                index = next(upcoming, None)
                if index is not None:
                    running[pool.submit(call, items[index])] = index

            for dummy in range(parallel):
                start_next()
            while running:
                finished, dummy = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    settle(running.pop(future), future.result)
                    if not state['stop']:
                        start_next()
    if errors:
        raise errors[0]
    not_started = [i for i in range(len(items)) if i not in done and i not in failed]
    return done, failed, not_started
