# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kept-alive HTTP(S) connections to one REST endpoint: one per thread, reused request after request.

open_url builds a new urllib opener per request and sends ``Connection: close``, so every request
opens its own TCP connection and, over HTTPS, makes its own TLS handshake: two to three network round
trips and a few milliseconds of CPU on both sides before the request is even sent. A module that sends
a thousand mirror creates, or polls a link for minutes, pays that a thousand times. KeptAliveOpener
sends the requests of each thread over one persistent HTTP/1.1 connection instead, opened again when
the server closed it.

It answers like open_url (``open(url, data=, headers=, method=, timeout=, url_username=, url_password=,
force_basic_auth=)``, the other open_url arguments are accepted and ignored): an object whose
``read()`` gives the body (the only part of an answer the REST client reads); an HTTP status of 400
or more raises urllib's HTTPError with the body; a connection that cannot be opened or a request that cannot be sent raises URLError with the cause as
its reason; a failure while the answer is awaited raises the socket or http.client error itself. So
the REST client's retry and TLS rules (_rest_client.py, _rest_tls.py) see what they saw from open_url.

Not kept alive (``use_for(url)`` is False, the caller uses open_url): a URL a proxy applies to (the
``*_proxy`` environment variables, as open_url honours them). A redirect (3xx) to a GET is followed by
open_url; to a write it is an HTTPError, as open_url's ``follow_redirects='safe'`` has it.

A kept connection the server closed while it was idle (a keep-alive timeout) is noticed before it is
used again (its socket is readable: the server's FIN) and replaced, so a write is never sent into a
closed connection that way. If the server closes it at the very moment a request is sent, a read is
sent once more on a new connection; a write is reported as sent (its answer lost), as it may have been.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import io
import select
import threading

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.six.moves.urllib.request import getproxies, proxy_bypass

USER_AGENT = 'ansible-httpget'  # what open_url sends
# failures of a reused connection that mean the server closed it before reading the request
_CLOSED_BEFORE_ANSWER = (http_client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _closed_by_peer(sock):
    """True when an idle kept connection cannot carry another request: the server closed it (the
    socket is readable at EOF) or sent something unasked."""
    try:
        if hasattr(select, 'poll'):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, dummy, dummy2 = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


class KeptAliveOpener:
    """Sends requests to one scheme://host:port over one kept-alive connection per thread."""

    def __init__(self, context_factory, redirect_opener):
        self._context_factory = context_factory   # the TLS context, made at the first https request
        self._redirect_opener = redirect_opener   # open_url: follows a GET's redirect
        self._local = threading.local()

    @staticmethod
    def use_for(url):
        """Whether a request to url goes over a kept connection (no proxy applies to it)."""
        parts = urlsplit(url)
        if parts.scheme not in ('http', 'https'):
            return False
        proxy = getproxies().get(parts.scheme)
        return not proxy or bool(proxy_bypass(parts.hostname or ''))

    def _connection(self, parts, timeout):
        """This thread's connection to the URL's endpoint (made, or replaced when the server closed it)."""
        key = (parts.scheme, parts.hostname, parts.port)
        kept = getattr(self._local, 'connections', None)
        if kept is None:
            kept = self._local.connections = {}
        conn = kept.get(key)
        if conn is not None and conn.sock is not None and _closed_by_peer(conn.sock):
            conn.close()
        if conn is None:
            if parts.scheme == 'https':
                conn = http_client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                                   context=self._context_factory())
            else:
                conn = http_client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
            kept[key] = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def open(self, url, data=None, headers=None, method='GET', timeout=30, url_username=None,
             url_password=None, force_basic_auth=False, **ignored):
        parts = urlsplit(url)
        target = parts.path or '/'
        if parts.query:
            target += '?' + parts.query
        sent_headers = {'User-Agent': USER_AGENT}
        sent_headers.update(headers or {})
        if url_username and force_basic_auth:
            token = '%s:%s' % (url_username, url_password or '')
            sent_headers['Authorization'] = 'Basic %s' % base64.b64encode(token.encode('utf-8')).decode('ascii')
        body = data.encode('utf-8') if isinstance(data, str) else data
        method = (method or 'GET').upper()
        for last_try in (False, True):
            conn = self._connection(parts, timeout)
            reused = conn.sock is not None
            try:
                response, raw = self._exchange(conn, method, target, body, sent_headers)
            except _CLOSED_BEFORE_ANSWER:
                if reused and not last_try and method in ('GET', 'HEAD'):
                    continue   # the server closed the kept connection as the read went out: once more
                raise
            break
        if 300 <= response.status < 400 and method in ('GET', 'HEAD'):
            return self._redirect_opener(url, data=data, headers=headers, method=method, timeout=timeout,
                                         url_username=url_username, url_password=url_password,
                                         force_basic_auth=force_basic_auth, **ignored)
        if response.status >= 300:
            raise HTTPError(url, response.status, response.reason, response.msg, io.BytesIO(raw))
        return io.BytesIO(raw)   # all the REST client reads of an answer is its body

    @staticmethod
    def _exchange(conn, method, target, body, headers):
        """Send the request and read the answer: (response, body). A failure to connect or to send raises
        URLError, as urllib does. After any failure the connection is closed (its state is unknown: a
        timed-out answer may still arrive on it), so the next request opens a new one."""
        try:
            try:
                if conn.sock is None:
                    conn.connect()
                conn.request(method, target, body=body, headers=headers)
            except _CLOSED_BEFORE_ANSWER:
                raise
            except OSError as exc:   # socket.error, ssl.SSLError, timeouts: as urllib reports them
                raise URLError(exc)
            response = conn.getresponse()
            raw = response.read()
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        return response, raw
