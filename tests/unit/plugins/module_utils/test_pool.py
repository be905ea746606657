# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_bounded: results by index, expected failures kept, the rest not started, bugs raised."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils._pool import run_bounded


class Refused(Exception):
    pass


def test_every_item_is_called_once_and_results_keep_their_index():
    for parallel in (1, 3):
        done, failed, not_started = run_bounded(range(10), lambda x: x * x, parallel)
        assert done == dict((i, i * i) for i in range(10)) and failed == {} and not_started == []


def test_a_failure_that_does_not_stop_lets_the_rest_run():
    def call(x):
        if x == 2:
            raise Refused("no")
        return x
    done, failed, not_started = run_bounded(range(5), call, 1, expected=(Refused,), stops=lambda exc: False)
    assert sorted(done) == [0, 1, 3, 4] and list(failed) == [2] and not_started == []
    done, failed, not_started = run_bounded(range(5), call, 1, expected=(Refused,))
    assert sorted(done) == [0, 1] and list(failed) == [2] and not_started == [3, 4]


def test_an_unexpected_exception_is_raised():
    def call(x):
        raise KeyError(x)
    with pytest.raises(KeyError):
        run_bounded(range(5), call, 2, expected=(Refused,))
