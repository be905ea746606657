# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mirror_topic module does for a list of topics of one link.

Reads the link's mirrors once per poll, plans every topic with the state table
(_mirror_states) before any change, acts in batch requests, waits for the final status,
and reports per topic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirror_states as st
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors as m
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError, TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._pool import run_bounded
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import outcome_unknown

# How many topics a one-line message names before it says "and N more" (the rows list them all).
MAX_NAMED = 20
# How many topics that did not reach their state get one extra read of their state transition errors.
MAX_TRANSITION_READS = 5
# Actions whose per-topic result records the lag at the moment of the cutover.
CUTOVER_ACTIONS = frozenset(['promote', 'failover'])
TOPIC_KEYS = ('name', 'source_topic_name', 'configs')


class MirrorFailure(TaskFailure):
    """A failure of mirror_topic; topics carries the per-topic results gathered so far."""

    def __init__(self, message, topics=None, changed=False):
        super(MirrorFailure, self).__init__(message, topics=topics or [], changed=changed)
        self.topics = topics or []
        self.changed = changed


# What to do with a topic of a batch action whose answer was lost, after reading its status again.
LANDED = 'landed'    # in the wanted state or on its way there: the action landed (or is no longer needed)
RESEND = 'resend'    # still where the action starts from: it did not land, send it again once
REFUSED = 'refused'  # somewhere the wanted state cannot be reached from: report it


def after_lost_answer(status, state):
    """LANDED, RESEND or REFUSED for a topic now in status whose action towards state lost its answer."""
    kind = st.decide(status, state)[0]
    if kind in (st.OK, st.WAIT):
        return LANDED
    if kind == st.ACT:
        return RESEND
    return REFUSED


def _created(exc):
    """True when a create was refused because the topic exists (400 '... already exists', 409)."""
    return exc.status == 409 or 'already exists' in (exc.message or '').lower()


class TopicSpec:
    """One entry of the topics option: the mirror name (None: derive it from the source), source, configs."""

    def __init__(self, name, source=None, configs=None, index=0):
        self.name = name
        self.source = source
        self.configs = configs or {}
        self.index = index

    def as_tuple(self):
        return (self.name, self.source, self.configs)

    def __repr__(self):
        return 'TopicSpec%r' % (self.as_tuple(),)


def _config_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _named(names, sep=', '):
    text = sep.join(names[:MAX_NAMED])
    if len(names) > MAX_NAMED:
        text += ' and %d more' % (len(names) - MAX_NAMED)
    return text


def parse_topics(entries):
    """Topics given as names or {name, source_topic_name, configs}; returns [TopicSpec].

    A mapping may give only source_topic_name: the mirror name is then found in the link's mirrors,
    or built as the link's cluster.link.prefix followed by the source name.
    Raises MirrorFailure naming the bad entry.
    """
    if not entries:
        raise MirrorFailure('topics is empty; list at least one mirror topic.')
    parsed, seen = [], set()
    for index, entry in enumerate(entries):
        configs = {}
        if isinstance(entry, dict):
            unknown = set(entry) - set(TOPIC_KEYS)
            if unknown:
                raise MirrorFailure('topics[%d]: unknown keys %s; use %s.'
                                    % (index, ', '.join(sorted(unknown)), ', '.join(TOPIC_KEYS)))
            name, source = entry.get('name'), entry.get('source_topic_name')
            if name is None and source is None:
                raise MirrorFailure('topics[%d]: give name, source_topic_name or both.' % index)
            raw_configs = entry.get('configs') or {}
            if not isinstance(raw_configs, dict):
                raise MirrorFailure('topics[%d].configs: a mapping of topic config names to values is expected, '
                                    'got %s.' % (index, type(raw_configs).__name__))
            for key, value in sorted(raw_configs.items()):
                if not isinstance(key, str) or not key or isinstance(value, (dict, list)) or value is None:
                    raise MirrorFailure('topics[%d].configs: %r: give a config name and a scalar value.'
                                        % (index, key))
                configs[key] = _config_value(value)
        else:
            name, source = entry, None
        for label, value in (('name', name), ('source_topic_name', source)):
            if value is None and (label == 'source_topic_name' or isinstance(entry, dict)):
                continue
            error = m.topic_name_error(value)
            if error:
                raise MirrorFailure('topics[%d].%s: %s.' % (index, label, error))
        key = ('name', name) if name is not None else ('source', source)
        if key in seen:
            raise MirrorFailure('topics: %s is listed twice.' % key[1])
        seen.add(key)
        parsed.append(TopicSpec(name, source, configs, index))
    return parsed


class MirrorReconciler:
    """Brings the listed mirror topics of one link to a wanted state (see ensure())."""

    def __init__(self, backend, link_name, wait=True, wait_timeout=300, wait_interval=2.0, max_lag=0,
                 batch_size=200, allow_delete=False, sleep=time.sleep, clock=time.monotonic, parallel=8):
        self.backend = backend
        self.parallel = parallel
        self.link = link_name
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.wait_interval = wait_interval
        self.max_lag = max_lag
        self.batch_size = batch_size
        self.allow_delete = allow_delete
        self._sleep = sleep
        self._clock = clock
        self.mirrors = {}
        self.known = {}  # the last read of every mirror seen, also of those gone since (deleted)
        self.link_missing = False
        self._link_facts = None
        self.state = None

    # -- reading ----------------------------------------------------------------------------

    def refresh(self, missing_link_ok=False):
        """Read the link's mirrors (one call). A missing link fails, or with missing_link_ok counts as no mirrors."""
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
        self.known.update(self.mirrors)
        return self.mirrors

    def link_facts(self):
        """(link.mode, cluster.link.prefix or '') of the link; one call, read once and only when needed."""
        if self._link_facts is None:
            if self.link_missing:
                self._link_facts = (None, '')
            else:
                values = dict((e.get('name'), e.get('value')) for e in self.backend.get_link_configs(self.link))
                self._link_facts = ((values.get('link.mode') or 'DESTINATION').upper(),
                                    values.get('cluster.link.prefix') or '')
        return self._link_facts

    def status(self, name):
        mirror = self.mirrors.get(name)
        return mirror.get('mirror_status') if mirror else st.ABSENT

    # -- planning ---------------------------------------------------------------------------

    def resolve_names(self, specs):
        """Fill in the mirror name of entries given by source only; fail on names listed twice."""
        by_source = {}
        for name, mirror in self.mirrors.items():
            by_source.setdefault(mirror.get('source_topic_name'), []).append(name)
        for spec in specs:
            if spec.name is None:
                found = by_source.get(spec.source) or []
                spec.name = found[0] if len(found) == 1 else self.link_facts()[1] + spec.source
                error = m.topic_name_error(spec.name)
                if error:
                    raise MirrorFailure('topics[%d]: the mirror name %s' % (spec.index, error))
        seen = set()
        for spec in specs:
            if spec.name in seen:
                raise MirrorFailure('topics: %s is listed twice.' % spec.name)
            seen.add(spec.name)

    def creation_problem(self, spec):
        """Why the server would refuse to create this mirror under the link's prefix rule, or None.

        Fills in spec.source when the entry gave only the mirror name.
        """
        dummy, prefix = self.link_facts()
        if spec.source is None:
            if not prefix:
                spec.source = spec.name
                return None
            if spec.name.startswith(prefix) and len(spec.name) > len(prefix):
                spec.source = spec.name[len(prefix):]
                return None
            return ("link %s has cluster.link.prefix '%s', so its mirror topics are named '%s<source topic>'; "
                    "name the topic '%s%s' or give source_topic_name" % (self.link, prefix, prefix, prefix, spec.name))
        if spec.name != prefix + spec.source:
            return ("the mirror of source topic %s on link %s must be named '%s%s' (the link's cluster.link.prefix "
                    "'%s' followed by the source name; the server does not rename topics)"
                    % (spec.source, self.link, prefix, spec.source, prefix))
        return None

    def plan(self, specs, state):
        """{name: (kind, action, reason)} for every topic; link facts are read only when an action needs them."""
        plan = {}
        for spec in specs:
            plan[spec.name] = st.decide(self.status(spec.name), state)
        needs_link = [n for n, (kind, action, dummy) in plan.items()
                      if kind == st.ACT and (action in st.BIDIRECTIONAL_ACTIONS or action == st.CREATE)]
        if needs_link:
            mode, prefix = self.link_facts()
            for spec in specs:
                kind, action, reason = plan[spec.name]
                if kind != st.ACT:
                    continue
                if action == st.CREATE:
                    problem = self.creation_problem(spec)
                    if problem:
                        plan[spec.name] = (st.REFUSE, None, problem)
                else:
                    plan[spec.name] = st.decide(self.status(spec.name), state, mode, prefix)
        # restored also takes the old primary's topic that is not a mirror: it must exist, though
        outside = [n for n, (kind, action, dummy) in plan.items()
                   if kind == st.ACT and action == 'truncate-and-restore' and self.status(n) is st.ABSENT]
        if outside:
            existing = self.backend.list_topic_names()
            for name in outside:
                if name not in existing:
                    plan[name] = (st.REFUSE, None, 'no such topic on cluster %s; restored takes a stopped mirror, '
                                                   'or the old primary\'s topic after a failover'
                                  % self.backend.cluster_id)
        return plan

    def refusal_message(self, specs, plan, state):
        refused = [s.name for s in specs if plan[s.name][0] == st.REFUSE]
        try:  # one more read, on this failure only, so "possible" also applies the link's rules
            mode, prefix = self.link_facts()
        except ApiError:
            mode, prefix = None, None
        parts = []
        for name in refused[:MAX_NAMED]:
            status = self.status(name)
            possible = st.possible_states(status, mode, prefix)
            parts.append('%s is %s (%s; possible: %s)' % (
                name, status or 'not a mirror', plan[name][2], ', '.join(possible) or 'nothing'))
        text = '; '.join(parts)
        if len(refused) > MAX_NAMED:
            text += '; and %d more' % (len(refused) - MAX_NAMED)
        return ('Cannot bring %d of the listed topics of link %s to state %s; nothing was changed: %s.'
                % (len(refused), self.link, state, text))

    # -- results ----------------------------------------------------------------------------

    def rows(self, specs, before, actions, extra=None):
        out = []
        for spec in specs:
            name = spec.name
            if name in self.mirrors:
                row = m.summarize(self.mirrors[name])
            else:
                gone = self.known.get(name) or {}
                row = {'mirror_topic_name': name, 'source_topic_name': spec.source or gone.get('source_topic_name'),
                       'link_name': self.link,
                       'status': None, 'num_partitions': None, 'max_lag': None, 'total_lag': None,
                       'mirror_lags': [], 'state_time_ms': None, 'mirror_topic_error': None}
            row['status_before'] = before.get(name)
            row['action'] = actions.get(name, 'none')
            row['lag_at_cutover'] = None
            row['messages_truncated'] = None
            row['partition_level_truncation_data'] = []
            row.update((extra or {}).get(name) or {})
            out.append(row)
        return out

    # -- waiting ----------------------------------------------------------------------------

    def _describe(self, name):
        mirror = self.mirrors.get(name)
        if mirror is None:
            return '%s (not a mirror)' % name
        return '%s (%s, max lag %s)' % (name, mirror.get('mirror_status'), m.mirror_lag(mirror)[0])

    def wait_until(self, names, done, what, dead=None):
        """Poll the mirror list until done(name) holds for every name; fail after wait_timeout.

        dead(name) -> reason: a topic that can no longer get there ends the wait at once.
        Returns None, or raises MirrorFailure carrying the names that did not arrive in .waiting.
        """
        deadline = self._clock() + self.wait_timeout
        while True:
            waiting = [n for n in names if not done(n)]
            if not waiting:
                return
            stuck = [n for n in waiting if dead and dead(n)]
            if stuck:
                exc = MirrorFailure('%s while waiting for %s: %s.' % (
                    'A topic cannot get there' if len(stuck) == 1 else '%d topics cannot get there' % len(stuck),
                    what, _named(['%s: %s' % (self._describe(n), dead(n)) for n in stuck], '; ')))
                exc.waiting = stuck
                raise exc
            if self._clock() >= deadline:
                exc = MirrorFailure('Timed out after %ss waiting for %s: %s.' % (
                    self.wait_timeout, what, _named([self._describe(n) for n in waiting])))
                exc.waiting = waiting
                raise exc
            self._sleep(self.wait_interval)
            self.refresh()

    def transition_errors(self, names):
        """{name: [error texts]} read with include_state_transition_errors for at most MAX_TRANSITION_READS names."""
        found = {}
        for name in names[:MAX_TRANSITION_READS]:
            try:
                mirror = self.backend.get_mirror(self.link, name, include_state_transition_errors=True)
            except ApiError:
                continue  # a courtesy read: the failure being reported matters more
            errors = (mirror or {}).get('mirror_state_transition_errors') or []
            found[name] = ['%s: %s' % (e.get('error_code'), e.get('error_message')) for e in errors]
        return found

    def _lag_gate(self, names):
        if self.max_lag == 0:
            what = 'lag to reach 0 before promoting'
        else:
            what = 'every partition lag to be at most %d before promoting' % self.max_lag

        def done(name):
            return name in self.mirrors and m.mirror_lag(self.mirrors[name])[0] <= self.max_lag

        def dead(name):
            status = self.status(name)
            if status in (st.ACTIVE, st.PAUSED):
                return None
            return 'it is %s now, promote needs ACTIVE or PAUSED' % (status or 'not a mirror')
        self.wait_until(names, done, what, dead)

    def _wait_final(self, names, state, before, extra):
        """Wait until every name is in the final status of the state; on failure read why (transition errors)."""
        final = st.FINAL[state]
        if final is None:
            what = 'mirrors to start'
        elif not final:
            what = 'mirrors to be deleted'
        else:
            what = 'mirrors to reach %s' % final[0]

        def done(name):
            return st.reached(self.status(name), state)

        def dead(name):
            status = self.status(name)
            # a status the topic had before the task may just not be updated yet: only a new one ends the wait
            if status == before.get(name) or not st.dead_end(status, state):
                return None
            error = (self.mirrors.get(name) or {}).get('mirror_topic_error')
            return 'it ended %s%s' % (status or 'deleted', ' (%s)' % error if error and error != 'NO_ERROR' else '')
        try:
            self.wait_until(names, done, what, dead)
        except MirrorFailure as exc:
            errors = self.transition_errors(exc.waiting)
            for name, texts in errors.items():
                extra.setdefault(name, {})['state_transition_errors'] = texts
            with_errors = ['%s: %s' % (n, '; '.join(t)) for n, t in sorted(errors.items()) if t]
            if with_errors:
                exc.message += ' State transition errors: %s.' % ' | '.join(with_errors)
            raise

    # -- the run ----------------------------------------------------------------------------

    def ensure(self, specs, state, check_mode):
        """Bring the topics to the wanted state.

        Returns {'changed', 'topics': rows, 'diff': {'before', 'after'}}; raises MirrorFailure
        (with the rows so far) when the request is impossible, an action fails or a wait times out.
        """
        creating_states = ('present', 'active')
        self.state = state
        self.refresh(missing_link_ok=check_mode and state in creating_states or state == 'absent')
        self.resolve_names(specs)
        names = [s.name for s in specs]
        before = dict((n, self.status(n)) for n in names if n in self.mirrors)
        plan = self.plan(specs, state)
        if any(kind == st.REFUSE for kind, dummy, dummy2 in plan.values()):
            raise MirrorFailure(self.refusal_message(specs, plan, state), self.rows(specs, before, {}))
        todo = [s for s in specs if plan[s.name][0] == st.ACT]
        by_action = {}
        for spec in todo:
            by_action.setdefault(plan[spec.name][1], []).append(spec)
        actions = dict((s.name, st.ACTION_LABELS[plan[s.name][1]]) for s in todo)

        deleting = [s.name for s in by_action.get(st.DELETE, [])]
        if deleting and not self.allow_delete:
            stopped = [n for n in deleting if self.status(n) == st.STOPPED]
            raise MirrorFailure(
                'state=absent deletes the topic%s %s and all %s records on cluster %s (the REST API removes a '
                'mirror only by deleting its topic)%s; set allow_delete: true to do that. Nothing was deleted.'
                % ('' if len(deleting) == 1 else 's', _named(deleting), 'its' if len(deleting) == 1 else 'their',
                   self.backend.cluster_id,
                   '; %s already stopped mirroring and may hold records written since' % _named(stopped)
                   if stopped else ''),
                self.rows(specs, before, {}))
        creating = by_action.get(st.CREATE, [])
        if creating:
            self._refuse_clashes(specs, before, creating)

        diff_before = dict((n, before.get(n) or 'absent') for n in names)
        if check_mode:
            after = dict((n, st.predicted_status(self.status(n), state, plan[n][0]) or 'absent') for n in names)
            return {'changed': bool(todo), 'topics': self.rows(specs, before, actions),
                    'diff': {'before': diff_before, 'after': after}}

        extra = {}
        changed = False
        try:
            stale = False
            if creating:
                changed = self._create(actions, creating) or changed  # reads the mirrors after creating
            if deleting:
                self._delete(actions, deleting)
                changed = stale = True
            for action in sorted(by_action):
                if action in (st.CREATE, st.DELETE):
                    continue
                self._batch(actions, extra, action, [s.name for s in by_action[action]])
                changed = stale = True
            if stale:
                self.refresh()
            waiting = [n for n in names if n in actions or plan[n][0] == st.WAIT]
            if self.wait and waiting:
                self._wait_final(waiting, state, before, extra)
        except MirrorFailure as exc:
            raise MirrorFailure(exc.message, self.rows(specs, before, actions, extra), changed=changed or exc.changed)
        after = dict((n, self.status(n) or 'absent') for n in names)
        return {'changed': changed, 'topics': self.rows(specs, before, actions, extra),
                'diff': {'before': diff_before, 'after': after}}

    def _refuse_clashes(self, specs, before, creating):
        """A mirror cannot be created over an existing topic: find such clashes before creating any."""
        clashes = sorted(set(s.name for s in creating) & self.backend.list_topic_names())
        if clashes:
            one = len(clashes) == 1
            raise MirrorFailure('%s already %s on cluster %s as a topic that is not a mirror of link %s; '
                                'nothing was created. Delete %s or leave %s out of topics.'
                                % (', '.join(clashes), 'exists' if one else 'exist', self.backend.cluster_id,
                                   self.link, 'it' if one else 'them', 'it' if one else 'them'),
                                self.rows(specs, before, {}))

    def _create(self, actions, creating):
        """One create call per missing mirror (there is no batch create), at most self.parallel at a time;
        True when any was created. After a failure no further create is started (those in flight finish)."""
        errors, lost = {}, {}

        def create(spec):
            self.backend.create_mirror(self.link, spec.name, spec.source, spec.configs or None)

        dummy, failed, not_started = run_bounded(creating, create, self.parallel, expected=(ApiError,),
                                                 stops=lambda exc: not outcome_unknown(exc))
        for index, exc in failed.items():
            if outcome_unknown(exc):
                lost[creating[index].name] = exc
            else:
                errors[creating[index].name] = exc.message
        skipped = [creating[i].name for i in not_started]
        for name in skipped:
            actions[name] = 'none'
        self.refresh()
        if lost:
            self._create_after_lost_answers([s for s in creating if s.name in lost], lost, errors)
        for name in list(errors):
            if name in self.mirrors:  # created in the meantime (auto-create): the topic is as wanted
                del errors[name]
                actions[name] = 'none'
        created = any(actions.get(s.name) == 'created' and s.name not in errors for s in creating)
        if errors:
            for name in errors:
                actions[name] = 'failed'
            raise MirrorFailure('Creating mirror topics failed: %s%s' % ('; '.join(
                '%s: %s' % (n, e) for n, e in sorted(errors.items())),
                '. Not sent after the failure: %s' % _named(skipped) if skipped else ''), changed=created)
        return created

    def _create_after_lost_answers(self, specs, lost, errors):
        """Creates whose answer was lost: a mirror that is listed now landed; the others are sent once more."""
        again = []
        for spec in specs:
            if spec.name in self.mirrors:
                self.backend.note('create mirror %s of link %s: %s; the mirror exists, so the create landed'
                                  % (spec.name, self.link, lost[spec.name].message))
            else:
                again.append(spec)
        for spec in again:
            self.backend.note_resend('create mirror %s of link %s' % (spec.name, self.link))
            try:
                self.backend.create_mirror(self.link, spec.name, spec.source, spec.configs or None)
            except ApiError as exc:
                if not (_created(exc) or outcome_unknown(exc)):
                    errors[spec.name] = exc.message
        if again:
            self.refresh()
            for spec in again:
                if spec.name not in self.mirrors and spec.name not in errors:
                    errors[spec.name] = ('the create was sent twice and lost its answer (%s); the mirror is not '
                                         'listed' % lost[spec.name].message)

    def _delete(self, actions, deleting):
        """Delete the topics (one call each); a topic already gone counts as deleted."""
        errors = {}
        for name in deleting:
            try:
                try:
                    self.backend.delete_topic(name)
                except ApiError as exc:
                    if not outcome_unknown(exc):
                        raise
                    # deleting a topic again is harmless: 404 says the first delete landed
                    self.backend.note_resend('delete topic %s (%s)' % (name, exc.message))
                    self.backend.delete_topic(name)
            except ApiError as exc:
                if exc.status != 404:
                    errors[name] = exc.message
        if errors:
            for name in errors:
                actions[name] = 'failed'
            self.refresh()
            raise MirrorFailure('Deleting mirror topics failed: %s' % '; '.join(
                '%s: %s' % (n, e) for n, e in sorted(errors.items())), changed=len(errors) < len(deleting))

    def _batch_after_lost_answer(self, action, batch, lost):
        """A batch action whose answer was lost: read the mirrors; (succeeded, failed) as the action would answer.

        A topic in the wanted state or on its way there (a promote that landed: PENDING_STOPPED or STOPPED)
        succeeded; one still where the action starts from is sent again, once, in one request; one
        that went elsewhere failed.
        """
        self.refresh()
        succeeded, failed, again = {}, {}, []
        for name in batch:
            decision = after_lost_answer(self.status(name), self.state)
            if decision == LANDED:
                succeeded[name] = m.action_details(None)
            elif decision == RESEND:
                again.append(name)
            else:
                failed[name] = ('the %s request lost its answer (%s) and the topic is now %s'
                                % (action, lost.message, self.status(name) or 'not a mirror'))
        if succeeded:
            self.backend.note('%s of %s on link %s: %s; it landed'
                              % (action, _named(sorted(succeeded)), self.link, lost.message))
        if not again:
            return succeeded, failed
        self.backend.note_resend('%s of %s on link %s' % (action, _named(again), self.link))
        try:
            done, refused = self.backend.alter_mirrors(self.link, action, again)
        except ApiError as exc:
            if not outcome_unknown(exc):
                raise
            done, refused = {}, dict((n, exc.message) for n in again)
        succeeded.update(done)
        if refused:
            # a refusal may only say the first request landed after all (e.g. already stopping)
            self.refresh()
            for name, error in refused.items():
                if after_lost_answer(self.status(name), self.state) == LANDED:
                    succeeded[name] = m.action_details(None)
                else:
                    failed[name] = error
        return succeeded, failed

    def _batch(self, actions, extra, action, names):
        """One request per batch of at most batch_size topics; stop at the first batch with a failure."""
        if action == 'promote':
            self._lag_gate(names)
        lags_before = dict((n, m.mirror_lag(self.mirrors[n])[0]) for n in names if n in self.mirrors)
        done = []
        for start in range(0, len(names), self.batch_size):
            batch = names[start:start + self.batch_size]
            try:
                succeeded, failed = self.backend.alter_mirrors(self.link, action, batch)
            except ApiError as exc:
                if not outcome_unknown(exc):
                    raise
                succeeded, failed = self._batch_after_lost_answer(action, batch, exc)
            for name, details in succeeded.items():
                details = details or {}
                row = extra.setdefault(name, {})
                if action in CUTOVER_ACTIONS:
                    lags = details.get('mirror_lags') or []
                    row['lag_at_cutover'] = (m.mirror_lag({'mirror_lags': lags})[0] if lags
                                             else lags_before.get(name))
                if action == 'truncate-and-restore':
                    row['messages_truncated'] = details.get('messages_truncated')
                    row['partition_level_truncation_data'] = details.get('partition_level_truncation_data') or []
            done.extend(n for n in batch if n not in failed)
            if failed:
                for name in failed:
                    actions[name] = 'failed'
                not_sent = names[start + len(batch):]
                for name in not_sent:
                    actions.pop(name, None)
                self.refresh()
                message = '%s failed for %s' % (action.capitalize(), '; '.join(
                    '%s: %s' % (n, e) for n, e in sorted(failed.items())))
                if not_sent:
                    message += '. %d topics of later batches were not sent: %s' % (len(not_sent), _named(not_sent))
                raise MirrorFailure(message, changed=bool(done))
