# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which mirror status can reach which wanted state of mirror_topic, and with which action.

The table follows the server (Confluent Cluster Linking mirror states): ACTIVE <-> PAUSED
(pause, resume; a mirror of a paused link, LINK_PAUSED, can be paused but only the link's
cluster.link.paused brings it back); ACTIVE, PAUSED or LINK_PAUSED -> STOPPED by promote or
failover; failover also from FAILED, LINK_FAILED, SOURCE_UNAVAILABLE and PENDING_MIRROR (it
needs no source); STOPPED is terminal except for truncate-and-restore on a bidirectional link,
which also takes the old primary's topic that is not a mirror at all; the reverse operations
(and truncate-and-restore) need a BIDIRECTIONAL link without cluster.link.prefix.
mirror_topic plans every listed topic with decide() before it makes any change, so an
impossible request fails naming each topic, its status and what is possible from there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACTIVE = 'ACTIVE'
PAUSED = 'PAUSED'
LINK_PAUSED = 'LINK_PAUSED'
SOURCE_UNAVAILABLE = 'SOURCE_UNAVAILABLE'
LINK_FAILED = 'LINK_FAILED'
FAILED = 'FAILED'
PENDING_MIRROR = 'PENDING_MIRROR'
PENDING_SYNCHRONIZE = 'PENDING_SYNCHRONIZE'
PENDING_SETUP_FOR_RESTORE = 'PENDING_SETUP_FOR_RESTORE'
PENDING_RESTORE = 'PENDING_RESTORE'
PENDING_STOPPED = 'PENDING_STOPPED'
STOPPED = 'STOPPED'
#: the topic is not a mirror topic of the link
ABSENT = None

#: every status the REST API documents (MirrorTopicStatus), in a stable order
STATUSES = (ACTIVE, PAUSED, LINK_PAUSED, SOURCE_UNAVAILABLE, LINK_FAILED, FAILED, PENDING_MIRROR,
            PENDING_SYNCHRONIZE, PENDING_SETUP_FOR_RESTORE, PENDING_RESTORE, PENDING_STOPPED, STOPPED)
#: statuses the server leaves by itself
PENDING = frozenset([PENDING_MIRROR, PENDING_SYNCHRONIZE, PENDING_SETUP_FOR_RESTORE, PENDING_RESTORE,
                     PENDING_STOPPED])

WANTED_STATES = ('present', 'active', 'paused', 'promoted', 'failed_over', 'reversed', 'reversed_paused',
                 'restored', 'absent')

# Decision kinds
OK = 'ok'          # already in the wanted state: nothing to do
WAIT = 'wait'      # on its way there by itself: nothing to send, wait for the final status
ACT = 'act'        # one action brings it there
REFUSE = 'refuse'  # the server cannot bring it there from this status

# Actions besides the batch actions of the backend
CREATE = 'create'
DELETE = 'delete'

# Batch actions that need a BIDIRECTIONAL link without a prefix.
BIDIRECTIONAL_ACTIONS = frozenset(['reverse-and-start', 'reverse-and-pause', 'truncate-and-restore'])

# What a result row calls each action.
ACTION_LABELS = {
    CREATE: 'created',
    DELETE: 'deleted',
    'resume': 'resumed',
    'pause': 'paused',
    'promote': 'promoted',
    'failover': 'failed_over',
    'reverse-and-start': 'reversed',
    'reverse-and-pause': 'reversed_paused',
    'truncate-and-restore': 'restored',
}

_STOPPED_TO = (OK, None)
_WAIT = (WAIT, None)

# wanted state -> {status: (kind, action)}; a status not listed is refused ('*': every listed status).
TABLE = {
    'present': {
        ABSENT: (ACT, CREATE),
        '*': (OK, None),
    },
    'active': {
        ABSENT: (ACT, CREATE),
        ACTIVE: (OK, None),
        PAUSED: (ACT, 'resume'),
        PENDING_MIRROR: _WAIT,
        PENDING_SETUP_FOR_RESTORE: _WAIT,
        PENDING_RESTORE: _WAIT,
    },
    'paused': {
        ACTIVE: (ACT, 'pause'),
        LINK_PAUSED: (ACT, 'pause'),
        PAUSED: (OK, None),
    },
    'promoted': {
        ACTIVE: (ACT, 'promote'),
        PAUSED: (ACT, 'promote'),
        LINK_PAUSED: (ACT, 'promote'),
        PENDING_STOPPED: _WAIT,
        STOPPED: _STOPPED_TO,
    },
    'failed_over': {
        ACTIVE: (ACT, 'failover'),
        PAUSED: (ACT, 'failover'),
        LINK_PAUSED: (ACT, 'failover'),
        SOURCE_UNAVAILABLE: (ACT, 'failover'),
        LINK_FAILED: (ACT, 'failover'),
        FAILED: (ACT, 'failover'),
        PENDING_MIRROR: (ACT, 'failover'),
        PENDING_STOPPED: _WAIT,
        STOPPED: _STOPPED_TO,
    },
    'reversed': {
        ACTIVE: (ACT, 'reverse-and-start'),
        PENDING_SYNCHRONIZE: _WAIT,
        PENDING_STOPPED: _WAIT,
        STOPPED: _STOPPED_TO,
    },
    'reversed_paused': {
        ACTIVE: (ACT, 'reverse-and-pause'),
        PENDING_SYNCHRONIZE: _WAIT,
        PENDING_STOPPED: _WAIT,
        STOPPED: _STOPPED_TO,
    },
    'restored': {
        ABSENT: (ACT, 'truncate-and-restore'),
        STOPPED: (ACT, 'truncate-and-restore'),
        PENDING_SETUP_FOR_RESTORE: _WAIT,
        PENDING_RESTORE: _WAIT,
        PENDING_MIRROR: _WAIT,
        ACTIVE: (OK, None),
        PAUSED: (OK, None),
        LINK_PAUSED: (OK, None),
        SOURCE_UNAVAILABLE: (OK, None),
    },
    'absent': {
        ABSENT: (OK, None),
        '*': (ACT, DELETE),
    },
}

# The status each wanted state ends in; None: any status that is not PENDING (present), () : gone (absent).
FINAL = {
    'present': None,
    'active': (ACTIVE,),
    'paused': (PAUSED,),
    'promoted': (STOPPED,),
    'failed_over': (STOPPED,),
    'reversed': (STOPPED,),
    'reversed_paused': (STOPPED,),
    'restored': (ACTIVE,),
    'absent': (),
}

# Why a status cannot reach a state; shown with the list of states it can reach.
STATUS_TEXT = {
    ACTIVE: 'mirroring',
    PAUSED: 'paused by a pause action',
    LINK_PAUSED: 'its link is paused (cluster.link.paused=true; linkops.cluster_linking.cluster_link paused: false '
                 'resumes it)',
    SOURCE_UNAVAILABLE: 'the source cluster cannot be reached; it returns to ACTIVE by itself when it can',
    LINK_FAILED: 'its link failed (see the link error of linkops.cluster_linking.cluster_link_info)',
    FAILED: 'its mirror failed (see mirror_topic_error)',
    PENDING_MIRROR: 'still being set up; it becomes ACTIVE by itself',
    PENDING_SYNCHRONIZE: 'a reverse operation is waiting for its final sync',
    PENDING_SETUP_FOR_RESTORE: 'being restored (truncate-and-restore); it becomes ACTIVE by itself',
    PENDING_RESTORE: 'being restored (truncate-and-restore); it becomes ACTIVE by itself',
    PENDING_STOPPED: 'stopping after a promote or failover',
    STOPPED: 'it stopped mirroring and is a writable topic; only restored (on a bidirectional link) or absent '
             'change that',
    ABSENT: 'not a mirror topic of the link; present or active creates it',
}


def _entry(state, status):
    row = TABLE[state]
    if status in row:
        return row[status]
    if status is not ABSENT and '*' in row:
        return row['*']
    return (REFUSE, None)


def link_refusal(action, link_mode, prefix):
    """Why the link cannot run this action, or None. link_mode None means not known (not checked)."""
    if action not in BIDIRECTIONAL_ACTIONS or link_mode is None:
        return None
    problems = []
    if (link_mode or '').upper() != 'BIDIRECTIONAL':
        problems.append('link.mode is %s' % link_mode)
    if prefix:
        problems.append("it has cluster.link.prefix '%s'" % prefix)
    if problems:
        return '%s needs a BIDIRECTIONAL link without cluster.link.prefix; %s' % (action, ' and '.join(problems))
    return None


def decide(status, state, link_mode=None, prefix=None):
    """(kind, action, reason) for bringing a topic with this status to the wanted state.

    kind is OK, WAIT, ACT (action: CREATE, DELETE or a backend batch action) or REFUSE (reason says why).
    With link_mode (the link's link.mode) the link rules of the reverse operations are checked too.
    """
    if state not in TABLE:
        raise ValueError('unknown state %r' % (state,))
    kind, action = _entry(state, status)
    if kind == REFUSE:
        return REFUSE, None, STATUS_TEXT.get(status, 'its status is not one this module knows')
    if kind == ACT:
        why = link_refusal(action, link_mode, prefix)
        if why:
            return REFUSE, None, why
    return kind, action, None


def possible_states(status, link_mode=None, prefix=None):
    """The wanted states a topic with this status can be brought to (in WANTED_STATES order)."""
    return [s for s in WANTED_STATES if decide(status, s, link_mode, prefix)[0] != REFUSE]


def reached(status, state):
    """True when a topic with this status (None: gone) is in the final status of the wanted state."""
    final = FINAL[state]
    if final is None:
        return status is not ABSENT and status not in PENDING
    if not final:
        return status is ABSENT
    return status in final


def dead_end(status, state):
    """True when a topic waiting for the wanted state stopped where it cannot get there by itself."""
    if reached(status, state) or status in PENDING:
        return False
    if FINAL[state] == ():  # absent: the mirror goes away only after the delete; keep waiting
        return False
    if status in (FAILED, LINK_FAILED):
        return True
    if status == LINK_PAUSED and FINAL[state] == (ACTIVE,):  # resumed, but its link is paused
        return True
    return status == STOPPED and FINAL[state] != (STOPPED,)


def predicted_status(status, state, kind):
    """The status a check-mode run predicts after the task (None: gone or absent)."""
    if kind not in (ACT, WAIT):
        return status
    final = FINAL[state]
    if final is None:
        return ACTIVE if status is ABSENT else status
    if not final:
        return ABSENT
    return final[0]
