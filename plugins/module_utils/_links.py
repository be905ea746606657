# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster link calls over Kafka REST v3 (paths under /v3/clusters/{cluster_id}/links)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError, path_quote


def _link_path(name, suffix=''):
    return '/links/%s%s' % (path_quote(name), suffix)


def get_link(client, name, include_tasks=False):
    """The link, or None when it does not exist (HTTP 404)."""
    try:
        return client.cluster('GET', _link_path(name), query={'include_tasks': include_tasks or None})
    except RestError as exc:
        if exc.status == 404:
            return None
        raise


def get_link_configs(client, name):
    """Every config entry of the link, defaults included."""
    return client.cluster('GET', _link_path(name, '/configs')).get('data') or []


def create_link(client, name, cluster_ids, configs, validate_only=False):
    """cluster_ids: the remote id field the link mode needs, e.g. {'source_cluster_id': id}."""
    body = {'configs': [{'name': k, 'value': v} for k, v in sorted(configs.items())]}
    body.update((k, v) for k, v in sorted((cluster_ids or {}).items()) if v)
    client.cluster('POST', '/links', query={'link_name': name, 'validate_only': validate_only or None},
                   body=body)


def alter_link_configs(client, name, set_configs, delete_names=(), validate_only=False):
    """Set configs and reset others to default in one atomic request (PUT configs:alter)."""
    body = {'data': [*({'name': k, 'value': v, 'operation': 'SET'} for k, v in sorted(set_configs.items())),
                     *({'name': k, 'operation': 'DELETE'} for k in sorted(delete_names))]}
    client.cluster('PUT', _link_path(name, '/configs:alter'), body=body,
                   query={'validate_only': True} if validate_only else None)


def delete_link(client, name, force=False, validate_only=False):
    query = {'force': force or None}
    if validate_only:
        query['validate_only'] = True
    client.cluster('DELETE', _link_path(name), query=query)


def list_links(client):
    """Every link on the cluster (GET /links); one request."""
    return client.cluster('GET', '/links').get('data') or []


def list_all_mirrors(client):
    """Every mirror of every link on the cluster (GET /links/-/mirrors); one request."""
    return client.cluster('GET', '/links/-/mirrors').get('data') or []


def tasks_in_error(link):
    """'Task (CODE: message)' texts of the link's tasks that are IN_ERROR (needs include_tasks)."""
    found = []
    for task in (link or {}).get('tasks') or []:
        if task.get('state') == 'IN_ERROR':
            errors = '; '.join('%s: %s' % (e.get('error_code'), e.get('error_message'))
                               for e in task.get('errors') or []) or 'no error given'
            found.append('%s (%s)' % (task.get('task_name'), errors))
    return found


def wait_for_link(backend, name, present, timeout=30.0, interval=0.5, sleep=time.sleep, clock=time.monotonic,
                  include_tasks=False):
    """Wait until the link is readable (present=True) or gone (present=False); return the last read.

    Confluent is eventually consistent: a GET right after create can still answer 404.
    """
    deadline = clock() + timeout
    while True:
        link = backend.get_link(name, include_tasks=include_tasks)
        if (link is not None) == present:
            return link
        if clock() >= deadline:
            raise ApiError('Link %s is still %s after %s seconds.'
                           % (name, 'missing' if present else 'present', timeout))
        sleep(interval)
