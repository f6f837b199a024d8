"""The hosts the add-on may send Powens requests and browsers to: Powens' own, exactly, and the
hosts the server configuration names; every way of disguising another host is refused."""

import pytest
from powens.urls import (
    HostNotAllowed,
    check_api_url,
    check_domain,
    check_webview_url,
    parse_allowed_hosts,
)

SANDBOX_HOSTS = frozenset({'127.0.0.1', 'localhost'})


@pytest.mark.parametrize(
    'url',
    [
        'https://ingeneo.biapi.pro/2.0',
        'https://ingeneo-sandbox.biapi.pro/2.0/',
        'https://ingeneo.biapi.pro:443/2.0',
        'HTTPS://INGENEO.BIAPI.PRO/2.0',  # host names are case-insensitive: the same host
    ],
)
def test_powens_api_urls_are_allowed_without_configuration(url):
    assert check_api_url(url) == url


@pytest.mark.parametrize(
    'url',
    [
        'https://attacker.example/2.0',
        'http://ingeneo.biapi.pro/2.0',  # the secrets would travel in clear
        'https://ingeneo.biapi.pro:8443/2.0',  # another service on Powens' host
        'https://ingeneo.biapi.pro/3.0',
        'https://ingeneo.biapi.pro/2.0/../../evil',
        'https://ingeneo.biapi.pro/2.0?next=https://evil',
        'https://ingeneo.biapi.pro/2.0#x',
        'https://ingeneo.biapi.pro@attacker.example/2.0',  # credentials, then the real host
        'https://attacker.example\\@ingeneo.biapi.pro/2.0',  # parsers disagree on the backslash
        'https://ingeneo.biapi.pro.attacker.example/2.0',
        'https://attacker.example/ingeneo.biapi.pro/2.0',
        'https://attacker.example?.biapi.pro/2.0',
        'https://a.b.biapi.pro/2.0',  # Powens domains are one label
        'https://-x.biapi.pro/2.0',
        'https://.biapi.pro/2.0',
        'https://biapi.pro/2.0',
        'https://ingeneo.biapi.pro./2.0',  # trailing dot
        'https://ingeneo.biapi.pro:/2.0',  # empty port
        'https://ingeneo.biapi.pro:99999/2.0',
        'https://ingeneo.bіapi.pro/2.0',  # Cyrillic і
        'https://ingeneo%2ebiapi.pro/2.0',
        'https://ingeneo.biapi.pro/2.0\n',
        ' https://ingeneo.biapi.pro/2.0',
        'https://ingeneo.bi\tapi.pro/2.0',
        'ftp://ingeneo.biapi.pro/2.0',
        '//ingeneo.biapi.pro/2.0',
        'ingeneo.biapi.pro/2.0',
        'https://127.0.0.1:8070/2.0',  # not configured here
        'http://localhost/2.0',
        '',
    ],
)
def test_other_api_urls_are_refused_without_configuration(url):
    with pytest.raises(HostNotAllowed):
        check_api_url(url)


@pytest.mark.parametrize(
    'url',
    ['http://127.0.0.1:8070/2.0', 'https://127.0.0.1/2.0', 'http://localhost:8070/any/path', 'http://LOCALHOST:1/2.0'],
)
def test_configured_hosts_are_allowed_with_any_scheme_port_and_path(url):
    assert check_api_url(url, SANDBOX_HOSTS) == url
    assert check_webview_url(url, SANDBOX_HOSTS) == url


@pytest.mark.parametrize(
    'url',
    [
        'http://127.0.0.1.attacker.example/2.0',
        'http://127.0.0.1@attacker.example/2.0',
        'http://localhost.:8070/2.0',
        'http://127.0.0.1:8070/2.0?x=1',
        'http://[::1]:8070/2.0',  # not named by the configuration
        'http://127.0.0.2:8070/2.0',
    ],
)
def test_configured_hosts_cannot_be_disguised(url):
    with pytest.raises(HostNotAllowed):
        check_api_url(url, SANDBOX_HOSTS)
    with pytest.raises(HostNotAllowed):
        check_webview_url(url, SANDBOX_HOSTS)


@pytest.mark.parametrize(
    'url', ['https://webview.powens.com', 'https://webview.powens.com/', 'https://WebView.Powens.com']
)
def test_powens_webview_is_allowed_without_configuration(url):
    assert check_webview_url(url) == url


@pytest.mark.parametrize(
    'url',
    [
        'http://webview.powens.com',
        'https://webview.powens.com:8443',
        'https://webview.powens.com/phishing',
        'https://webview.powens.com.attacker.example',
        'https://webview.powens.com@attacker.example',
        'https://attacker.example/webview.powens.com',
        'https://powens.com',
        'https://ingeneo.biapi.pro/2.0',
        'https://127.0.0.1:8070',
    ],
)
def test_other_webview_urls_are_refused_without_configuration(url):
    with pytest.raises(HostNotAllowed):
        check_webview_url(url)


@pytest.mark.parametrize('domain', ['ingeneo', 'ingeneo-sandbox', ' ingeneo ', 'ingeneo.biapi.pro', 'INGENEO'])
def test_powens_domains_are_allowed(domain):
    assert check_domain(domain) == domain


@pytest.mark.parametrize(
    'domain',
    [
        'attacker.example',
        'ingeneo.biapi.pro@attacker.example',
        'ingeneo.biapi.pro.attacker.example',
        'attacker.example/x',
        'https://attacker.example/2.0',
        'ingeneo.biapi.pro:8443',
        '127.0.0.1:8070',
        'in geneo',
    ],
)
def test_other_domains_are_refused(domain):
    with pytest.raises(HostNotAllowed):
        check_domain(domain)


def test_a_configured_host_may_serve_as_domain():
    """The local sandbox may be named by its address as well."""
    assert check_domain('127.0.0.1:8070', SANDBOX_HOSTS) == '127.0.0.1:8070'


@pytest.mark.parametrize(
    'value, hosts',
    [
        (None, set()),
        ('', set()),
        ('127.0.0.1,localhost', SANDBOX_HOSTS),
        (' 127.0.0.1 , LOCALHOST ', SANDBOX_HOSTS),
        ('proxy.example.com [::1]', {'proxy.example.com', '::1'}),
    ],
)
def test_allowed_hosts_are_read_from_the_configuration(value, hosts):
    assert parse_allowed_hosts(value) == hosts


@pytest.mark.parametrize(
    'value', ['http://127.0.0.1', '127.0.0.1:8070', 'proxy.example/2.0', 'user@proxy', '*.example.com']
)
def test_a_configuration_entry_that_is_not_a_host_is_refused(value):
    with pytest.raises(ValueError):
        parse_allowed_hosts(value)
