# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The REST connection options every module shares (documented in doc_fragments/_rest.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient


def rest_argument_spec():
    return dict(
        rest_url=dict(type='str', required=True, fallback=(env_fallback, ['KAFKA_REST_URL'])),
        cluster_id=dict(type='str', fallback=(env_fallback, ['KAFKA_CLUSTER_ID'])),
        rest_username=dict(type='str', fallback=(env_fallback, ['KAFKA_REST_USERNAME'])),
        rest_password=dict(type='str', no_log=True, fallback=(env_fallback, ['KAFKA_REST_PASSWORD'])),
        rest_token=dict(type='str', no_log=True, fallback=(env_fallback, ['KAFKA_REST_TOKEN'])),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        ca_path=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        request_timeout=dict(type='float', default=30),
        request_retries=dict(type='int', default=3),
    )


REST_MUTUALLY_EXCLUSIVE = [('rest_password', 'rest_token'), ('rest_username', 'rest_token')]
REST_REQUIRED_TOGETHER = [('rest_username', 'rest_password'), ('client_cert', 'client_key')]


def rest_module(spec, mutually_exclusive=(), required_together=()):
    """The AnsibleModule of a REST module: its own options plus the shared REST options."""
    argument_spec = rest_argument_spec()
    argument_spec.update(spec)
    return AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=REST_MUTUALLY_EXCLUSIVE + list(mutually_exclusive),
        required_together=REST_REQUIRED_TOGETHER + list(required_together),
    )


def fail(module, backend, failure):
    """End the module with a TaskFailure (ApiError, LinkFailure, MirrorFailure): its message and fields."""
    module.fail_json(msg=failure.message, rest_requests=backend.call_count, **failure.to_result())


def rest_client(module):
    """A RestClient built from the module's REST options."""
    p = module.params
    if p['request_retries'] < 0:
        module.fail_json(msg='request_retries must be 0 or more, got %s.' % p['request_retries'])
    return RestClient(
        p['rest_url'], cluster_id=p['cluster_id'], username=p['rest_username'],
        password=p['rest_password'], token=p['rest_token'], client_cert=p['client_cert'],
        client_key=p['client_key'], ca_path=p['ca_path'], validate_certs=p['validate_certs'],
        timeout=p['request_timeout'], retries=p['request_retries'])


def connect(module):
    """The backend the module's options describe."""
    return RestBackend(rest_client(module))
