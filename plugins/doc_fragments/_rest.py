# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  rest_url:
    description:
      - URL of Kafka REST v3 on the cluster that holds the link (normally the destination), up to but
        without C(/v3).
      - Confluent Server embeds it at C(https://BROKER:8090/kafka); a standalone REST Proxy serves it at
        C(http://HOST:8082); Confluent Cloud at C(https://pkc-....confluent.cloud:443/kafka).
      - If not set, the value of the E(KAFKA_REST_URL) environment variable is used.
    type: str
    required: true
  cluster_id:
    description:
      - ID of the cluster the requests address, as in C(/v3/clusters/{cluster_id}).
      - When omitted it is read from C(GET /v3/clusters), which must list exactly one cluster.
      - If not set, the value of the E(KAFKA_CLUSTER_ID) environment variable is used.
    type: str
  rest_username:
    description:
      - User name for HTTP Basic authentication (a Confluent Cloud API key, or an LDAP/file user).
      - If not set, the value of the E(KAFKA_REST_USERNAME) environment variable is used.
    type: str
  rest_password:
    description:
      - Password for HTTP Basic authentication (a Confluent Cloud API secret).
      - If not set, the value of the E(KAFKA_REST_PASSWORD) environment variable is used.
    type: str
  rest_token:
    description:
      - OAuth bearer token, instead of O(rest_username) and O(rest_password).
      - If not set, the value of the E(KAFKA_REST_TOKEN) environment variable is used.
    type: str
  client_cert:
    description:
      - PEM client certificate for mutual TLS. Use together with O(client_key).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert).
    type: path
  ca_path:
    description:
      - PEM file of the CA certificates that sign the REST endpoint's certificate.
    type: path
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the REST endpoint. Only turn off for a rehearsal.
    type: bool
    default: true
  request_timeout:
    description:
      - Seconds to wait for one HTTP response.
    type: float
    default: 30
  request_retries:
    description:
      - How many times a read (GET) is tried again after HTTP 429 or 5xx or a connection error,
        with exponential backoff starting at one second. Writes are never retried.
    type: int
    default: 3
'''

    ACTIONGROUP = r'''
attributes:
  action_group:
    description: Use C(group/linkops.cluster_linking.cluster_linking) in C(module_defaults) to set the
      connection options once for every module of this collection.
    support: full
    membership:
      - linkops.cluster_linking.cluster_linking
'''
