# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every backend module shares, and the backend they choose.

``api: rest`` (default) talks to Kafka REST v3 (options documented in doc_fragments/_rest.py);
``api: cli`` runs the Confluent Platform tools on the managed host (doc_fragments/_cli.py).
The public names rest_module(), connect() and fail() are what the module files use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import (
    check_backend_options, validate_module)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import (
    DEFAULT_MAX_DELAY, DEFAULT_RETRIES, RetryPolicy)


API_CHOICES = ['rest', 'cli']


def rest_argument_spec():
    """The options of both backends: api, then REST, then CLI (rest_url is checked in connect())."""
    return dict(
        api=dict(type='str', default='rest', choices=API_CHOICES),
        rest_url=dict(type='str', fallback=(env_fallback, ['KAFKA_REST_URL'])),
        cluster_id=dict(type='str', fallback=(env_fallback, ['KAFKA_CLUSTER_ID'])),
        rest_username=dict(type='str', fallback=(env_fallback, ['KAFKA_REST_USERNAME'])),
        rest_password=dict(type='str', no_log=True, fallback=(env_fallback, ['KAFKA_REST_PASSWORD'])),
        rest_token=dict(type='str', no_log=True, fallback=(env_fallback, ['KAFKA_REST_TOKEN'])),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        ca_path=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        request_timeout=dict(type='float', default=30),
        retries=dict(type='int', default=DEFAULT_RETRIES, aliases=['request_retries']),
        retry_max_delay=dict(type='float', default=DEFAULT_MAX_DELAY),
        bootstrap_server=dict(type='str', fallback=(env_fallback, ['KAFKA_BOOTSTRAP_SERVER'])),
        command_config=dict(type='path', fallback=(env_fallback, ['KAFKA_COMMAND_CONFIG'])),
        cli_path=dict(type='path'),
        cli_timeout=dict(type='float', default=300),
    )


#: the same options under a backend-neutral name
backend_argument_spec = rest_argument_spec


REST_MUTUALLY_EXCLUSIVE = [('rest_password', 'rest_token'), ('rest_username', 'rest_token')]
REST_REQUIRED_TOGETHER = [('rest_username', 'rest_password'), ('client_cert', 'client_key')]


def rest_module(spec, mutually_exclusive=(), required_together=()):
    """The AnsibleModule of a backend module: its own options plus the shared connection options."""
    argument_spec = rest_argument_spec()
    argument_spec.update(spec)
    return AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=REST_MUTUALLY_EXCLUSIVE + list(mutually_exclusive),
        required_together=REST_REQUIRED_TOGETHER + list(required_together),
    )


backend_module = rest_module


def call_counts(backend):
    """The result keys that count what the backend did: rest_requests and rest_retries (REST) or
    cli_commands and cli_retries (CLI); at -vvv also rest_retry_log / cli_retry_log, one line per retry."""
    if backend is None:
        return {}
    prefix = 'cli' if backend.name == 'cli' else 'rest'
    counts = {'cli_commands' if prefix == 'cli' else 'rest_requests': backend.call_count}
    policy = getattr(backend, 'retry_policy', None)
    if policy is not None:
        counts[prefix + '_retries'] = policy.count
        if policy.verbose and policy.lines:
            counts[prefix + '_retry_log'] = list(policy.lines)
    return counts


def fail(module, backend, failure):
    """End the module with a TaskFailure (ApiError, LinkFailure, MirrorFailure): its message and fields."""
    result = failure.to_result()
    result.update(call_counts(backend))
    module.fail_json(msg=failure.message, **result)


def retry_policy(module):
    """The RetryPolicy of the options retries and retry_max_delay, ending at the module's wait_timeout (if any)."""
    p = module.params
    if p['retries'] < 0:
        module.fail_json(msg='retries must be 0 or more, got %s.' % p['retries'])
    if p['retry_max_delay'] <= 0:
        module.fail_json(msg='retry_max_delay must be more than 0 seconds, got %s.' % p['retry_max_delay'])
    verbose = getattr(module, '_verbosity', 0) >= 3
    policy = RetryPolicy(retries=p['retries'], max_delay=p['retry_max_delay'], log=module.log if verbose else None)
    if p.get('wait_timeout'):
        policy.deadline = policy.now() + p['wait_timeout']
    policy.verbose = verbose
    return policy


def rest_client(module):
    """A RestClient built from the module's REST options."""
    p = module.params
    client = RestClient(
        p['rest_url'], cluster_id=p['cluster_id'], username=p['rest_username'],
        password=p['rest_password'], token=p['rest_token'], client_cert=p['client_cert'],
        client_key=p['client_key'], ca_path=p['ca_path'], validate_certs=p['validate_certs'],
        timeout=p['request_timeout'])
    client.retry = retry_policy(module)
    return client


def cli_backend(module):
    """A CliBackend built from the module's CLI options."""
    # imported here: a module run with api=rest does not compile the CLI backend and its parsers
    # (AnsiballZ ships them all the same; compiling them cost every REST task about 25 ms of CPU)
    from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend_cli import CliBackend
    p = module.params
    if not p.get('bootstrap_server'):
        module.fail_json(msg='bootstrap_server is required with api=cli: the bootstrap servers of the cluster '
                             'that holds the link (normally the destination), as the CP tools take them in '
                             '--bootstrap-server; or set the KAFKA_BOOTSTRAP_SERVER environment variable.')
    if p.get('command_config') and not os.path.isfile(p['command_config']):
        module.fail_json(msg='command_config %s is not a file on %s; give the path of the admin client properties '
                             'file the CP tools read with --command-config (security.protocol, sasl.*, ssl.*).'
                             % (p['command_config'], 'the managed host'))
    if p.get('cli_path') and not os.path.isdir(p['cli_path']):
        module.fail_json(msg='cli_path %s is not a directory; set it to the directory that holds kafka-cluster-links '
                             'and kafka-mirrors (e.g. /opt/confluent/bin), or leave it out to search PATH.'
                             % p['cli_path'])
    backend = CliBackend.from_module(module, p['bootstrap_server'], command_config=p.get('command_config'),
                                     cli_path=p.get('cli_path'), timeout=p.get('cli_timeout') or None,
                                     cluster_id=p.get('cluster_id'))
    backend.retry_policy = retry_policy(module)
    return backend


def connect(module):
    """The backend the module's options describe: api=rest (default) or api=cli."""
    validate_module(module, check_backend_options)
    p = module.params
    if p.get('api') == 'cli':
        return cli_backend(module)
    if not p.get('rest_url'):
        module.fail_json(msg='rest_url is required with api=rest: set rest_url (or the KAFKA_REST_URL environment '
                             'variable) to the Kafka REST v3 URL of the cluster that holds the link, e.g. '
                             'https://broker:8090/kafka; or set api=cli with bootstrap_server to use the CP tools.')
    return RestBackend(rest_client(module))
