# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kafka REST v3 client: URLs, authentication, retries and error mapping.

It knows nothing about links or mirrors; those live in _links.py and _mirrors.py.

A TLS failure (a refused certificate on either side, TLS files that cannot be loaded, an https://
rest_url of a plain HTTP endpoint) fails at once with a message naming the option (_rest_tls.py).

Retries (RetryPolicy, _retry.py): a read (GET, HEAD) is tried again after HTTP 429 or 5xx or a
connection error; a write only when the server did not act: HTTP 429, HTTP 503, or a connection
that could not be opened (nothing was sent). A write whose answer is lost after it was sent (the
connection dropped or timed out, or a gateway answered 502/504) raises AnswerLost: the caller
re-reads the object to learn whether it landed.

Connections: each thread's requests go over one kept-alive HTTP/1.1 connection
(_http_connections.py), so a module pays one TCP connect and, over HTTPS, one TLS handshake per
thread, not per request. A URL a proxy applies to (the ``*_proxy`` environment variables) goes
through ansible's open_url instead, a new connection per request, as does a GET that is redirected.

Threads: one client may be used by several threads at once (mirror_topic's parallel creates); the
request count is kept under a lock, each thread has its own connection.

The TLS context is made once per client, not once per request as open_url does: validating with
the system's CAs, making one reads every CA certificate of the system (about 30 ms), which had made
a mirror create cost the module ten times what it costs the server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode, urlsplit
from ansible.module_utils.urls import ConnectionError as UrlConnectionError, Request, make_context

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._http_connections import KeptAliveOpener
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_tls import tls_failure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import (
    DEFAULT_MAX_DELAY, DEFAULT_RETRIES, AnswerLost, RetryPolicy, parse_retry_after)

# Statuses after which a safe (read-only) request is tried again.
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])
# Statuses after which a write is tried again: the server says it did not act.
WRITE_RETRY_STATUSES = frozenset([429, 503])
# Statuses of a gateway that may have passed the write on: whether it landed is not known.
WRITE_UNKNOWN_STATUSES = frozenset([502, 504])
SAFE_METHODS = frozenset(['GET', 'HEAD'])


class RestError(ApiError):
    """A failed REST call, with what a user needs to understand it."""

    def __init__(self, message, status=None, error_code=None, url=None, method=None):
        super(RestError, self).__init__(message, status=status, error_code=error_code, url=url, method=method)
        self.url = url
        self.method = method


def path_quote(segment):
    """Quote one URL path segment (a link or topic name)."""
    return quote(str(segment), safe='')


def _error_fields(body):
    """Return (error_code, message) from a Confluent error body, which may be JSON or text."""
    if not body:
        return None, None
    try:
        data = json.loads(body)
    except ValueError:
        text = body.strip()
        if text.lower().startswith('<'):  # Jetty answers some errors (429) with an HTML page
            return None, None
        return None, text[:300]
    if isinstance(data, dict):
        return data.get('error_code'), data.get('message')
    return None, None


def describe_error(status, error_code, message):
    """'HTTP 400, error 40002: Topic 'x' already exists.' style text."""
    text = 'HTTP %s' % status
    if error_code is not None:
        text += ', error %s' % error_code
    if message:
        text += ': %s' % message
    return text


class RestClient:
    """Kafka REST v3 for one cluster: Confluent Server (/kafka/v3), REST Proxy (/v3) or Cloud.

    base_url is the URL in front of /v3, e.g. https://broker:8090/kafka or http://proxy:8082.
    Every request is counted in self.request_count (the modules report it: cost rules).
    """

    def __init__(self, base_url, cluster_id=None, username=None, password=None, token=None,
                 client_cert=None, client_key=None, ca_path=None, validate_certs=True,
                 timeout=30, retries=DEFAULT_RETRIES, retry_backoff=1.0, retry_max_delay=DEFAULT_MAX_DELAY,
                 deadline=None, opener=None, sleep=None, clock=None, rand=None, log=None, option_names=None):
        self.base_url = base_url.rstrip('/')
        if self.base_url.endswith('/v3'):
            self.base_url = self.base_url[:-3]
        self._cluster_id = cluster_id
        self.username = username
        self.password = password
        self.token = token
        self.client_cert = client_cert
        self.client_key = client_key
        self.ca_path = ca_path
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retry = RetryPolicy(retries=retries, max_delay=retry_max_delay, base=retry_backoff,
                                 deadline=deadline, sleep=sleep, clock=clock, rand=rand, log=log)
        self._open = opener or self._open_url
        self._tls = None
        self._tls_lock = threading.Lock()
        # None where a proxy applies to rest_url (the environment does not change during a task)
        self._kept_alive = (KeptAliveOpener(self._tls_context, self._open_new_connection)
                            if KeptAliveOpener.use_for(self.base_url) else None)
        self.request_count = 0
        self.option_names = option_names  # how the module names rest_url, ca_path, ... (_rest_tls)
        self._count_lock = threading.Lock()

    def _open_url(self, url, method=None, **kwargs):
        """Send the request over this thread's kept-alive connection, or through open_url where a proxy
        applies to the URL."""
        if self._kept_alive is not None:
            return self._kept_alive.open(url, method=method, **kwargs)
        return self._open_new_connection(url, method=method, **kwargs)

    def _open_new_connection(self, url, method=None, **kwargs):
        """What open_url does, with this client's TLS context (the SSL arguments in kwargs are then
        ignored: the context was made from the same settings)."""
        return Request().open(method, url, context=self._tls_context(), **kwargs)

    def _tls_context(self):
        """The client's TLS context, made at the first request: a CA file or client certificate
        that cannot be loaded fails that request as open_url would (see _rest_tls)."""
        with self._tls_lock:
            if self._tls is None:
                self._tls = make_context(cafile=self.ca_path, validate_certs=self.validate_certs,
                                         client_cert=self.client_cert, client_key=self.client_key)
            return self._tls

    @property
    def retry_count(self):
        """Requests sent again so far (after 429/503, 5xx or connection errors, or a lost answer)."""
        return self.retry.count

    # -- public ------------------------------------------------------------------------------

    @property
    def cluster_id(self):
        """The cluster the requests go to; asked from GET /v3/clusters when not given."""
        if self._cluster_id is None:
            clusters = self.request('GET', '/v3/clusters').get('data') or []
            if len(clusters) != 1:
                raise RestError(
                    'The REST endpoint %s serves %d clusters; set cluster_id to pick one (%s).'
                    % (self.base_url, len(clusters),
                       ', '.join(c.get('cluster_id', '?') for c in clusters) or 'none found'))
            self._cluster_id = clusters[0]['cluster_id']
        return self._cluster_id

    def cluster(self, method, path, query=None, body=None):
        """A request below /v3/clusters/{cluster_id}."""
        return self.request(method, '/v3/clusters/%s%s' % (path_quote(self.cluster_id), path),
                            query=query, body=body)

    def request(self, method, path, query=None, body=None):
        """Send one request; return the decoded JSON body ({} when there is none).

        Raises RestError with a one-line message on any failure.
        """
        url = self.base_url + path
        params = sorted((k, _query_value(v)) for k, v in (query or {}).items() if v is not None)
        if params:
            url += '?' + urlencode(params)
        data = None
        headers = {'Accept': 'application/json'}
        if body is not None:
            data = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        if self.token:
            headers['Authorization'] = 'Bearer %s' % self.token

        safe = method in SAFE_METHODS
        what = '%s %s' % (method, urlsplit(url).path)
        attempt = 0
        while True:
            with self._count_lock:
                self.request_count += 1
            try:
                response = self._open(
                    url, data=data, headers=headers, method=method, timeout=self.timeout,
                    validate_certs=self.validate_certs, url_username=self.username,
                    url_password=self.password, force_basic_auth=bool(self.username),
                    client_cert=self.client_cert, client_key=self.client_key, ca_path=self.ca_path,
                    use_netrc=False, follow_redirects='safe')
                raw = response.read()
            except HTTPError as exc:
                retriable = exc.code in (RETRY_STATUSES if safe else WRITE_RETRY_STATUSES)
                refusal = None
                if retriable:
                    retry_after = parse_retry_after(_header(exc, 'Retry-After'))
                    refusal = self.retry.wait(attempt, what, 'HTTP %s' % exc.code, retry_after)
                    if refusal is None:
                        attempt += 1
                        continue
                error = self._http_error(method, url, exc)
                if not safe and exc.code in WRITE_UNKNOWN_STATUSES:
                    raise AnswerLost(error.message + ' (a gateway answered: the server may have acted)',
                                     status=exc.code, error_code=error.error_code, url=url, method=method)
                raise _with_retries(error, attempt, refusal)
            except (URLError, UrlConnectionError, socket.timeout, OSError, http_client.HTTPException) as exc:
                tls = tls_failure(exc, self.base_url, self.ca_path, self.client_cert, self.client_key,
                                  self.option_names)
                if tls:  # the server cannot have acted, and trying again cannot help
                    raise _with_retries(RestError(tls, url=url, method=method), attempt, None)
                reason = getattr(exc, 'reason', None) or exc
                text = 'Cannot reach the REST endpoint %s (rest_url): %s' % (self.base_url, reason)
                sent = not _not_sent(exc)
                if not safe and sent:
                    raise AnswerLost('%s: the connection was lost after the request was sent (%s); the server '
                                     'may have acted.' % (what, reason), url=url, method=method)
                refusal = None
                if not _configuration_problem(exc):
                    refusal = self.retry.wait(attempt, what, str(reason))
                    if refusal is None:
                        attempt += 1
                        continue
                raise _with_retries(RestError(text, url=url, method=method), attempt, refusal)
            try:
                return json.loads(raw) if raw and raw.strip() else {}
            except ValueError as exc:
                raise RestError('%s %s returned a body that is not JSON: %s' % (method, url, exc),
                                url=url, method=method)

    # -- helpers ------------------------------------------------------------------------------

    def _http_error(self, method, url, exc):
        try:
            body = exc.read()
            body = body.decode('utf-8', 'replace') if isinstance(body, bytes) else body
        except Exception:  # the body of an error response is a courtesy
            body = None
        error_code, message = _error_fields(body)
        detail = describe_error(exc.code, error_code, message or getattr(exc, 'reason', None))
        if exc.code == 401:
            text = ('The REST endpoint %s rejected the credentials (%s); check rest_username and '
                    'rest_password, or rest_token.' % (self.base_url, detail))
        elif exc.code == 403:
            text = ('The REST endpoint %s refused %s %s (%s); the principal lacks the permission.'
                    % (self.base_url, method, url, detail))
        else:
            text = '%s %s failed: %s' % (method, url, detail)
        return RestError(text, status=exc.code, error_code=error_code, url=url, method=method)


def _header(exc, name):
    headers = getattr(exc, 'headers', None) or getattr(exc, 'hdrs', None)
    try:
        return headers.get(name) if headers is not None else None
    except AttributeError:
        return None


def _not_sent(exc):
    """True when the request cannot have reached the server: the connection was never opened."""
    if isinstance(exc, UrlConnectionError):
        return True
    if isinstance(exc, URLError):
        reason = getattr(exc, 'reason', None)
        return isinstance(reason, (ConnectionRefusedError, socket.gaierror)) or isinstance(reason, str) \
            or _configuration_problem(exc)
    return isinstance(exc, ConnectionRefusedError)


def _configuration_problem(exc):
    """A failure no retry can fix: an unknown host name, or a TLS certificate that is refused."""
    if type(exc).__name__ == 'SSLValidationError':  # ansible.module_utils.urls: the certificate was refused
        return True
    reason = getattr(exc, 'reason', None)
    if isinstance(reason, socket.gaierror):
        return True
    if isinstance(reason, str):
        return True
    return type(reason).__name__ in ('SSLCertVerificationError', 'CertificateError', 'SSLError')


def _with_retries(error, attempt, refusal):
    """The error, saying how often the request was tried again and why it was not tried again."""
    notes = []
    if attempt:
        notes.append('after %d %s' % (attempt, 'retry' if attempt == 1 else 'retries'))
    if refusal and not refusal.startswith('no retries left'):
        notes.append('not retried: %s' % refusal)
    if notes:
        error.message = '%s (%s)' % (error.message.rstrip('.'), '; '.join(notes))
        error.args = (error.message,)
    return error


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)
