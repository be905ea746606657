# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What cluster_link_info reads: the links of a cluster with their mode, state, configs, tasks and
mirrors (with lag), at a cost that does not depend on the number of mirrors.

Calls for named links: per link the link (with its tasks: the same request), its configs when
include_configs, its mirrors when include_mirrors. For all links: one list of links, then per link its
configs (and the link with its tasks when include_tasks), then one list of every mirror of every link.
Each link's health (_link_health) is computed here, once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_health as _health
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_modes as lm
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirrors import summarize


def _shown_configs(entries, include_defaults):
    """(non-secret configs as shown, names of secret configs set on the link)."""
    dynamic = lc.dynamic_configs(entries)
    if not include_defaults:
        return lc.displayable_configs(dynamic), lc.secret_names(dynamic)
    everything = {}
    for entry in entries:
        name = entry['name']
        everything[name] = None if lc.is_sensitive(name, entry) else entry.get('value')
    shown = lc.displayable_configs(everything)
    return shown, sorted(n for n, v in dynamic.items() if v is None or lc.is_sensitive(n))


def _count(rows):
    counts = {}
    for row in rows:
        counts[row['status']] = counts.get(row['status'], 0) + 1
    return counts


def describe_link(link, entries, mirrors, include_defaults):
    """The view of one link that cluster_link_info returns."""
    identity = lm.identity_of(link, entries)
    configs, secrets = _shown_configs(entries, include_defaults)
    rows = [summarize(m) for m in sorted(mirrors or [], key=lambda m: m.get('mirror_topic_name') or '')]
    view = {
        'link_name': link.get('link_name'),
        'cluster_link_id': link.get('cluster_link_id'),
        'link_mode': identity['link_mode'],
        'connection_mode': identity['connection_mode'],
        'remote_cluster_id': identity['remote_cluster_id'],
        'prefix': identity['prefix'],
        'link_state': link.get('link_state'),
        'link_error': link.get('link_error'),
        'link_error_message': link.get('link_error_message'),
        'topic_names': sorted(link.get('topic_names') or link.get('topics_names') or []),
        'configs': configs,
        'secrets_set': secrets,
        'tasks': link.get('tasks') or [],
        'tasks_in_error': _links.tasks_in_error(link),
        'mirrors': rows,
        'mirror_count': len(rows),
        'max_lag': max([r['max_lag'] for r in rows] or [0]),
        'total_lag': sum(r['total_lag'] for r in rows),
        'status_counts': _count(rows),
        'all_mirrors_active': bool(rows) and all(r['status'] == 'ACTIVE' for r in rows),
    }
    # the fields as the server reports them (remote_cluster_id above is whichever is set)
    for field in ('source_cluster_id', 'destination_cluster_id'):
        view[field] = link.get(field)
    return view


def read_links(backend, names=None, include_tasks=True, include_mirrors=True, include_default_configs=False,
               include_configs=True, health_topics=(), health_max_lag=None):
    """The result of cluster_link_info (without the call count).

    Named links are read one by one (the link, its mirrors): the cost does not grow with the other
    links of the cluster or their mirrors. Without names, every link and every mirror of the cluster.
    """
    if names is None:
        listed = dict((entry.get('link_name'), entry) for entry in backend.list_links())
        wanted, missing = sorted(listed), []
    else:
        listed, wanted, missing = {}, _unique(names), []

    by_link = {}
    if include_mirrors and wanted and names is None:
        for mirror in backend.list_all_mirrors():
            by_link.setdefault(mirror.get('link_name'), []).append(mirror)

    links = []
    for name in wanted:
        link = listed.get(name)
        if names is not None or include_tasks:
            link = backend.get_link(name, include_tasks=include_tasks)
            if link is None:  # no such link (or deleted since it was listed)
                missing.append(name)
                continue
        if include_mirrors and names is not None:
            by_link[name] = _mirrors_of(backend, name)
        entries = backend.get_link_configs(name) if include_configs else []
        view = describe_link(link, entries, by_link.get(name, []), include_default_configs)
        if not include_configs:
            for key in ('configs', 'secrets_set'):
                view.pop(key)
        view['health'] = _health.health(view, view['mirrors'] if include_mirrors else [],
                                        health_topics if include_mirrors else (), health_max_lag, name)
        links.append(view)

    rows = [r for view in links for r in view['mirrors']]
    healths = [view['health'] for view in links] + [_health.health(None, [], (), None, n) for n in missing]
    return {
        'links': links,
        'missing': missing,
        'exists': bool(links) and not missing,
        'all_active': bool(links) and not missing and all(view['link_state'] == 'ACTIVE' for view in links),
        'all_mirrors_active': bool(rows) and all(r['status'] == 'ACTIVE' for r in rows),
        'tasks_in_error': ['%s: %s' % (view['link_name'], t) for view in links for t in view['tasks_in_error']],
        'max_lag': max([r['max_lag'] for r in rows] or [0]),
        'status_counts': _count(rows),
        'health': _health.combine(healths, [view['link_name'] for view in links] + missing),
    }


def _mirrors_of(backend, name):
    """The link's mirrors (one call); none when the link went away since it was read."""
    try:
        return list(backend.list_mirrors(name).values())
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


def _unique(names):
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen
