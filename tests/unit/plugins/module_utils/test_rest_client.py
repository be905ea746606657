# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for RestClient: URLs, query encoding, auth, retries and error messages.

No network: every request goes to a fake ``opener`` with open_url's signature.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import json
import random
import socket
import urllib.error

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import (
    RestClient, RestError, describe_error, path_quote)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import (
    AnswerLost, backoff_delay, outcome_unknown, parse_retry_after)


class FakeResponse:
    def __init__(self, body):
        self._body = body

    def read(self):
        return self._body


def http_error(code, body=b"", reason="Error", content_type="application/json", headers=None):
    headers = dict({"Content-Type": content_type}, **(headers or {}))
    return urllib.error.HTTPError("http://fake", code, reason, headers, io.BytesIO(body))


def json_body(data):
    return json.dumps(data).encode("utf-8")


class FakeOpener:
    """Records every call; answers from a queue of bytes bodies or exceptions to raise.

    When the queue runs out, the last answer is repeated.
    """

    def __init__(self, *answers):
        self.answers = list(answers) or [b""]
        self.calls = []

    def __call__(self, url, data=None, headers=None, method=None, use_proxy=True, force=False,
                 last_mod_time=None, timeout=10, validate_certs=True, url_username=None,
                 url_password=None, http_agent=None, force_basic_auth=False, follow_redirects='urllib2',
                 client_cert=None, client_key=None, cookies=None, use_gssapi=False,
                 unix_socket=None, ca_path=None, unredirected_headers=None, decompress=True,
                 ciphers=None, use_netrc=True):
        self.calls.append(dict(url=url, data=data, headers=dict(headers or {}), method=method,
                               timeout=timeout, validate_certs=validate_certs, url_username=url_username,
                               url_password=url_password, force_basic_auth=force_basic_auth,
                               client_cert=client_cert, client_key=client_key, ca_path=ca_path,
                               use_netrc=use_netrc, follow_redirects=follow_redirects))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, bytes):
            return FakeResponse(answer)
        raise answer  # pylint: disable=raising-bad-type

    @property
    def urls(self):
        return [c["url"] for c in self.calls]


class SleepRecorder:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def make_client(opener, base="https://h:8090/kafka", **kwargs):
    kwargs.setdefault("cluster_id", "lkc-1")
    kwargs.setdefault("rand", lambda: 1.0)  # no jitter: each wait is the top of its range
    sleep = kwargs.pop("sleep", None) or SleepRecorder()
    client = RestClient(base, opener=opener, sleep=sleep, **kwargs)
    return client, sleep


# -- URL building ----------------------------------------------------------------------------


@pytest.mark.parametrize("base, expected_prefix", [
    ("https://h:8090/kafka", "https://h:8090/kafka/v3"),
    ("https://h:8090/kafka/", "https://h:8090/kafka/v3"),
    ("https://h:8090/kafka/v3", "https://h:8090/kafka/v3"),
    ("https://h:8090/kafka/v3/", "https://h:8090/kafka/v3"),
    ("http://h:8082", "http://h:8082/v3"),
    ("http://h:8082/", "http://h:8082/v3"),
    ("http://h:8082/v3", "http://h:8082/v3"),
])
def test_cluster_url_under_each_base(base, expected_prefix):
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, base=base)
    client.cluster("GET", "/links")
    assert opener.urls == [expected_prefix + "/clusters/lkc-1/links"]


def test_request_path_is_appended_to_base():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, base="http://h:8082")
    client.request("GET", "/v3/clusters")
    assert opener.urls == ["http://h:8082/v3/clusters"]


def test_path_segments_are_quoted():
    assert path_quote("a/b c") == "a%2Fb%20c"
    assert path_quote("orders.v1_x-y") == "orders.v1_x-y"
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, cluster_id="c/1")
    client.cluster("GET", "/links/%s" % path_quote("my link"))
    assert opener.urls == ["https://h:8090/kafka/v3/clusters/c%2F1/links/my%20link"]


def test_get_sends_no_body_and_accepts_json():
    opener = FakeOpener(b'{"data": []}')
    client, dummy = make_client(opener)
    assert client.cluster("GET", "/links") == {"data": []}
    call = opener.calls[0]
    assert call["method"] == "GET"
    assert call["data"] is None
    assert call["headers"]["Accept"] == "application/json"
    assert "Content-Type" not in call["headers"]
    assert "Authorization" not in call["headers"]
    assert call["use_netrc"] is False


def test_post_body_is_json_with_content_type():
    opener = FakeOpener(b"")
    client, dummy = make_client(opener)
    assert client.cluster("POST", "/links/l/mirrors", body={"source_topic_name": "t"}) == {}
    call = opener.calls[0]
    assert call["method"] == "POST"
    assert json.loads(call["data"]) == {"source_topic_name": "t"}
    assert call["headers"]["Content-Type"] == "application/json"


def test_empty_or_blank_body_decodes_to_empty_dict():
    opener = FakeOpener(b"   \n", b"")
    client, dummy = make_client(opener)
    assert client.request("DELETE", "/v3/x") == {}
    assert client.request("DELETE", "/v3/x") == {}


def test_body_that_is_not_json_is_an_error():
    opener = FakeOpener(b"<html>oops</html>")
    client, dummy = make_client(opener)
    with pytest.raises(RestError) as err:
        client.request("GET", "/v3/x")
    assert "not JSON" in err.value.message
    assert err.value.url == "https://h:8090/kafka/v3/x"
    assert err.value.method == "GET"


# -- query encoding --------------------------------------------------------------------------


def test_query_booleans_lowercase_and_sorted():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener)
    client.cluster("POST", "/links", query={"validate_only": False, "link_name": "l1", "validate_link": True})
    assert opener.urls == [
        "https://h:8090/kafka/v3/clusters/lkc-1/links?link_name=l1&validate_link=true&validate_only=false"]


def test_query_none_values_are_dropped():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener)
    client.cluster("DELETE", "/links/l1", query={"force": True, "validate_only": None})
    assert opener.urls == ["https://h:8090/kafka/v3/clusters/lkc-1/links/l1?force=true"]


def test_query_values_are_url_encoded():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener)
    client.cluster("POST", "/links", query={"link_name": "a b&c", "n": 3})
    assert opener.urls == ["https://h:8090/kafka/v3/clusters/lkc-1/links?link_name=a+b%26c&n=3"]


def test_query_all_none_leaves_no_question_mark():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener)
    client.cluster("GET", "/links/l1", query={"include_tasks": None})
    assert opener.urls == ["https://h:8090/kafka/v3/clusters/lkc-1/links/l1"]


# -- cluster_id discovery --------------------------------------------------------------------


def test_cluster_id_discovered_from_single_cluster():
    opener = FakeOpener(json_body({"data": [{"cluster_id": "abc-123"}]}), b'{"data": []}')
    client, dummy = make_client(opener, base="http://h:8082", cluster_id=None)
    assert client.cluster_id == "abc-123"
    client.cluster("GET", "/links")
    assert opener.urls == ["http://h:8082/v3/clusters", "http://h:8082/v3/clusters/abc-123/links"]
    # asked once, then remembered
    client.cluster("GET", "/links")
    assert opener.urls.count("http://h:8082/v3/clusters") == 1
    assert client.request_count == 3


def test_given_cluster_id_is_not_discovered():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, cluster_id="given")
    assert client.cluster_id == "given"
    assert opener.calls == []
    assert client.request_count == 0


@pytest.mark.parametrize("clusters", [[], [{"cluster_id": "c1"}, {"cluster_id": "c2"}]])
def test_cluster_id_discovery_needs_exactly_one_cluster(clusters):
    opener = FakeOpener(json_body({"data": clusters}))
    client, dummy = make_client(opener, cluster_id=None)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    message = err.value.message
    assert "cluster_id" in message
    assert "%d clusters" % len(clusters) in message
    for cluster in clusters:
        assert cluster["cluster_id"] in message
    if not clusters:
        assert "none found" in message
    assert len(opener.calls) == 1  # the links request was never sent


# -- authentication --------------------------------------------------------------------------


def test_basic_auth_passed_to_open_url():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, username="api-key", password="s3cret")
    client.cluster("GET", "/links")
    call = opener.calls[0]
    assert call["url_username"] == "api-key"
    assert call["url_password"] == "s3cret"
    assert call["force_basic_auth"] is True
    assert "Authorization" not in call["headers"]


def test_bearer_token_header():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, token="tok-1")
    client.cluster("GET", "/links")
    call = opener.calls[0]
    assert call["headers"]["Authorization"] == "Bearer tok-1"
    assert call["force_basic_auth"] is False
    assert call["url_username"] is None


def test_no_auth_by_default():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener)
    client.cluster("GET", "/links")
    call = opener.calls[0]
    assert call["force_basic_auth"] is False
    assert "Authorization" not in call["headers"]


def test_tls_and_timeout_options_passed_through():
    opener = FakeOpener(b"{}")
    client, dummy = make_client(opener, client_cert="/c.pem", client_key="/k.pem", ca_path="/ca.pem",
                                validate_certs=False, timeout=7)
    client.cluster("GET", "/links")
    call = opener.calls[0]
    assert (call["client_cert"], call["client_key"], call["ca_path"]) == ("/c.pem", "/k.pem", "/ca.pem")
    assert call["validate_certs"] is False
    assert call["timeout"] == 7


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_get_retried_on_retryable_status_with_backoff(status):
    opener = FakeOpener(http_error(status), http_error(status), b'{"ok": 1}')
    client, sleep = make_client(opener, retries=3, retry_backoff=0.5)
    assert client.cluster("GET", "/links") == {"ok": 1}
    assert len(opener.calls) == 3
    assert sleep.delays == [0.5, 1.0]
    assert client.request_count == 3


def test_get_gives_up_after_retries_with_exponential_backoff():
    opener = FakeOpener(http_error(503, json_body({"error_code": 50003, "message": "retriable"})))
    client, sleep = make_client(opener, retries=3, retry_backoff=1.0)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    assert len(opener.calls) == 4
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert client.request_count == 4
    assert err.value.status == 503
    assert err.value.error_code == 50003
    assert "HTTP 503, error 50003: retriable" in err.value.message


def test_head_is_retried_too():
    opener = FakeOpener(http_error(500), b"")
    client, sleep = make_client(opener, retries=1)
    client.request("HEAD", "/v3/x")
    assert len(opener.calls) == 2
    assert len(sleep.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_get_not_retried_on_client_errors(status):
    opener = FakeOpener(http_error(status))
    client, sleep = make_client(opener, retries=3)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    assert err.value.status == status
    assert len(opener.calls) == 1
    assert sleep.delays == []
    assert client.request_count == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("failure", [
    lambda: http_error(503),
    lambda: http_error(429, b"<html><body>Too many</body></html>", "Too Many Requests", "text/html"),
    lambda: urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
], ids=["503", "429-html", "refused"])
def test_writes_are_retried_when_the_server_did_not_act(method, failure):
    opener = FakeOpener(failure(), b"{}")
    client, sleep = make_client(opener, retries=5)
    assert client.cluster(method, "/links", body={"x": 1}) == {}
    assert len(opener.calls) == 2
    assert sleep.delays == [1.0]
    assert client.request_count == 2
    assert client.retry_count == 1


@pytest.mark.parametrize("status", [500, 400, 409])
def test_writes_are_not_retried_after_other_errors(status):
    opener = FakeOpener(http_error(status), b"{}")
    client, sleep = make_client(opener, retries=5)
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links", body={"x": 1})
    assert not outcome_unknown(err.value)
    assert len(opener.calls) == 1
    assert sleep.delays == []
    assert client.retry_count == 0


@pytest.mark.parametrize("failure", [
    lambda: http.client.RemoteDisconnected("Remote end closed connection without response"),
    lambda: socket.timeout("timed out"),
    lambda: ConnectionResetError(104, "Connection reset by peer"),
    lambda: urllib.error.URLError(ConnectionResetError(104, "Connection reset by peer")),
    lambda: http_error(504, b"", "Gateway Timeout"),
    lambda: http_error(502, b"", "Bad Gateway"),
], ids=["dropped", "timeout", "reset", "reset-while-sending", "504", "502"])
def test_a_write_whose_answer_is_lost_is_not_retried_but_reported_as_unknown(failure):
    opener = FakeOpener(failure(), b"{}")
    client, sleep = make_client(opener, retries=5)
    with pytest.raises(AnswerLost) as err:
        client.cluster("POST", "/links/l1/mirrors:promote", body={"mirror_topic_names": ["t"]})
    assert outcome_unknown(err.value)
    assert "may have acted" in err.value.message
    assert len(opener.calls) == 1
    assert sleep.delays == []


def test_a_write_to_an_unknown_host_is_not_retried():
    opener = FakeOpener(urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), b"{}")
    client, sleep = make_client(opener, retries=5)
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links", body={})
    assert "Name or service not known" in err.value.message
    assert not outcome_unknown(err.value)
    assert len(opener.calls) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_certificate_is_not_retried(method):
    from ansible.module_utils.urls import SSLValidationError
    opener = FakeOpener(SSLValidationError("certificate verify failed"), b"{}")
    client, sleep = make_client(opener, retries=5)
    with pytest.raises(RestError) as err:
        client.cluster(method, "/links", body={} if method == "POST" else None)
    assert "certificate verify failed" in err.value.message and not outcome_unknown(err.value)
    assert len(opener.calls) == 1 and sleep.delays == []


def test_retry_after_seconds_is_honoured_for_writes():
    opener = FakeOpener(*([http_error(429, b"", "Too Many Requests", headers={"Retry-After": "7"})] * 3 + [b"{}"]))
    client, sleep = make_client(opener, retries=5, retry_max_delay=30)
    client.cluster("POST", "/links/l1/mirrors", body={"source_topic_name": "t"})
    assert len(opener.calls) == 4
    # the backoff (1, 2, 4) is shorter than what the server asked for each time
    assert sleep.delays == [7.0, 7.0, 7.0]
    assert client.retry_count == 3


def test_retry_after_shorter_than_backoff_keeps_the_backoff():
    opener = FakeOpener(http_error(503, headers={"Retry-After": "0"}), http_error(503), b"{}")
    client, sleep = make_client(opener, retries=5)
    client.cluster("PUT", "/links/l1/configs:alter", body={"data": []})
    assert sleep.delays == [1.0, 2.0]


def test_retry_after_as_http_date():
    now = [1_000_000.0]
    date = email.utils.formatdate(now[0] + 12, usegmt=True)
    assert parse_retry_after(date, now=now[0]) == 12.0
    assert parse_retry_after(email.utils.formatdate(now[0] - 50, usegmt=True), now=now[0]) == 0.0


@pytest.mark.parametrize("value, expected", [
    ("5", 5.0), (" 120 ", 120.0), ("0", 0.0), ("1.5", 1.5), (None, None), ("", None), ("soon", None),
    ("-3", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=2_000_000_000.0) == expected


def test_retry_after_longer_than_retry_max_delay_ends_the_retries():
    opener = FakeOpener(http_error(429, b"", "Too Many Requests", headers={"Retry-After": "120"}), b"{}")
    client, sleep = make_client(opener, retries=5, retry_max_delay=30)
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links", body={})
    assert err.value.status == 429
    assert "retry after 120 seconds, more than retry_max_delay (30)" in err.value.message
    assert sleep.delays == []
    assert len(opener.calls) == 1


def test_retries_stop_at_the_deadline():
    clock = [100.0]
    sleep = SleepRecorder()

    def sleeping(seconds):
        sleep(seconds)
        clock[0] += seconds

    opener = FakeOpener(http_error(503))
    client, dummy = make_client(opener, retries=10, deadline=110.0, clock=lambda: clock[0], sleep=sleeping)
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links/l1/mirrors:promote", body={})
    # 1 + 2 + 4 = 7 s waited; the next wait (8 s) would end after the deadline
    assert sleep.delays == [1.0, 2.0, 4.0]
    assert "after 3 retries" in err.value.message
    assert "timeout" in err.value.message
    assert client.retry_count == 3


def test_backoff_schedule_has_jitter_and_a_ceiling():
    assert [backoff_delay(a, 1.0, 30.0, 1.0) for a in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert [backoff_delay(a, 1.0, 30.0, 0.0) for a in range(7)] == [0.5, 1, 2, 4, 8, 15, 15]
    # a draw between 0 and 1 lands between half the ceiling and the ceiling
    assert backoff_delay(2, 1.0, 30.0, 0.5) == 3.0
    rng = random.Random(7)
    waits = [backoff_delay(3, 1.0, 30.0, rng.random()) for dummy in range(200)]
    assert all(4.0 <= w < 8.0 for w in waits)
    assert len(set(round(w, 3) for w in waits)) > 100  # spread out, not one value


def test_each_retry_is_counted_and_logged():
    lines = []
    opener = FakeOpener(http_error(429, headers={"Retry-After": "2"}), http_error(503), b"{}", http_error(500), b"{}")
    client, sleep = make_client(opener, retries=5, log=lines.append)
    client.cluster("POST", "/links/l1/mirrors", body={})
    client.cluster("GET", "/links")
    assert client.retry_count == 3
    assert client.request_count == 5
    assert lines == [
        "POST /kafka/v3/clusters/lkc-1/links/l1/mirrors: HTTP 429; retry 1 of 5 in 2 s (Retry-After: 2 s)",
        "POST /kafka/v3/clusters/lkc-1/links/l1/mirrors: HTTP 503; retry 2 of 5 in 2 s",
        "GET /kafka/v3/clusters/lkc-1/links: HTTP 500; retry 1 of 5 in 1 s",
    ]
    assert client.retry.lines == lines


@pytest.mark.parametrize("failure", [
    lambda: urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
    lambda: socket.timeout("timed out"),
    lambda: ConnectionResetError(104, "Connection reset by peer"),
], ids=["refused", "timeout", "reset"])
def test_get_retried_on_connection_errors(failure):
    opener = FakeOpener(failure(), b'{"data": []}')
    client, sleep = make_client(opener, retries=2, retry_backoff=0.25)
    assert client.cluster("GET", "/links") == {"data": []}
    assert len(opener.calls) == 2
    assert sleep.delays == [0.25]
    assert client.request_count == 2


def test_retries_zero_means_one_attempt():
    opener = FakeOpener(http_error(503))
    client, sleep = make_client(opener, retries=0)
    with pytest.raises(RestError):
        client.cluster("GET", "/links")
    assert len(opener.calls) == 1
    assert sleep.delays == []


def test_request_count_counts_every_attempt_across_requests():
    opener = FakeOpener(http_error(500), b"{}", b"{}", http_error(503), b"{}")
    client, dummy = make_client(opener, retries=3)
    client.cluster("GET", "/a")
    client.cluster("POST", "/b", body={})
    client.cluster("GET", "/c")
    assert client.request_count == 5
    assert len(opener.calls) == 5


# -- error messages --------------------------------------------------------------------------


def test_describe_error_formats():
    assert describe_error(400, 40002, "Topic 'x' already exists.") == "HTTP 400, error 40002: Topic 'x' already exists."
    assert describe_error(404, None, None) == "HTTP 404"
    assert describe_error(500, None, "boom") == "HTTP 500: boom"


def test_401_names_the_credential_options():
    opener = FakeOpener(http_error(401, json_body({"error_code": 40101, "message": "Authentication failed"})))
    client, dummy = make_client(opener, username="u", password="p")
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    message = err.value.message
    assert "rest_username" in message and "rest_password" in message
    assert "rest_token" in message
    assert "HTTP 401, error 40101: Authentication failed" in message
    assert "https://h:8090/kafka" in message
    assert err.value.status == 401
    assert err.value.error_code == 40101


def test_401_does_not_leak_the_password():
    opener = FakeOpener(http_error(401, b""))
    client, dummy = make_client(opener, username="user", password="Sup3rS3cret!")
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    assert "Sup3rS3cret!" not in err.value.message
    assert "Sup3rS3cret!" not in repr(err.value.to_result())


def test_403_says_permission():
    opener = FakeOpener(http_error(403, json_body({"error_code": 40301, "message": "denied"})))
    client, dummy = make_client(opener)
    with pytest.raises(RestError) as err:
        client.cluster("DELETE", "/links/l1")
    assert "permission" in err.value.message
    assert "DELETE https://h:8090/kafka/v3/clusters/lkc-1/links/l1" in err.value.message
    assert "HTTP 403, error 40301: denied" in err.value.message


def test_400_confluent_body_shows_status_code_and_message():
    body = json_body({"error_code": 40002, "message": "Topic 'x' already exists."})
    opener = FakeOpener(http_error(400, body, "Bad Request"))
    client, dummy = make_client(opener)
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links/l1/mirrors", body={"source_topic_name": "x"})
    exc = err.value
    assert exc.message == ("POST https://h:8090/kafka/v3/clusters/lkc-1/links/l1/mirrors failed: "
                           "HTTP 400, error 40002: Topic 'x' already exists.")
    assert str(exc) == exc.message
    assert exc.status == 400
    assert exc.error_code == 40002
    assert exc.method == "POST"
    assert exc.url == "https://h:8090/kafka/v3/clusters/lkc-1/links/l1/mirrors"
    assert exc.to_result() == dict(status=400, error_code=40002, url=exc.url, method="POST")


def test_html_429_body_is_ignored():
    html = b"<html><head><title>Error 429</title></head><body><h2>HTTP ERROR 429</h2></body></html>"
    opener = FakeOpener(http_error(429, html, "Too Many Requests", "text/html"))
    client, sleep = make_client(opener, retries=1)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    message = err.value.message
    assert "<" not in message and "html" not in message.lower()
    assert "HTTP 429: Too Many Requests" in message
    assert err.value.status == 429
    assert err.value.error_code is None
    assert len(opener.calls) == 2


def test_text_plain_body_is_shown():
    text = b"Unexpected character ('}' (code 125)): was expecting double-quote\n"
    opener = FakeOpener(http_error(400, text, "Bad Request", "text/plain"))
    client, dummy = make_client(opener)
    with pytest.raises(RestError) as err:
        client.cluster("PUT", "/links/l1/configs:alter", body={"data": []})
    assert err.value.message.endswith(
        "failed: HTTP 400: Unexpected character ('}' (code 125)): was expecting double-quote")
    assert err.value.error_code is None


def test_long_text_body_is_truncated():
    opener = FakeOpener(http_error(500, b"x" * 1000, "Server Error", "text/plain"))
    client, dummy = make_client(opener, retries=0)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    assert "x" * 300 in err.value.message
    assert "x" * 301 not in err.value.message


def test_empty_error_body_falls_back_to_reason():
    opener = FakeOpener(http_error(404, b"", "Not Found"))
    client, dummy = make_client(opener)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links/nope")
    assert err.value.message.endswith("failed: HTTP 404: Not Found")
    assert err.value.status == 404


def test_connection_refused_names_rest_url():
    opener = FakeOpener(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")))
    client, sleep = make_client(opener, base="http://h:8082", retries=2)
    with pytest.raises(RestError) as err:
        client.cluster("GET", "/links")
    message = err.value.message
    assert "rest_url" in message
    assert "http://h:8082" in message
    assert "Connection refused" in message
    assert err.value.status is None
    assert err.value.url == "http://h:8082/v3/clusters/lkc-1/links"
    assert len(opener.calls) == 3
    assert client.request_count == 3
    assert sleep.delays == [1.0, 2.0]


def test_connection_error_on_post_names_rest_url_without_retry():
    opener = FakeOpener(urllib.error.URLError("Name or service not known"))  # a configuration problem
    client, sleep = make_client(opener, base="https://nohost:8090/kafka")
    with pytest.raises(RestError) as err:
        client.cluster("POST", "/links", body={})
    assert "(rest_url)" in err.value.message
    assert "Name or service not known" in err.value.message
    assert "https://nohost:8090/kafka" in err.value.message
    assert len(opener.calls) == 1
    assert sleep.delays == []
