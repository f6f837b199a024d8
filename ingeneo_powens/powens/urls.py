"""Powens domain names and URL origins, and the hosts the add-on may send requests and browsers to.

Only Powens' own hosts are trusted: ``https://<name>.biapi.pro/2.0`` for the API and
``https://webview.powens.com`` for the webview. The server configuration may allow other hosts
(the local sandbox, an on-premise proxy) by name; anything else is refused, wherever the URL
comes from, because the API receives the client secret and the user tokens, and the webview
the bank credentials of whoever is sent there.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from . import const

# One DNS label: what Powens hands out as a domain name (``acme``, ``acme-sandbox``).
POWENS_DOMAIN_LABEL = re.compile(r'[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?')
# A host name as a server configuration may name it (IP addresses are checked as such).
CONFIGURED_HOST_NAME = re.compile(r'[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?')
DEFAULT_PORTS = {'http': 80, 'https': 443}


class HostNotAllowed(ValueError):
    """A Powens URL or domain that points outside Powens and the configured hosts."""


def domain_host(domain):
    """Return the full API host of a Powens domain: ``acme-sandbox`` → ``acme-sandbox.biapi.pro``.

    A value that already holds a dot (a full host, or a local sandbox ``127.0.0.1:8070``) is
    kept, without scheme or path.
    """
    domain = (domain or '').strip()
    if '://' in domain:
        domain = urlsplit(domain).netloc
    domain = domain.strip('/')
    if not domain:
        raise ValueError('A Powens domain is required')
    return domain if '.' in domain or ':' in domain else domain + const.API_HOST_SUFFIX


def api_url_for_domain(domain):
    """Return the API root of a Powens domain, e.g. ``https://acme.biapi.pro/2.0``."""
    return f'https://{domain_host(domain)}{const.API_VERSION_PATH}'


def origin(url):
    """Return (scheme, host, port) of a URL, the port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or '').lower(), port


def parse_allowed_hosts(value):
    """Return the host names a server configuration value allows besides Powens' own, e.g.
    ``"127.0.0.1, localhost"``; an entry that is not a bare host (a scheme, a port, a path)
    is a configuration mistake, refused rather than guessed."""
    hosts = set()
    for entry in re.split(r'[\s,]+', (value or '').strip().lower()):
        host = entry.removeprefix('[').removesuffix(']')
        if not host:
            continue
        if not (CONFIGURED_HOST_NAME.fullmatch(host) or _is_ip_address(host)):
            raise ValueError(f'{entry!r} is not a host name (no scheme, port nor path)')
        hosts.add(host)
    return frozenset(hosts)


def check_api_url(url, allowed_hosts=frozenset()):
    """Return ``url`` if the add-on may send Powens requests there, else raise HostNotAllowed.

    Powens' API is ``https://<name>.biapi.pro/2.0``, exactly; a configured host may use http
    or https, any port and any path."""
    host, parts = _split_strictly(url, 'API URL')
    if host in allowed_hosts:
        return url
    name = host.removesuffix(const.API_HOST_SUFFIX)
    if (
        host == name
        or not POWENS_DOMAIN_LABEL.fullmatch(name)
        or parts.scheme != 'https'
        or parts.port not in (None, DEFAULT_PORTS['https'])
        or parts.path.rstrip('/') != const.API_VERSION_PATH
    ):
        raise HostNotAllowed(
            f'The Powens API URL must be https://<domain>{const.API_HOST_SUFFIX}{const.API_VERSION_PATH}, not {url!r}'
        )
    return url


def check_webview_url(url, allowed_hosts=frozenset()):
    """Return ``url`` if the add-on may send browsers there, else raise HostNotAllowed.

    Powens' webview is ``https://webview.powens.com``, exactly (the flow and language are
    added to it); a configured host may use http or https, any port and any path."""
    host, parts = _split_strictly(url, 'webview URL')
    if host in allowed_hosts:
        return url
    if (
        parts.scheme != 'https'
        or host != urlsplit(const.DEFAULT_WEBVIEW_URL).hostname
        or parts.port not in (None, DEFAULT_PORTS['https'])
        or parts.path.rstrip('/')
    ):
        raise HostNotAllowed(f'The Powens webview URL must be {const.DEFAULT_WEBVIEW_URL}, not {url!r}')
    return url


def check_domain(domain, allowed_hosts=frozenset()):
    """Return ``domain`` if its API host is Powens' or a configured host, else raise
    HostNotAllowed (the domain is also handed to the webview, which calls that host)."""
    try:
        check_api_url(api_url_for_domain(domain), allowed_hosts)
    except HostNotAllowed:
        raise HostNotAllowed(
            f'The Powens domain must be a name such as "acme-sandbox" (the host '
            f'acme-sandbox{const.API_HOST_SUFFIX}), not {domain!r}'
        ) from None
    return domain


def _split_strictly(url, what):
    """Split ``url`` and return its lowercased host with the parts, refusing anything a URL
    parser could read in two ways: characters outside printable ASCII, whitespace or
    backslashes, credentials before the host, an empty or invalid port, a trailing dot, a
    query or a fragment."""
    if not url or not url.isascii() or not url.isprintable() or any(char in url for char in ' \\'):
        raise HostNotAllowed(f'The Powens {what} {url!r} is not a plain URL')
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise HostNotAllowed(f'The Powens {what} {url!r} has an invalid port') from None
    host = parts.hostname
    if not host or parts.scheme not in DEFAULT_PORTS or parts.query or parts.fragment:
        raise HostNotAllowed(f'The Powens {what} {url!r} is not a plain http(s) URL')
    bracketed = f'[{host}]' if ':' in host else host
    if parts.netloc.lower() != (f'{bracketed}:{port}' if port is not None else bracketed) or host.endswith('.'):
        raise HostNotAllowed(f'The Powens {what} {url!r} must name its host plainly, without credentials')
    return host, parts


def _is_ip_address(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
