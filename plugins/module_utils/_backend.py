# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one interface the modules use to reach a cluster, and its REST implementation.

Every backend answers in the shapes of Kafka REST v3 (links, config entries, mirrors,
per-topic batch results), so the reconcilers do not know which one they talk to.
Failed calls raise ApiError (``status`` 404 means "does not exist").

Backends: RestBackend (Kafka REST v3, _rest_client) and CliBackend (the CP tools, _backend_cli over _cli_commands and _cli_output).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links, _mirrors


class Backend:
    """What a backend offers. Costs are per call: one request or one command, whatever the size."""

    #: 'rest' or 'cli'
    name = None

    @property
    def cluster_id(self):
        """ID of the cluster the backend talks to (the one that holds the links)."""
        raise NotImplementedError

    @property
    def call_count(self):
        """REST requests sent or CLI commands run so far."""
        raise NotImplementedError

    #: the RetryPolicy (_retry.py) that counts the calls made again; None when the backend has none
    retry_policy = None

    def note_resend(self, what):
        """Count a write sent again after its answer was lost (it had not landed); logged for -vvv."""
        if self.retry_policy is not None:
            self.retry_policy.record('%s: the answer was lost and the write had not landed; sent again' % what)

    def note(self, line):
        """Log a decision for -vvv (e.g. a write that landed although its answer was lost)."""
        if self.retry_policy is not None:
            self.retry_policy.note(line)

    def get_link(self, name, include_tasks=False):
        """The link (KafkaLinkData shape), or None when it does not exist."""
        raise NotImplementedError

    def get_link_configs(self, name):
        """Every config entry of the link (KafkaLinkConfigData shape), defaults included."""
        raise NotImplementedError

    def create_link(self, name, cluster_ids, configs, validate_only=False):
        """Create a link; cluster_ids: {'source_cluster_id'|'destination_cluster_id'|'remote_cluster_id': id}.

        The id field follows link.mode (DESTINATION: source_cluster_id, SOURCE: destination_cluster_id,
        BIDIRECTIONAL: remote_cluster_id); cluster_ids may also hold 'cluster_link_id' (the second side
        of a bidirectional link). configs: {name: value} including link.mode / connection.mode when set.
        validate_only: the server checks the request and creates nothing.
        """
        raise NotImplementedError

    def alter_link_configs(self, name, set_configs, delete_names=(), validate_only=False):
        """Set configs and reset others to their defaults, in one call.

        validate_only: the server checks the request and changes nothing; a backend that cannot
        validate an alter raises ApiError saying so (before changing anything).
        """
        raise NotImplementedError

    def delete_link(self, name, force=False, validate_only=False):
        """Delete the link; force: even when mirror topics still use it. validate_only: check only."""
        raise NotImplementedError

    def list_links(self):
        """Every link on the cluster (KafkaLinkData shape, without tasks), in one call."""
        raise NotImplementedError

    def list_all_mirrors(self):
        """Every mirror topic of every link on the cluster (KafkaMirrorData shape, each with its
        'link_name' and 'mirror_lags'), as a list, in one call (REST GET /links/-/mirrors)."""
        raise NotImplementedError

    def list_mirrors(self, link_name):
        """All mirrors of the link as {mirror_topic_name: mirror}; one call. ApiError 404 when no such link."""
        raise NotImplementedError

    def list_topic_names(self):
        """Names of all topics on the cluster; one call."""
        raise NotImplementedError

    def create_mirror(self, link_name, mirror_topic_name, source_topic_name=None, configs=None):
        """Create one mirror topic; one call. configs: {topic config name: value} for the new topic.

        source_topic_name defaults to mirror_topic_name; on a link with cluster.link.prefix the
        caller passes both (mirror name = prefix + source name). ApiError when the server refuses.
        """
        raise NotImplementedError

    def get_mirror(self, link_name, mirror_topic_name, include_state_transition_errors=False):
        """One mirror (KafkaMirrorData shape), or None when it is not a mirror topic of the link; one call.

        With include_state_transition_errors the mirror carries 'mirror_state_transition_errors':
        [{'error_code', 'error_message'}] (an empty list when the backend cannot read them).
        None also when the link does not exist.
        """
        raise NotImplementedError

    def delete_topic(self, topic_name):
        """Delete a topic of the cluster (a mirror topic is removed this way: there is no mirror delete); one call.

        Returns when the server accepted the deletion (the mirror may stay listed for a while).
        ApiError with status 404 when the topic does not exist.
        """
        raise NotImplementedError

    def alter_mirrors(self, link_name, action, topic_names):
        """Run one batch action on many mirrors in one call.

        action: 'promote', 'failover', 'pause', 'resume', 'reverse-and-start', 'reverse-and-pause'
        or 'truncate-and-restore' (REST mirrors:promote ... mirrors:truncate-and-restore; kafka-mirrors
        --promote ... --truncate-and-restore).
        Returns (succeeded, failed): succeeded is {name: details}, details a dict with
        'mirror_lags' (per-partition lags the server reported with the action, [] when none),
        'messages_truncated' (int or None; truncate-and-restore only) and
        'partition_level_truncation_data' ([{partition_id, offset_truncated_to, messages_truncated}], [] when none);
        failed is {name: error text} (the per-topic error; a topic without any result is failed too).
        """
        raise NotImplementedError


class RestBackend(Backend):
    """Kafka REST v3: Confluent Server (/kafka/v3), REST Proxy (/v3) or Confluent Cloud."""

    name = 'rest'

    def __init__(self, client):
        self.client = client

    @property
    def cluster_id(self):
        return self.client.cluster_id

    @property
    def call_count(self):
        return self.client.request_count

    @property
    def retry_policy(self):
        return getattr(self.client, 'retry', None)

    def get_link(self, name, include_tasks=False):
        return _links.get_link(self.client, name, include_tasks=include_tasks)

    def get_link_configs(self, name):
        return _links.get_link_configs(self.client, name)

    def create_link(self, name, cluster_ids, configs, validate_only=False):
        _links.create_link(self.client, name, cluster_ids, configs, validate_only=validate_only)

    def alter_link_configs(self, name, set_configs, delete_names=(), validate_only=False):
        _links.alter_link_configs(self.client, name, set_configs, delete_names, validate_only=validate_only)

    def delete_link(self, name, force=False, validate_only=False):
        _links.delete_link(self.client, name, force=force, validate_only=validate_only)

    def list_links(self):
        return _links.list_links(self.client)

    def list_all_mirrors(self):
        return _links.list_all_mirrors(self.client)

    def list_mirrors(self, link_name):
        return _mirrors.list_mirrors(self.client, link_name)

    def list_topic_names(self):
        return _mirrors.list_topic_names(self.client)

    def create_mirror(self, link_name, mirror_topic_name, source_topic_name=None, configs=None):
        _mirrors.create_mirror(self.client, link_name, mirror_topic_name, source_topic_name, configs)

    def get_mirror(self, link_name, mirror_topic_name, include_state_transition_errors=False):
        return _mirrors.get_mirror(self.client, link_name, mirror_topic_name,
                                   include_state_transition_errors=include_state_transition_errors)

    def delete_topic(self, topic_name):
        _mirrors.delete_topic(self.client, topic_name)

    def alter_mirrors(self, link_name, action, topic_names):
        return _mirrors.alter_mirrors(self.client, link_name, action, topic_names)
