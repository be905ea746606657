# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mirror_topic module does for a list of topics of one link.

Reads the link's mirrors once per poll, acts in one batch request, and reports per topic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors as m
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError, TaskFailure

STATE_ACTIONS = {'promoted': 'promote', 'failed_over': 'failover'}
# How many topics a one-line message names before it says "and N more" (the rows list them all).
MAX_NAMED = 20
ACTION_DONE = dict((action, state) for state, action in STATE_ACTIONS.items())
# States from which the server accepts promote/failover (failover also rescues a FAILED mirror).
STOPPABLE = {
    'promote': frozenset(['ACTIVE', 'PAUSED', 'LINK_PAUSED', 'PENDING_MIRROR', 'PENDING_SYNCHRONIZE']),
    'failover': frozenset(['ACTIVE', 'PAUSED', 'LINK_PAUSED', 'PENDING_MIRROR', 'PENDING_SYNCHRONIZE',
                           'FAILED', 'SOURCE_UNAVAILABLE', 'LINK_FAILED']),
}


class MirrorFailure(TaskFailure):
    """A failure of mirror_topic; topics carries the per-topic results gathered so far."""

    def __init__(self, message, topics=None):
        super(MirrorFailure, self).__init__(message, topics=topics or [])
        self.topics = topics or []


def parse_topics(entries):
    """Topics given as names or {name, source_topic_name}; returns [(name, source_name)].

    Raises MirrorFailure naming the bad entry.
    """
    parsed, seen = [], set()
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            unknown = set(entry) - set(['name', 'source_topic_name'])
            if unknown:
                raise MirrorFailure('topics[%d]: unknown keys %s; use name and source_topic_name.'
                                    % (index, ', '.join(sorted(unknown))))
            name, source = entry.get('name'), entry.get('source_topic_name')
        else:
            name, source = entry, None
        for label, value in (('name', name), ('source_topic_name', source)):
            if label == 'source_topic_name' and value is None:
                continue
            error = m.topic_name_error(value)
            if error:
                raise MirrorFailure('topics[%d].%s: %s.' % (index, label, error))
        if name in seen:
            raise MirrorFailure('topics: %s is listed twice.' % name)
        seen.add(name)
        parsed.append((name, source))
    return parsed


class MirrorReconciler:
    def __init__(self, backend, link_name, wait_timeout=300, wait_interval=2.0, sleep=time.sleep,
                 clock=time.monotonic):
        self.backend = backend
        self.link = link_name
        self.wait_timeout = wait_timeout
        self.wait_interval = wait_interval
        self._sleep = sleep
        self._clock = clock
        self.mirrors = {}
        self.link_missing = False

    def refresh(self, missing_link_ok=False):
        """Read the link's mirrors. A missing link fails, or with missing_link_ok counts as no mirrors."""
        try:
            self.mirrors = self.backend.list_mirrors(self.link)
        except ApiError as exc:
            if exc.status != 404:
                raise
            if not missing_link_ok:
                raise MirrorFailure('Link %s does not exist on cluster %s; create it with '
                                    'linkops.cluster_linking.cluster_link first.' % (self.link, self.backend.cluster_id))
            self.link_missing = True
            self.mirrors = {}
        return self.mirrors

    def results(self, names, before, actions):
        rows = []
        for name in names:
            row = m.summarize(self.mirrors[name]) if name in self.mirrors else {'mirror_topic_name': name, 'status': None}
            row['status_before'] = before.get(name)
            row['action'] = actions.get(name, 'none')
            rows.append(row)
        return rows

    def wait_until(self, names, done, what):
        """Poll the mirror list until done(mirror) holds for every name; fail after wait_timeout."""
        deadline = self._clock() + self.wait_timeout
        while True:
            waiting = [n for n in names if n not in self.mirrors or not done(self.mirrors[n])]
            if not waiting:
                return
            if self._clock() >= deadline:
                states = ', '.join('%s (%s, max lag %s)' % (
                    n, self.mirrors.get(n, {}).get('mirror_status', 'missing'),
                    m.mirror_lag(self.mirrors[n])[0] if n in self.mirrors else '-') for n in waiting[:MAX_NAMED])
                if len(waiting) > MAX_NAMED:
                    states += ' and %d more' % (len(waiting) - MAX_NAMED)
                raise MirrorFailure('Timed out after %ss waiting for %s: %s.' % (self.wait_timeout, what, states))
            self._sleep(self.wait_interval)
            self.refresh()

    # -- states ------------------------------------------------------------------------------

    def ensure_exists(self, topics, check_mode, wait, allow_stopped):
        """Create the mirrors that are missing (state active; state present with allow_stopped)."""
        names = [name for name, dummy in topics]
        # In check mode the link may be one an earlier task only predicted: then every mirror is to be created.
        self.refresh(missing_link_ok=check_mode)
        before = dict((n, self.mirrors[n]['mirror_status']) for n in names if n in self.mirrors)
        stopped = [n for n in names if before.get(n) in m.STOPPING_STATES]
        if stopped and not allow_stopped:
            raise MirrorFailure('%s already stopped mirroring (promoted or failed over); a stopped topic cannot '
                                'become a mirror again without deleting it first.' % ', '.join(stopped),
                                self.results(names, before, {}))
        missing = [(n, s) for n, s in topics if n not in self.mirrors]
        if missing:
            # A mirror cannot be created over an existing topic: find such clashes before creating any.
            clashes = sorted(set(n for n, dummy in missing) & self.backend.list_topic_names())
            if clashes:
                raise MirrorFailure('%s already %s on cluster %s as a topic that is not a mirror of link %s; '
                                    'nothing was created. Delete %s or leave %s out of topics.'
                                    % (', '.join(clashes), 'exists' if len(clashes) == 1 else 'exist',
                                       self.backend.cluster_id, self.link,
                                       'it' if len(clashes) == 1 else 'them', 'it' if len(clashes) == 1 else 'them'),
                                    self.results(names, before, {}))
        actions = dict((n, 'created') for n, dummy in missing)
        if check_mode or not missing:
            return bool(missing), self.results(names, before, actions)
        errors = {}
        for name, source in missing:
            try:
                self.backend.create_mirror(self.link, name, source)
            except ApiError as exc:
                errors[name] = exc.message
        self.refresh()
        for name in list(errors):
            if name in self.mirrors:  # created in the meantime (auto-create): the topic is as wanted
                del errors[name]
                actions[name] = 'none'
        if errors:
            raise MirrorFailure('Creating mirror topics failed: %s' % '; '.join(
                '%s: %s' % (n, e) for n, e in sorted(errors.items())), self.results(names, before, actions))
        if wait:
            self.wait_until(names, lambda mirror: mirror['mirror_status'] != 'PENDING_MIRROR', 'mirrors to start')
        return any(a == 'created' for a in actions.values()), self.results(names, before, actions)

    def ensure_stopped(self, topics, action, check_mode):
        names = [name for name, dummy in topics]
        self.refresh()
        absent = [n for n in names if n not in self.mirrors]
        if absent:
            raise MirrorFailure('%s %s not a mirror topic of link %s; nothing to %s.'
                                % (', '.join(absent), 'is' if len(absent) == 1 else 'are', self.link, action))
        before = dict((n, self.mirrors[n]['mirror_status']) for n in names)
        todo = [n for n in names if before[n] not in m.STOPPING_STATES]
        refused = [n for n in todo if before[n] not in STOPPABLE[action]]
        if refused:
            raise MirrorFailure('Cannot %s %s: %s.' % (action, ', '.join(refused), ', '.join(
                '%s is %s' % (n, before[n]) for n in refused)), self.results(names, before, {}))
        actions = dict((n, ACTION_DONE[action]) for n in todo)
        if check_mode:
            return bool(todo), self.results(names, before, actions)
        if not todo:  # already stopped or stopping: wait for the end of PENDING_STOPPED only
            self.wait_until(names, lambda mirror: mirror['mirror_status'] == m.STOPPED, 'mirrors to reach STOPPED')
            return False, self.results(names, before, actions)
        if action == 'promote':
            # Lag gate: the server refuses to promote a mirror that has not caught up.
            self.wait_until(todo, lambda mirror: m.mirror_lag(mirror)[0] == 0, 'lag to reach 0 before promoting')
        succeeded, failed = self.backend.alter_mirrors(self.link, action, todo)
        if failed:
            self.refresh()
            for name in failed:
                actions[name] = 'failed'
            raise MirrorFailure('%s failed for %s' % (action.capitalize(), '; '.join(
                '%s: %s' % (n, e) for n, e in sorted(failed.items()))), self.results(names, before, actions))
        self.wait_until(names, lambda mirror: mirror['mirror_status'] == m.STOPPED, 'mirrors to reach STOPPED')
        return True, self.results(names, before, actions)
