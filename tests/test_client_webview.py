"""Webview URL builders and callback parsing (§3)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from powens.client import PowensClient
from powens.errors import WebviewError
from powens.webview import (
    build_connect_url,
    build_manage_url,
    build_reconnect_url,
    parse_callback,
)

WEBVIEW = 'https://webview.powens.com'
COMMON = {
    'webview_url': WEBVIEW,
    'domain': 'acme-sandbox',
    'client_id': '10000001',
    'redirect_uri': 'https://erp.example/powens/callback',
}


def split(url):
    parts = urlsplit(url)
    return f'{parts.scheme}://{parts.netloc}{parts.path}', {
        key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
    }


def test_connect_url_has_documented_shape():
    base, query = split(
        build_connect_url(
            **COMMON,
            code='tmp-code',
            state='opaque state/1',
            lang='fr',
            connector_uuids=['u1', 'u2'],
            connector_capabilities=['bank'],
            account_types=['checking', 'card'],
            max_connections=2,
            prefill={'u1.website': 'pro'},
        )
    )
    assert base == 'https://webview.powens.com/fr/connect'
    assert query == {
        'domain': 'acme-sandbox.biapi.pro',
        'client_id': '10000001',
        'redirect_uri': 'https://erp.example/powens/callback',
        'code': 'tmp-code',
        'state': 'opaque state/1',
        'connector_uuids': 'u1,u2',
        'connector_capabilities': 'bank',
        'account_types': 'checking,card',
        'max_connections': '2',
        'u1.website': 'pro',
    }


def test_connect_url_without_code_nor_language_is_in_english():
    base, query = split(
        build_connect_url(**dict(COMMON, domain='acme.biapi.pro', webview_url='http://127.0.0.1:8070/'))
    )
    assert base == 'http://127.0.0.1:8070/en/connect'
    assert set(query) == {'domain', 'client_id', 'redirect_uri'}
    assert query['domain'] == 'acme.biapi.pro'


def test_reconnect_url():
    base, query = split(
        build_reconnect_url(
            **COMMON, code='c', connection_id=4521, state='s', reset_credentials=True, connection_sources=['openapi']
        )
    )
    assert base == 'https://webview.powens.com/en/reconnect'
    assert query['connection_id'] == '4521'
    assert query['reset_credentials'] == 'true'
    assert query['connection_sources'] == 'openapi'
    _, query = split(build_reconnect_url(**COMMON, code='c', connection_id='7'))
    assert 'reset_credentials' not in query and query['connection_id'] == '7'


def test_manage_url_redirect_is_optional():
    base, query = split(
        build_manage_url(webview_url=WEBVIEW, domain='acme', client_id=10000001, code='c', connection_id=3, lang='en')
    )
    assert base == 'https://webview.powens.com/en/manage'
    assert query == {'domain': 'acme.biapi.pro', 'client_id': '10000001', 'code': 'c', 'connection_id': '3'}


@pytest.mark.parametrize(
    'redirect_uri',
    [
        'https://erp.example/cb?journal=3',
        'https://erp.example/cb?',
        'https://erp.example/cb#x',
        '/powens/callback',
        'erp.example/cb',
        'ftp://erp.example/cb',
        '',
    ],
)
def test_redirect_uri_with_query_or_relative_is_refused(redirect_uri):
    with pytest.raises(WebviewError):
        build_connect_url(**dict(COMMON, redirect_uri=redirect_uri))


@pytest.mark.parametrize(
    'lang, served',
    [
        ('fr', 'fr'),
        ('fr_FR', 'fr'),
        ('de_CH', 'de'),
        ('pt_BR', 'pt'),
        ('ES', 'es'),
        ('nl-BE', 'nl'),
        ('pl', 'en'),
        ('pl_PL', 'en'),
        ('ar_001', 'en'),
        ('ja_JP', 'en'),
        ('sr@latin', 'en'),
        ('xx', 'en'),
        ('', 'en'),
        (None, 'en'),
    ],
)
def test_every_flow_names_a_language_the_webview_serves(lang, served):
    """Powens serves en, fr, de, nl, pt, it, es; any other user language gets English, and the
    path always carries one (a path without it met a CDN error in production clients)."""
    urls = (
        build_connect_url(**COMMON, lang=lang),
        build_reconnect_url(**COMMON, code='c', connection_id=1, lang=lang),
        build_manage_url(webview_url=WEBVIEW, domain='acme', client_id=1, code='c', lang=lang),
    )
    assert [split(url)[0] for url in urls] == [
        f'https://webview.powens.com/{served}/{flow}' for flow in ('connect', 'reconnect', 'manage')
    ]


@pytest.mark.parametrize(
    'bad',
    [
        {'client_id': 'abc'},
        {'client_id': None},
        {'max_connections': 0},
        {'max_connections': True},
        {'max_connections': '2'},
    ],
)
def test_connect_url_refuses_bad_parameters(bad):
    with pytest.raises(WebviewError):
        build_connect_url(**dict(COMMON, **bad))


@pytest.mark.parametrize('connection_id', [0, -1, 'abc', True, None])
def test_reconnect_refuses_bad_connection_id(connection_id):
    with pytest.raises(WebviewError):
        build_reconnect_url(**COMMON, code='c', connection_id=connection_id)


def test_reconnect_and_manage_need_a_code():
    with pytest.raises(WebviewError):
        build_reconnect_url(**COMMON, code=None, connection_id=1)
    with pytest.raises(WebviewError):
        build_manage_url(**COMMON, code='')


def test_callback_connect_success_single():
    result = parse_callback({'connection_id': '4521', 'state': 'abc'})
    assert result.ok and not result.cancelled
    assert result.connection_ids == (4521,) and result.connection_id == 4521
    assert result.state == 'abc' and result.code is None


def test_callback_connect_success_several_ids_and_code():
    result = parse_callback(
        {'connection_id': ['4521'], 'connection_ids': ['4521,4522, 4523'], 'code': 'anon-code', 'state': ['abc']}
    )
    assert result.connection_ids == (4521, 4522, 4523)
    assert result.code == 'anon-code'
    assert 'anon-code' not in repr(result)


def test_callback_only_connection_ids():
    assert parse_callback({'connection_ids': '12,13'}).connection_ids == (12, 13)


def test_callback_accepts_werkzeug_style_multidict():
    class MultiDict(dict):
        def getlist(self, key):
            return {'connection_id': ['5', '6'], 'state': ['s']}.get(key, [])

    result = parse_callback(MultiDict(connection_id='5', state='s'))
    assert result.connection_ids == (5, 6) and result.state == 's'


@pytest.mark.parametrize(
    'query',
    [
        {'state': 'abc'},
        {'connection_id': 'abc'},
        {'connection_ids': '12,x'},
        {'connection_id': '0'},
        {'connection_id': '-3'},
    ],
)
def test_callback_connect_malformed_success_is_refused(query):
    with pytest.raises(WebviewError):
        parse_callback(query)


@pytest.mark.parametrize('flow', ['reconnect', 'manage'])
def test_callback_reconnect_and_manage_success_carry_only_state(flow):
    result = parse_callback({'state': 'abc'}, flow=flow)
    assert result.ok and result.connection_ids == () and result.state == 'abc'
    assert result.flow == flow


def test_callback_manage_optional_sdk_fields():
    result = parse_callback({'state': 's', 'connection_id': '9', 'connection_deleted': 'true'}, flow='manage')
    assert result.connection_ids == (9,) and result.connection_deleted is True


def test_callback_error_known():
    result = parse_callback(
        {'error': 'access_denied', 'error_description': 'User cancelled', 'state': 'abc', 'connection_id': 'junk'}
    )
    assert not result.ok and result.cancelled and result.known_error
    assert result.error_description == 'User cancelled' and result.state == 'abc'
    assert result.connection_ids == ()


def test_callback_error_unknown_is_generic():
    result = parse_callback({'error': 'brand_new_error', 'state': 'abc'}, flow='reconnect')
    assert not result.ok and not result.known_error and not result.cancelled
    assert result.error == 'brand_new_error'


def test_callback_unknown_flow_is_refused():
    with pytest.raises(WebviewError):
        parse_callback({'state': 's'}, flow='payment')


def test_built_urls_are_accepted_by_the_sandbox_webview(sandbox):
    user = PowensClient(sandbox.api_url, token=sandbox.control('POST', '/_sandbox/users')['auth_token'])
    common = {
        'webview_url': sandbox.webview_url,
        'domain': '127.0.0.1',
        'client_id': sandbox.client_id,
        'state': 'opaque',
        'redirect_uri': 'http://127.0.0.1:9/powens/callback',
    }
    urls = [
        build_connect_url(**common, code=user.get_temporary_code()['code'], lang='fr'),
        build_manage_url(**common, code=user.get_temporary_code()['code']),
    ]
    for url in urls:
        response = requests.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 200, (url, response.status_code)
    broken = urls[0].replace(f'client_id={sandbox.client_id}', 'client_id=1')
    assert requests.get(broken, allow_redirects=False, timeout=10).status_code != 200
