"""Powens domain names and URL origins."""
from urllib.parse import urlsplit

from . import const


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
    port = parts.port or {'http': 80, 'https': 443}.get(scheme)
    return scheme, (parts.hostname or '').lower(), port
