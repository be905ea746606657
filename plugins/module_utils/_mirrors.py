# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror topic calls over Kafka REST v3, lag arithmetic, and the batch-action results.

Reading a link's mirrors is one request however many there are; batch actions (promote,
failover, pause, resume, the reverse operations, truncate-and-restore) are one request per
batch and answer HTTP 200 with a per-topic error_code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import path_quote
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import name_problem

STOPPED = 'STOPPED'
PENDING_STOPPED = 'PENDING_STOPPED'
ACTIVE = 'ACTIVE'
STOPPING_STATES = frozenset([STOPPED, PENDING_STOPPED])

# REST action path for each batch action (the backend-level action names every backend accepts).
ACTIONS = {
    'promote': 'mirrors:promote',
    'failover': 'mirrors:failover',
    'pause': 'mirrors:pause',
    'resume': 'mirrors:resume',
    'reverse-and-start': 'mirrors:reverse-and-start-mirror',
    'reverse-and-pause': 'mirrors:reverse-and-pause-mirror',
    'truncate-and-restore': 'mirrors:truncate-and-restore',
}


def topic_name_error(name):
    """Why Kafka would refuse this topic name, or None when it is legal (the rule of _validate)."""
    return name_problem(name, 'a topic name')


def list_mirrors(client, link_name):
    """All mirrors of the link as {mirror_topic_name: mirror}; one request."""
    data = client.cluster('GET', '/links/%s/mirrors' % path_quote(link_name)).get('data') or []
    return dict((m['mirror_topic_name'], m) for m in data)


def list_topic_names(client):
    """Names of all topics on the cluster (GET /topics); one request."""
    return set(t['topic_name'] for t in client.cluster('GET', '/topics').get('data') or [])


def create_mirror(client, link_name, mirror_topic_name, source_topic_name=None, configs=None):
    body = {'source_topic_name': source_topic_name or mirror_topic_name}
    if source_topic_name and source_topic_name != mirror_topic_name:
        # Sent only when it differs: older REST servers do not know the field.
        body['mirror_topic_name'] = mirror_topic_name
    if configs:
        body['configs'] = [{'name': k, 'value': v} for k, v in sorted(configs.items())]
    client.cluster('POST', '/links/%s/mirrors' % path_quote(link_name), body=body)


def get_mirror(client, link_name, mirror_topic_name, include_state_transition_errors=False):
    """One mirror, or None when it is not a mirror topic of the link (HTTP 404); one request."""
    try:
        return client.cluster('GET', '/links/%s/mirrors/%s' % (path_quote(link_name), path_quote(mirror_topic_name)),
                              query={'include_state_transition_errors': include_state_transition_errors or None})
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def delete_topic(client, topic_name):
    """Delete a topic of the cluster (DELETE /topics/{name}); one request. ApiError 404 when there is none."""
    client.cluster('DELETE', '/topics/%s' % path_quote(topic_name))


def action_details(entry):
    """What a successful per-topic batch result carries: lags at the action, truncation data."""
    return {
        'mirror_lags': (entry or {}).get('mirror_lags') or [],
        'messages_truncated': (entry or {}).get('messages_truncated'),
        'partition_level_truncation_data': (entry or {}).get('partition_level_truncation_data') or [],
    }


def alter_mirrors(client, link_name, action, topic_names):
    """Run a batch action in one request; return (succeeded, failed) from the per-topic results.

    succeeded: {name: action_details(entry)}; failed: {name: error text}.
    """
    query = None
    if action == 'truncate-and-restore':
        query = {'include_partition_level_truncation_data': True}
    response = client.cluster('POST', '/links/%s/%s' % (path_quote(link_name), ACTIONS[action]),
                              query=query, body={'mirror_topic_names': list(topic_names)})
    succeeded, failed = {}, {}
    for entry in response.get('data') or []:
        name = entry.get('mirror_topic_name')
        code = entry.get('error_code')
        if code:
            failed[name] = 'error %s: %s' % (code, entry.get('error_message') or 'no message')
        else:
            succeeded[name] = action_details(entry)
    for name in topic_names:  # a topic the server did not answer for has not been acted on
        if name not in failed and name not in succeeded:
            failed[name] = 'the server returned no result for this topic'
    return succeeded, failed


def mirror_lag(mirror):
    """(max lag, total lag) over the partitions of a mirror; negative lags count as 0."""
    lags = [max(0, int(p.get('lag') or 0)) for p in mirror.get('mirror_lags') or []]
    return (max(lags) if lags else 0), sum(lags)


def summarize(mirror):
    """The per-topic view the modules return."""
    max_lag, total_lag = mirror_lag(mirror)
    return {
        'mirror_topic_name': mirror.get('mirror_topic_name'),
        'source_topic_name': mirror.get('source_topic_name'),
        'link_name': mirror.get('link_name'),
        'status': mirror.get('mirror_status'),
        'num_partitions': mirror.get('num_partitions'),
        'max_lag': max_lag,
        'total_lag': total_lag,
        'mirror_lags': mirror.get('mirror_lags') or [],
        'state_time_ms': mirror.get('state_time_ms'),
        'mirror_topic_error': mirror.get('mirror_topic_error'),
    }


def info_report(mirrors, wanted=None, statuses=None):
    """mirror_topic_info's result fields from the link's mirrors ({name: mirror}), the topics and statuses asked for."""
    if wanted is not None:
        wanted = [t for i, t in enumerate(wanted) if t not in wanted[:i]]
    names = sorted(mirrors) if wanted is None else [t for t in wanted if t in mirrors]
    states = dict((n, mirrors[n].get('mirror_status')) for n in names)
    counts = {}
    for status in states.values():
        counts[status] = counts.get(status, 0) + 1
    missing = [t for t in (wanted or []) if t not in mirrors]
    if statuses is not None:
        wanted_statuses = set(s.upper() for s in statuses)
        names = [n for n in names if states[n] in wanted_statuses]
    rows = [summarize(mirrors[n]) for n in names]
    every = bool(states) and not missing
    return dict(
        mirrors=rows, missing=missing, states=states, status_counts=counts,
        max_lag=max([r['max_lag'] for r in rows] or [0]), total_lag=sum(r['total_lag'] for r in rows),
        all_active=every and all(s == 'ACTIVE' for s in states.values()),
        all_stopped=every and all(s == 'STOPPED' for s in states.values()))
