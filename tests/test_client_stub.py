"""Client behaviour the sandbox cannot produce, against a scripted local HTTP server.

Covered here only: Retry-After as an HTTP date or beyond the cap, links to another origin,
legacy answer shapes (no ``_links``, ``{"banks": [...]}``), error bodies that are not JSON,
redirects, and a server that is not listening at all.
"""

import email.utils
import http.server
import json
import socket
import threading
import time

import pytest
from powens import errors
from powens.client import PowensClient
from test_client_api import transactions_of


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body); records requests."""

    def __init__(self):
        self.script = []
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self._answer()

            do_POST = do_PUT = do_DELETE = do_GET

            def _answer(self):
                length = int(self.headers.get('Content-Length') or 0)
                owner.requests.append(
                    {
                        'method': self.command,
                        'path': self.path,
                        'headers': dict(self.headers),
                        'body': self.rfile.read(length),
                    }
                )
                status, headers, body = owner.script.pop(0) if owner.script else (404, {}, b'')
                body = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_port}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub():
    server = ScriptedServer()
    yield server
    server.close()


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(stub, waits):
    return PowensClient(stub.url + '/2.0', token='user-token', sleep=waits.append, backoff=0.5)


def transactions_page(ids, next_href=None, with_links=True):
    page = {'transactions': [{'id': i, 'value': -1.5} for i in ids]}
    if with_links:
        page['_links'] = {'self': None, 'prev': None, 'next': {'href': next_href} if next_href else None}
    return page


def test_retry_after_http_date_is_honoured(stub, client, waits):
    later = email.utils.formatdate(time.time() + 4, usegmt=True)
    stub.script = [(429, {'Retry-After': later}, {'code': 'tooManyRequests'}), (200, {}, {'id': 1})]
    assert client.get_me() == {'id': 1}
    assert len(waits) == 1 and 2 <= waits[0] <= 4


def test_retry_after_beyond_cap_fails_at_once(stub, client, waits):
    stub.script = [(429, {'Retry-After': '3600'}, {'code': 'tooManyRequests'})]
    with pytest.raises(errors.PowensRateLimited) as caught:
        client.get_me()
    assert caught.value.retry_after == 3600 and waits == []
    assert len(stub.requests) == 1


def test_429_without_retry_after_backs_off_exponentially(stub, client, waits):
    stub.script = [(429, {}, b'')] * 4
    with pytest.raises(errors.PowensRateLimited):
        client.get_me()
    assert waits == [0.5, 1.0, 2.0] and len(stub.requests) == 4


def test_next_link_to_another_origin_never_leaves_the_configured_origin(stub, client):
    """The link's path is re-based on the configured API root: the token stays there."""
    other = ScriptedServer()
    try:
        stub.script = [
            (200, {}, transactions_page([3, 2], next_href=other.url + '/2.0/steal?c=1')),
            (200, {}, transactions_page([1])),
        ]
        assert [row['id'] for row in transactions_of(client, limit=2)] == [3, 2, 1]
        assert other.requests == []
        assert stub.requests[1]['path'] == '/2.0/steal?c=1'
    finally:
        other.close()


def test_next_link_outside_any_api_root_is_refused(stub, client):
    other = ScriptedServer()
    try:
        stub.script = [(200, {}, transactions_page([3, 2], next_href=other.url + '/login?c=1'))]
        rows = transactions_of(client, limit=2)
        assert [next(rows)['id'], next(rows)['id']] == [3, 2]
        with pytest.raises(errors.PowensBadResponse, match='outside the API'):
            next(rows)
        assert other.requests == [] and len(stub.requests) == 1
    finally:
        other.close()


@pytest.mark.parametrize(
    'powens_link',
    [
        'https://acme.biapi.pro/2.0/users/me/accounts/7/transactions?limit=2&cursor=W3sib3AiXQ%3D%3D',
        '{stub}/2.0/users/me/accounts/7/transactions?limit=2&cursor=W3sib3AiXQ%3D%3D',
    ],
)
def test_next_link_is_followed_through_a_proxy_with_a_path(stub, waits, powens_link):
    """The API reached through a proxy at <origin>/powens/2.0: Powens writes its links on its own
    host (documented example: https://{domain}.biapi.pro/2.0/...), or a proxy keeps its host but
    drops its path; either way the next page is asked of the configured root."""
    client = PowensClient(stub.url + '/powens/2.0', token='user-token', sleep=waits.append)
    stub.script = [
        (200, {}, transactions_page([3, 2], next_href=powens_link.format(stub=stub.url))),
        (200, {}, transactions_page([1])),
    ]
    assert [row['id'] for row in transactions_of(client, 7, limit=2)] == [3, 2, 1]
    assert stub.requests[1]['path'] == ('/powens/2.0/users/me/accounts/7/transactions?limit=2&cursor=W3sib3AiXQ%3D%3D')


def test_next_link_is_used_as_given_with_the_token(stub, client):
    stub.script = [
        (200, {}, transactions_page([3, 2], next_href=stub.url + '/2.0/opaque?c=x')),
        (200, {}, transactions_page([1])),
    ]
    assert [row['id'] for row in transactions_of(client, limit=2)] == [3, 2, 1]
    assert stub.requests[1]['path'] == '/2.0/opaque?c=x'
    assert stub.requests[1]['headers']['Authorization'] == 'Bearer user-token'


def test_paging_without_links_falls_back_to_offset(stub, client):
    stub.script = [
        (200, {}, transactions_page([5, 4], with_links=False)),
        (200, {}, transactions_page([3, 2], with_links=False)),
        (200, {}, transactions_page([1], with_links=False)),
    ]
    assert [row['id'] for row in transactions_of(client, 7, limit=2)] == [5, 4, 3, 2, 1]
    paths = [request['path'] for request in stub.requests]
    assert paths[0] == '/2.0/users/me/accounts/7/transactions?limit=2&all'
    assert 'offset=2' in paths[1] and 'offset=4' in paths[2]


def test_a_page_served_twice_stops_the_loop(stub, client):
    stub.script = [
        (200, {}, transactions_page([2, 1], next_href=stub.url + '/2.0/p2')),
        (200, {}, transactions_page([2, 1], next_href=stub.url + '/2.0/p3')),
    ]
    with pytest.raises(errors.PowensBadResponse, match='twice'):
        list(transactions_of(client, limit=2))


def test_non_json_error_body_is_typed_by_status(stub, client, waits):
    stub.script = [(502, {'Content-Type': 'text/html'}, b'<html>Bad gateway</html>')] * 4
    with pytest.raises(errors.PowensServerError) as caught:
        client.get_me()
    assert caught.value.http_status == 502 and caught.value.code is None
    assert len(waits) == 3


def test_error_with_camel_case_request_id(stub, client):
    stub.script = [(401, {}, {'code': 'invalidToken', 'description': 'Bad token', 'requestId': 'abc-1'})]
    with pytest.raises(errors.PowensAuthError) as caught:
        client.get_me()
    assert caught.value.request_id == 'abc-1' and caught.value.description == 'Bad token'


def test_redirects_are_not_followed(stub, client):
    stub.script = [(302, {'Location': 'http://example.invalid/'}, b'')]
    with pytest.raises(errors.PowensError) as caught:
        client.get_me()
    assert caught.value.http_status == 302 and len(stub.requests) == 1


def test_legacy_connector_list_shapes(stub, client):
    connectors = [
        {'name': 'Connecteur de test', 'capabilities': ['bank', 'document']},
        {'name': 'Autre banque', 'capabilities': ['document']},
    ]
    stub.script = [(200, {}, {'banks': connectors}), (200, {}, connectors)]
    assert client.list_connectors(capabilities='bank') == connectors[:1]
    assert client.list_connectors(search='AUTRE') == connectors[1:]
    assert 'Authorization' not in stub.requests[0]['headers']


def test_post_is_resent_when_it_never_left(waits):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    client = PowensClient(
        f'http://127.0.0.1:{port}/2.0', client_id='1', client_secret='s', sleep=waits.append, max_retries=2
    )
    with pytest.raises(errors.PowensConnectionError):
        client.init_user()
    assert waits == [1.0, 2.0]
