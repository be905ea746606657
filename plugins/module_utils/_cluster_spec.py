# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster described once in inventory (linkops_clusters.<name>), turned into what each tool needs.

The cluster dict keys are documented in docs/fleet.md and roles/link_files/meta/argument_specs.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CLUSTER_KEYS = frozenset([
    'cluster_id', 'bootstrap_servers', 'rest_url', 'rest_username', 'rest_password', 'rest_token',
    'rest_validate_certs', 'rest_ca_path', 'rest_client_cert', 'rest_client_key',
    'security_protocol', 'sasl_mechanism', 'sasl_username', 'sasl_password', 'sasl_jaas_config',
    'ssl_truststore_location', 'ssl_truststore_password', 'ssl_truststore_type', 'ssl_keystore_location',
    'ssl_keystore_password', 'ssl_keystore_type', 'ssl_key_password', 'ssl_endpoint_identification_algorithm',
    'client_properties', 'client_config',
])


class ClusterSpecError(ValueError):
    pass


def check_cluster(cluster, what='cluster'):
    if not isinstance(cluster, dict):
        raise ClusterSpecError('%s must be a dict of cluster settings (see docs/fleet.md), got %s.'
                               % (what, type(cluster).__name__))
    unknown = sorted(set(cluster) - CLUSTER_KEYS)
    if unknown:
        raise ClusterSpecError('%s has unknown keys %s; the known keys are listed in docs/fleet.md.'
                               % (what, ', '.join(unknown)))


def connection_options(cluster, api='rest', command_config=None, cli_path=None):
    """The connection options of the collection's link modules (for module_defaults) for the cluster
    that holds the link."""
    check_cluster(cluster)
    if api not in ('rest', 'cli'):
        raise ClusterSpecError("api must be rest or cli, got %r." % (api,))
    options = {'api': api}
    if cluster.get('cluster_id'):
        options['cluster_id'] = cluster['cluster_id']
    if api == 'rest':
        if not cluster.get('rest_url'):
            raise ClusterSpecError('the cluster has no rest_url; set it, or use api=cli with bootstrap_servers.')
        for key, option in (('rest_url', 'rest_url'), ('rest_username', 'rest_username'),
                            ('rest_password', 'rest_password'), ('rest_token', 'rest_token'),
                            ('rest_validate_certs', 'validate_certs'), ('rest_ca_path', 'ca_path'),
                            ('rest_client_cert', 'client_cert'), ('rest_client_key', 'client_key')):
            if cluster.get(key) is not None:
                options[option] = cluster[key]
    else:
        if not cluster.get('bootstrap_servers'):
            raise ClusterSpecError('the cluster has no bootstrap_servers, which api=cli needs.')
        options['bootstrap_server'] = cluster['bootstrap_servers']
        if command_config:
            options['command_config'] = command_config
        if cli_path:
            options['cli_path'] = cli_path
    return options


def kafka_client_config(cluster):
    """librdkafka (confluent-kafka) settings for clients of the cluster, as migration_verify and
    link_filters take them: security, SASL, a PEM CA, plus the cluster's client_config."""
    check_cluster(cluster)
    config = {}
    for key, name in (('security_protocol', 'security.protocol'), ('sasl_mechanism', 'sasl.mechanism'),
                      ('sasl_username', 'sasl.username'), ('sasl_password', 'sasl.password'),
                      ('ssl_endpoint_identification_algorithm', 'ssl.endpoint.identification.algorithm')):
        if cluster.get(key) is not None:
            config[name] = cluster[key]
    if cluster.get('ssl_truststore_location') and (cluster.get('ssl_truststore_type') or '').upper() == 'PEM':
        config['ssl.ca.location'] = cluster['ssl_truststore_location']
    config.update(cluster.get('client_config') or {})
    return config


REMOTE_KEYS = ('bootstrap_servers', 'security_protocol', 'sasl_mechanism', 'sasl_username', 'sasl_password',
               'sasl_jaas_config', 'ssl_truststore_location', 'ssl_truststore_password', 'ssl_truststore_type',
               'ssl_keystore_location', 'ssl_keystore_password', 'ssl_keystore_type', 'ssl_key_password',
               'ssl_endpoint_identification_algorithm')


def link_remote(cluster):
    """The O(remote) option of the cluster_link module: how the link reaches this (remote) cluster."""
    check_cluster(cluster)
    if not cluster.get('bootstrap_servers'):
        raise ClusterSpecError('the cluster has no bootstrap_servers, which a link to it needs.')
    return dict((k, cluster[k]) for k in REMOTE_KEYS if cluster.get(k) is not None)
