# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command building of the CLI backend: which Confluent Platform tool, with which arguments, for
each backend operation (``kafka-cluster-links``, ``kafka-mirrors``, ``kafka-configs --cluster-link``,
``kafka-topics``), and the argv that runs one with ``--bootstrap-server``, ``--command-config`` and
the ``timeout`` wrapper. Link configs and filter documents are not arguments: a command carries them
as ``(flag, content)`` file entries (Java properties, filter JSON) that the runner writes to private
files, so no secret is ever put on a command line. Pure functions; nothing here runs a tool.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors
from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import to_java_properties

CLUSTER_LINKS = 'kafka-cluster-links'
MIRRORS = 'kafka-mirrors'
CONFIGS = 'kafka-configs'
TOPICS = 'kafka-topics'

# Link configs that hold a filter document: the tools take them as JSON files.
FILTER_FLAGS = (
    ('auto.create.mirror.topics.filters', '--topic-filters-json-file'),
    ('consumer.offset.group.filters', '--consumer-group-filters-json-file'),
    ('acl.filters', '--acl-filters-json-file'),
)

# kafka-mirrors flag for each batch action, keyed by the REST action path (_mirrors.ACTIONS values),
# so the backend follows whatever action names the reconcilers use.
ACTION_FLAGS = {
    'mirrors:promote': '--promote',
    'mirrors:failover': '--failover',
    'mirrors:pause': '--pause',
    'mirrors:resume': '--unpause',
    'mirrors:reverse-and-start-mirror': '--reverse-and-start',
    'mirrors:reverse-and-pause-mirror': '--reverse-and-pause',
    'mirrors:truncate-and-restore': '--truncate-and-restore',
}
# Actions whose documented form names the link as well as the topics.
ACTIONS_WITH_LINK = frozenset(['mirrors:truncate-and-restore'])

# Commands that only read.
_READS = ('--describe', '--list')


class Command(namedtuple('Command', ['tool', 'args', 'files'])):
    """One tool command: the tool's name, its arguments, and [(flag, file content)] for private files.

    ``what`` names the tool and action only (``kafka-mirrors --promote``), never argument values.
    """

    __slots__ = ()

    @property
    def what(self):
        return '%s %s' % (self.tool, self.args[0])

    @property
    def is_read(self):
        return any(flag in self.what for flag in _READS)


def command(tool, args, files=()):
    return Command(tool, list(args), list(files))


# -- links ------------------------------------------------------------------------------------


def list_links(include_topics=True):
    return command(CLUSTER_LINKS, ['--list', '--include-topics'] if include_topics else ['--list'])


def describe_link(name):
    """``--describe --link`` (CP 7.4+)."""
    return command(CLUSTER_LINKS, ['--describe', '--link', name])


def list_link(name):
    """``--list --link``: what tools without ``--describe`` offer instead."""
    return command(CLUSTER_LINKS, ['--list', '--link', name, '--include-topics'])


def describe_link_configs(name):
    return command(CONFIGS, ['--describe', '--cluster-link', name])


def create_link(name, cluster_ids, configs, validate_only=False):
    """The link's configs go in a properties file, each filter document in a JSON file of its own."""
    configs = dict(configs)
    files = []
    args = ['--create', '--link', name]
    remote = [v for k, v in sorted((cluster_ids or {}).items()) if v]
    if remote:
        args += ['--cluster-id', remote[0]]
    for config, flag in FILTER_FLAGS:
        if configs.get(config):
            files.append((flag, configs.pop(config) + '\n'))
    files.insert(0, ('--config-file', to_java_properties(configs)))
    if validate_only:
        args.append('--validate-only')
    return command(CLUSTER_LINKS, args, files)


def alter_link_configs(name, set_configs, delete_names=()):
    """None when there is nothing to change."""
    args = ['--alter', '--cluster-link', name]
    files = []
    if set_configs:
        files.append(('--add-config-file', to_java_properties(dict(set_configs))))
    if delete_names:
        args += ['--delete-config', ','.join(sorted(delete_names))]
    if not files and not delete_names:
        return None
    return command(CONFIGS, args, files)


def delete_link(name, force=False, validate_only=False):
    args = ['--delete', '--link', name]
    if force:
        args.append('--force')
    if validate_only:
        args.append('--validate-only')
    return command(CLUSTER_LINKS, args)


# -- mirrors and topics -----------------------------------------------------------------------


def describe_mirrors(link_name=None, topic_name=None):
    """Every mirror, the mirrors of one link, or one mirror topic."""
    args = ['--describe']
    if link_name is not None:
        args += ['--links', link_name]
    if topic_name is not None:
        args += ['--topics', topic_name]
    return command(MIRRORS, args)


def create_mirror(link_name, mirror_topic_name, source_topic_name=None, configs=None):
    args = ['--create', '--mirror-topic', mirror_topic_name, '--link', link_name]
    if source_topic_name and source_topic_name != mirror_topic_name:
        args += ['--source-topic', source_topic_name]
    files = []
    if configs:
        files.append(('--config-file', to_java_properties(dict(configs))))
    return command(MIRRORS, args, files)


def mirror_action(link_name, action, topic_names):
    """The kafka-mirrors batch command of a mirror action (a reconciler's name or a REST action path),
    or None when the tools have no command for it."""
    rest_action = _mirrors.ACTIONS.get(action, action)
    flag = ACTION_FLAGS.get(rest_action)
    if flag is None:
        return None
    args = [flag, '--topics', ','.join(topic_names)]
    if rest_action in ACTIONS_WITH_LINK:
        args += ['--link', link_name]
    return command(MIRRORS, args)


def list_topics():
    return command(TOPICS, ['--list'])


def delete_topic(topic_name):
    # kafka-topics --topic takes a regular expression: '.' (the only special character a topic name
    # can hold) is escaped so that only this topic matches.
    return command(TOPICS, ['--delete', '--topic', topic_name.replace('.', '\\.')])


# -- argv -------------------------------------------------------------------------------------


def argv(tool_path, bootstrap_server, args, files=(), command_config=None, limiter=None, timeout=None):
    """The argv of one command; files: [(flag, path)] already written; limiter: the ``timeout`` tool's path."""
    result = [tool_path, '--bootstrap-server', bootstrap_server]
    if command_config:
        result += ['--command-config', command_config]
    result += list(args)
    for flag, path in files:
        result += [flag, path]
    if timeout and limiter:
        result = [limiter, '--kill-after=10', '%ss' % _seconds(timeout)] + result
    return result


def _seconds(value):
    value = float(value)
    return ('%d' % value) if value == int(value) else ('%.3f' % value)
