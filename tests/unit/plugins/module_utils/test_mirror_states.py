# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the mirror state table (_mirror_states): every status x wanted state, link rules, waits.

EXPECTED is written out here on its own, row by row, so a change to the table in the plugin
must be made twice on purpose.
"""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirror_states as st

COLUMNS = ("present", "active", "paused", "promoted", "failed_over", "reversed", "reversed_paused",
           "restored", "absent")
X = "refuse"
C, O, W, D = "create", "ok", "wait", "delete"
RESTORE = "truncate-and-restore"
# one row per status, one column per state of COLUMNS:
# present, active, paused, promoted, failed_over, reversed, reversed_paused, restored, absent
EXPECTED = {
    None: (C, C, X, X, X, X, X, RESTORE, O),
    "ACTIVE": (O, O, "pause", "promote", "failover", "reverse-and-start", "reverse-and-pause", O, D),
    "PAUSED": (O, "resume", O, "promote", "failover", X, X, O, D),
    "LINK_PAUSED": (O, X, "pause", "promote", "failover", X, X, O, D),
    "SOURCE_UNAVAILABLE": (O, X, X, X, "failover", X, X, O, D),
    "LINK_FAILED": (O, X, X, X, "failover", X, X, X, D),
    "FAILED": (O, X, X, X, "failover", X, X, X, D),
    "PENDING_MIRROR": (O, W, X, X, "failover", X, X, W, D),
    "PENDING_SYNCHRONIZE": (O, X, X, X, X, W, W, X, D),
    "PENDING_SETUP_FOR_RESTORE": (O, W, X, X, X, X, X, W, D),
    "PENDING_RESTORE": (O, W, X, X, X, X, X, W, D),
    "PENDING_STOPPED": (O, X, X, W, W, W, W, X, D),
    "STOPPED": (O, X, X, O, O, O, O, RESTORE, D),
    "UNKNOWN": (O, X, X, X, X, X, X, X, D),
}


def outcome(decision):
    kind, action, dummy = decision
    return action if kind == st.ACT else kind


def test_columns_are_the_module_states():
    assert COLUMNS == st.WANTED_STATES
    assert set(EXPECTED) == set(st.STATUSES) | {None, "UNKNOWN"}


@pytest.mark.parametrize("status", list(EXPECTED), ids=str)
def test_every_row_of_the_table(status):
    got = tuple(outcome(st.decide(status, state, "BIDIRECTIONAL", "")) for state in COLUMNS)
    assert got == EXPECTED[status]


@pytest.mark.parametrize("status", list(EXPECTED), ids=str)
def test_refusals_say_why(status):
    for state in COLUMNS:
        kind, action, reason = st.decide(status, state)
        if kind == st.REFUSE:
            assert reason and action is None
        else:
            assert reason is None


def test_unknown_state_is_a_programming_error():
    with pytest.raises(ValueError):
        st.decide("ACTIVE", "resumed")


@pytest.mark.parametrize("state, status, action", [
    ("restored", None, "truncate-and-restore"),
    ("reversed", "ACTIVE", "reverse-and-start"),
    ("reversed_paused", "ACTIVE", "reverse-and-pause"),
    ("restored", "STOPPED", "truncate-and-restore"),
])
def test_link_rules_of_the_reverse_operations(state, status, action):
    assert st.decide(status, state, "BIDIRECTIONAL", "") == (st.ACT, action, None)
    assert st.decide(status, state, "BIDIRECTIONAL", None) == (st.ACT, action, None)
    # not known yet (no link read): the status decides
    assert st.decide(status, state) == (st.ACT, action, None)
    kind, dummy, reason = st.decide(status, state, "DESTINATION", "")
    assert kind == st.REFUSE
    assert reason == "%s needs a BIDIRECTIONAL link without cluster.link.prefix; link.mode is DESTINATION" % action
    kind, dummy, reason = st.decide(status, state, "BIDIRECTIONAL", "dc1.")
    assert kind == st.REFUSE and "it has cluster.link.prefix 'dc1.'" in reason
    kind, dummy, reason = st.decide(status, state, "SOURCE", "p.")
    assert "link.mode is SOURCE and it has cluster.link.prefix 'p.'" in reason


def test_link_rules_do_not_touch_other_actions_or_ok_rows():
    assert st.decide("ACTIVE", "promoted", "DESTINATION", "p.") == (st.ACT, "promote", None)
    assert st.decide("STOPPED", "reversed", "DESTINATION", "p.") == (st.OK, None, None)
    assert st.decide("PENDING_SYNCHRONIZE", "reversed", "DESTINATION", "") == (st.WAIT, None, None)
    assert st.link_refusal("promote", "DESTINATION", "x") is None


def test_possible_states():
    assert st.possible_states("STOPPED") == ["present", "promoted", "failed_over", "reversed", "reversed_paused",
                                             "restored", "absent"]
    assert st.possible_states("STOPPED", "DESTINATION", "") == ["present", "promoted", "failed_over", "reversed",
                                                                "reversed_paused", "absent"]
    assert st.possible_states("FAILED") == ["present", "failed_over", "absent"]
    assert st.possible_states(None) == ["present", "active", "restored", "absent"]
    assert st.possible_states(None, "DESTINATION", "") == ["present", "active", "absent"]
    assert st.possible_states("ACTIVE", "DESTINATION", "") == ["present", "active", "paused", "promoted",
                                                               "failed_over", "restored", "absent"]


@pytest.mark.parametrize("state, final", [
    ("active", "ACTIVE"), ("paused", "PAUSED"), ("promoted", "STOPPED"), ("failed_over", "STOPPED"),
    ("reversed", "STOPPED"), ("reversed_paused", "STOPPED"), ("restored", "ACTIVE"),
])
def test_reached_final_status(state, final):
    assert st.reached(final, state)
    for status in st.STATUSES:
        assert st.reached(status, state) == (status == final)
    assert not st.reached(None, state)


def test_reached_present_and_absent():
    assert st.reached("FAILED", "present") and st.reached("STOPPED", "present")
    assert not st.reached("PENDING_MIRROR", "present")
    assert not st.reached(None, "present")
    assert st.reached(None, "absent")
    assert not st.reached("STOPPED", "absent")


@pytest.mark.parametrize("status, state, dead", [
    ("FAILED", "active", True),
    ("LINK_FAILED", "promoted", True),
    ("STOPPED", "active", True),
    ("STOPPED", "restored", True),
    ("LINK_PAUSED", "active", True),     # resumed, but the link is paused
    ("LINK_PAUSED", "promoted", False),
    ("STOPPED", "promoted", False),      # reached
    ("PENDING_STOPPED", "active", False),  # pending: keep waiting (the caller times out)
    ("PAUSED", "active", False),         # not updated yet
    ("ACTIVE", "promoted", False),
    ("FAILED", "present", False),        # reached: present takes any settled status
    ("FAILED", "absent", False),         # waits for the delete
])
def test_dead_end(status, state, dead):
    assert st.dead_end(status, state) is dead


@pytest.mark.parametrize("status, state, kind, predicted", [
    (None, "active", st.ACT, "ACTIVE"),
    (None, "present", st.ACT, "ACTIVE"),
    ("ACTIVE", "paused", st.ACT, "PAUSED"),
    ("PAUSED", "active", st.ACT, "ACTIVE"),
    ("ACTIVE", "promoted", st.ACT, "STOPPED"),
    ("PENDING_STOPPED", "failed_over", st.WAIT, "STOPPED"),
    ("ACTIVE", "reversed", st.ACT, "STOPPED"),
    ("STOPPED", "restored", st.ACT, "ACTIVE"),
    ("STOPPED", "absent", st.ACT, None),
    ("FAILED", "present", st.OK, "FAILED"),
    ("PENDING_MIRROR", "present", st.OK, "PENDING_MIRROR"),
    (None, "absent", st.OK, None),
])
def test_predicted_status(status, state, kind, predicted):
    assert st.predicted_status(status, state, kind) == predicted


def test_every_action_has_a_row_label():
    actions = set(action for row in st.TABLE.values() for kind, action in row.values() if kind == st.ACT)
    assert actions == set(st.ACTION_LABELS)
    assert st.BIDIRECTIONAL_ACTIONS <= actions
