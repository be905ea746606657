# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What cluster_link_info reads: the links of a cluster with their mode, state, configs, tasks and
mirrors (with lag), at a cost that does not depend on the number of mirrors.

Calls: one list of links, then per reported link its configs (and the link with its tasks when
include_tasks), then one list of every mirror of every link.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_modes as lm
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
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


def read_links(backend, names=None, include_tasks=True, include_mirrors=True, include_default_configs=False):
    """The result of cluster_link_info (without the call count)."""
    listed = dict((entry.get('link_name'), entry) for entry in backend.list_links())
    wanted = sorted(listed) if names is None else [n for n in _unique(names) if n in listed]
    missing = [] if names is None else [n for n in _unique(names) if n not in listed]

    by_link = {}
    if include_mirrors and wanted:
        for mirror in backend.list_all_mirrors():
            by_link.setdefault(mirror.get('link_name'), []).append(mirror)

    links = []
    for name in wanted:
        link = listed[name]
        if include_tasks:
            link = backend.get_link(name, include_tasks=True)
            if link is None:  # deleted since it was listed
                missing.append(name)
                continue
        links.append(describe_link(link, backend.get_link_configs(name), by_link.get(name, []),
                                   include_default_configs))

    rows = [r for view in links for r in view['mirrors']]
    return {
        'links': links,
        'missing': missing,
        'exists': bool(links) and not missing,
        'all_active': bool(links) and not missing and all(view['link_state'] == 'ACTIVE' for view in links),
        'all_mirrors_active': bool(rows) and all(r['status'] == 'ACTIVE' for r in rows),
        'tasks_in_error': ['%s: %s' % (view['link_name'], t) for view in links for t in view['tasks_in_error']],
        'max_lag': max([r['max_lag'] for r in rows] or [0]),
        'status_counts': _count(rows),
    }


def _unique(names):
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen
