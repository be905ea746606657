# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a call is tried again, and how long to wait first; the failure of a write whose answer was lost.

Both backends use RetryPolicy: exponential backoff with jitter, capped at retry_max_delay,
never shorter than the server's Retry-After, never past the module's deadline. It counts every
retry (the modules return the count as rest_retries / cli_retries) and keeps one line per retry
for -vvv.

AnswerLost is what a backend raises when a write was sent and no answer came back (the
connection dropped or timed out after sending): the server may or may not have acted, so the
reconcilers re-read the object and carry on from what they find (docs/modules.md, "Retries").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import random
import threading
import time
from email.utils import parsedate_tz

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError

DEFAULT_RETRIES = 6
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_DELAY = 30.0
# Lines kept for -vvv; a long outage does not fill the result.
MAX_LOG_LINES = 100


class AnswerLost(ApiError):
    """A write was sent and its answer was lost: whether the server acted is not known."""

    outcome_unknown = True


def outcome_unknown(exc):
    """True when exc is a failed write whose answer was lost (AnswerLost, from either backend)."""
    return bool(getattr(exc, 'outcome_unknown', False))


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable.

    A date in the past means 0 seconds.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)  # not in RFC 9110, but some proxies send "1.5"
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if seconds >= 0 else None
    parsed = parsedate_tz(text)
    if parsed is None:
        return None
    at = calendar.timegm(parsed[:9]) - (parsed[9] or 0)
    current = time.time() if now is None else now
    return max(0.0, float(at - current))


def backoff_delay(attempt, base=DEFAULT_BACKOFF, max_delay=DEFAULT_MAX_DELAY, draw=0.5):
    """The wait before retry number attempt + 1 (attempt 0 is the first retry), with jitter.

    The ceiling doubles with each attempt (base, 2 base, 4 base, ...) up to max_delay; the wait is
    between half the ceiling and the ceiling (draw in [0, 1) picks where), so concurrent clients
    spread out but none comes back at once.
    """
    ceiling = min(float(max_delay), float(base) * (2 ** attempt))
    return ceiling / 2.0 + ceiling / 2.0 * draw


class RetryPolicy:
    """How many retries, how long to wait, until when; counts and logs each retry.

    deadline: a clock() value after which no retry starts (the module's timeout), or None.
    """

    def __init__(self, retries=DEFAULT_RETRIES, max_delay=DEFAULT_MAX_DELAY, base=DEFAULT_BACKOFF,
                 deadline=None, sleep=None, clock=None, rand=None, log=None):
        self.retries = retries
        self.max_delay = max_delay
        self.base = base
        self.deadline = deadline
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._rand = rand or random.random
        self._log = log
        self.count = 0
        self.lines = []
        self.verbose = False
        self._lock = threading.Lock()  # retries of parallel calls are counted from several threads

    def now(self):
        """The policy's clock (time.monotonic unless a test gives another)."""
        return self._clock()

    def delay(self, attempt, retry_after=None):
        """The wait before retry attempt + 1: the backoff, or the server's Retry-After when longer."""
        wait = backoff_delay(attempt, self.base, self.max_delay, self._rand())
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def why_not(self, attempt, wait, retry_after=None):
        """Why retry attempt + 1 is not made (text), or None when it may be."""
        if attempt >= self.retries:
            return 'no retries left (retries=%s)' % self.retries
        if retry_after is not None and retry_after > self.max_delay:
            return ('the server asked to retry after %s seconds, more than retry_max_delay (%s)'
                    % (_seconds(retry_after), _seconds(self.max_delay)))
        if self.deadline is not None and self._clock() + wait > self.deadline:
            return 'waiting %s seconds more would pass the task\'s timeout' % _seconds(wait)
        return None

    def wait(self, attempt, what, reason, retry_after=None):
        """Wait before retrying `what` (failed with `reason`) and return None; or return why it is not retried."""
        wait = self.delay(attempt, retry_after)
        refusal = self.why_not(attempt, wait, retry_after)
        if refusal:
            return refusal
        self.record('%s: %s; retry %d of %d in %s s%s' % (
            what, reason, attempt + 1, self.retries, _seconds(wait),
            ' (Retry-After: %s s)' % _seconds(retry_after) if retry_after is not None else ''))
        self._sleep(wait)
        return None

    def record(self, line):
        """Count one retry (or one write sent again after a lost answer) and keep its line for -vvv."""
        with self._lock:
            self.count += 1
        self.note(line)

    def note(self, line):
        """Keep a line for -vvv without counting a retry (a decision after a lost answer)."""
        with self._lock:
            if len(self.lines) < MAX_LOG_LINES:
                self.lines.append(line)
        if self._log:
            self._log(line)


def _seconds(value):
    value = float(value)
    return ('%d' % value) if value == int(value) else ('%.2f' % value)
