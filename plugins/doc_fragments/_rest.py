# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  api:
    description:
      - How the module reaches the cluster that holds the link.
      - V(rest) sends Kafka REST v3 requests to O(rest_url) (Confluent Server, REST Proxy or Confluent Cloud).
      - V(cli) runs the Confluent Platform tools C(kafka-cluster-links), C(kafka-mirrors), C(kafka-configs) and
        C(kafka-topics) on the managed host (the jump host) with O(bootstrap_server) and O(command_config),
        one command per call and one command per batch of mirror topics. Link configs and filter documents
        reach the tools in temporary files of mode 0600 that are removed right after the command; secrets
        never appear on a command line.
      - The CP tools do not print link tasks, so with V(cli) the tasks of a link cannot be checked
        (the module warns and returns an empty task list).
    type: str
    choices: [rest, cli]
    default: rest
  rest_url:
    description:
      - URL of Kafka REST v3 on the cluster that holds the link (normally the destination), up to but
        without C(/v3).
      - Confluent Server embeds it at C(https://BROKER:8090/kafka); a standalone REST Proxy serves it at
        C(http://HOST:8082); Confluent Cloud at C(https://pkc-....confluent.cloud:443/kafka).
      - If not set, the value of the E(KAFKA_REST_URL) environment variable is used.
      - Required with O(api=rest); not used with O(api=cli).
      - Must be an C(http://) or C(https://) URL with a host and no query; anything else fails before any request.
    type: str
  cluster_id:
    description:
      - ID of the cluster the requests address, as in C(/v3/clusters/{cluster_id}).
      - When omitted it is read from C(GET /v3/clusters), which must list exactly one cluster.
      - With O(api=cli) it is the ID of the cluster at O(bootstrap_server); when omitted it is read from
        the C(local cluster ID) that C(kafka-cluster-links) prints, which needs at least one link on it.
      - If not set, the value of the E(KAFKA_CLUSTER_ID) environment variable is used.
      - ASCII letters, digits, C(-) and C(_) only (it is a segment of every request path).
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
      - Must be a readable file on the managed host; a missing file fails naming this option and the path.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert). Must be a readable file on the managed host.
    type: path
  ca_path:
    description:
      - PEM file of the CA certificates that sign the REST endpoint's certificate.
      - Must be a readable file on the managed host; a missing file fails naming this option and the path.
    type: path
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the REST endpoint. Only turn off for a rehearsal.
    type: bool
    default: true
  request_timeout:
    description:
      - Seconds to wait for one HTTP response; more than 0.
    type: float
    default: 30
  retries:
    description:
      - How many times one call is tried again, with exponential backoff (about 1, 2, 4, 8, ... seconds,
        with random jitter, each wait at most O(retry_max_delay)) and never sooner than the server's
        C(Retry-After) header (seconds or an HTTP date). Retries stop at the task's C(wait_timeout) when the
        module has one.
      - A read (GET) is tried again after HTTP 429, HTTP 5xx or a connection error.
      - A write (create, alter, delete, a batch action) is tried again only when the server did not act
        on it - HTTP 429, HTTP 503, or a connection that could not be opened.
      - A write whose answer is lost after it was sent (the connection dropped or timed out, or a gateway
        answered 502 or 504) is not simply repeated - the module reads the object again and carries on from
        what it finds - a create that landed counts as done, a promote that landed is waited for, and a
        write that did not land is sent again once.
      - With O(api=cli) the same applies to the commands of the CP tools - a command refused by throttling or an
        unavailable server is run again, and after a command that timed out or lost its connection the
        module describes the object before it goes on.
      - Each retry is counted in the result (RV(rest_retries) or RV(cli_retries)) and, at C(-vvv), listed in
        RV(rest_retry_log) or RV(cli_retry_log).
    type: int
    default: 6
    aliases: [request_retries]
  retry_max_delay:
    description:
      - The longest wait, in seconds, before one retry (see O(retries)).
      - When the server asks in C(Retry-After) for a longer wait, the call is not tried again and the task
        fails with the server's answer.
    type: float
    default: 30
  bootstrap_server:
    description:
      - With O(api=cli), the bootstrap servers of the cluster that holds the link (normally the
        destination), passed to every CP tool as C(--bootstrap-server). Required with O(api=cli).
      - C(host:port[,host:port...]); an IPv6 address as C([address]:port).
      - If not set, the value of the E(KAFKA_BOOTSTRAP_SERVER) environment variable is used.
    type: str
  command_config:
    description:
      - With O(api=cli), the path on the managed host of the admin client properties file the CP tools
        read with C(--command-config) (C(security.protocol), C(sasl.mechanism), C(sasl.jaas.config), C(ssl.*)).
      - Leave it out for a cluster that needs no client settings (PLAINTEXT).
      - If not set, the value of the E(KAFKA_COMMAND_CONFIG) environment variable is used.
    type: path
  cli_path:
    description:
      - With O(api=cli), the directory that holds the CP tools (for example C(/opt/confluent/bin)).
        It is searched first, then E(PATH).
    type: path
  cli_timeout:
    description:
      - With O(api=cli), seconds one tool command may run before it is stopped (with the C(timeout)
        command of the managed host, when it has one). V(0) means no limit.
    type: float
    default: 300
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
