# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kafka REST v3 client: URLs, authentication, retries and error mapping.

It knows nothing about links or mirrors; those live in _links.py and _mirrors.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import ConnectionError as UrlConnectionError, open_url

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError

# Statuses after which a safe (read-only) request is tried again.
RETRY_STATUSES = frozenset([429, 500, 502, 503, 504])
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
                 timeout=30, retries=3, retry_backoff=1.0, opener=None, sleep=None):
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
        self.retries = retries
        self.retry_backoff = retry_backoff
        self._open = opener or open_url
        self._sleep = sleep or time.sleep
        self.request_count = 0

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

        attempts = 1 + (self.retries if method in SAFE_METHODS else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self.request_count += 1
            try:
                response = self._open(
                    url, data=data, headers=headers, method=method, timeout=self.timeout,
                    validate_certs=self.validate_certs, url_username=self.username,
                    url_password=self.password, force_basic_auth=bool(self.username),
                    client_cert=self.client_cert, client_key=self.client_key, ca_path=self.ca_path,
                    use_netrc=False, follow_redirects='safe')
                raw = response.read()
                return json.loads(raw) if raw and raw.strip() else {}
            except HTTPError as exc:
                if exc.code in RETRY_STATUSES and not last:
                    self._sleep(self.retry_backoff * (2 ** attempt))
                    continue
                raise self._http_error(method, url, exc)
            except (URLError, UrlConnectionError, socket.timeout, OSError) as exc:
                if not last:
                    self._sleep(self.retry_backoff * (2 ** attempt))
                    continue
                reason = getattr(exc, 'reason', None) or exc
                raise RestError('Cannot reach the REST endpoint %s (rest_url): %s' % (self.base_url, reason),
                                url=url, method=method)
            except ValueError as exc:
                raise RestError('%s %s returned a body that is not JSON: %s' % (method, url, exc),
                                url=url, method=method)
        raise AssertionError('unreachable')  # pragma: no cover

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


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)
