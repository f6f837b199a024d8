"""Masking of tokens and secrets before anything reaches a log.

The client masks what it logs itself; :class:`SecretMaskingFilter` is a second line of defence
that any logger or handler can carry (the client installs it on its own logger).
"""

import logging
import re

from . import const

_KEY_PATTERN = (
    r'(?:[\w-]*(?:' + '|'.join(re.escape(f) for f in const.SENSITIVE_KEY_FRAGMENTS) + r')[\w-]*'
    r'|' + '|'.join(re.escape(k) for k in sorted(const.SENSITIVE_KEYS, key=len, reverse=True)) + r')'
)
# "key": "value" in JSON, 'key': 'value' in a Python repr.
_QUOTED_PAIR = re.compile(
    r'''(?P<q>["'])(?P<key>''' + _KEY_PATTERN + r''')(?P=q)(?P<sep>\s*:\s*)'''
    r'''(?P<vq>["'])(?:\\.|(?!(?P=vq)).)*(?P=vq)''',
    re.IGNORECASE,
)
# key=value in a query string or a form body.
_QUERY_PAIR = re.compile(r'(?<![\w-])(?P<key>' + _KEY_PATTERN + r')=(?P<value>[^&\s#"\',;]+)', re.IGNORECASE)
# Header lines such as "Authorization: Bearer abc" or "BI-Signature: xyz".
_HEADER_LINE = re.compile(
    r'(?<![\w-])(?P<key>authorization|bi-signature)(?P<sep>\s*:\s*)'
    r'(?:(?:bearer|basic)\s+)?[^\s"\',;}&]+',
    re.IGNORECASE,
)
_BEARER = re.compile(r'\bBearer\s+[^\s"\',}]+', re.IGNORECASE)


def is_sensitive_key(key):
    """Tell whether a mapping key or parameter name holds a secret."""
    if not isinstance(key, str):
        return False
    key = key.lower()
    return key in const.SENSITIVE_KEYS or any(f in key for f in const.SENSITIVE_KEY_FRAGMENTS)


def mask(value):
    """Return a copy of ``value`` (mapping, list, URL, query string, JSON text...) where every
    secret is replaced by a mask. Other values are returned unchanged."""
    if isinstance(value, dict):
        return {k: const.MASK if is_sensitive_key(k) else mask(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask(item) for item in value)
    if isinstance(value, bytes):
        return mask(value.decode('utf-8', 'replace'))
    if isinstance(value, str):
        return _mask_text(value)
    return value


def _mask_text(text):
    text = _QUOTED_PAIR.sub(lambda m: f'{m["q"]}{m["key"]}{m["q"]}{m["sep"]}{m["vq"]}{const.MASK}{m["vq"]}', text)
    text = _QUERY_PAIR.sub(lambda m: f'{m["key"]}={const.MASK}', text)
    text = _HEADER_LINE.sub(lambda m: f'{m["key"]}{m["sep"]}{const.MASK}', text)
    return _BEARER.sub(f'Bearer {const.MASK}', text)


class SecretMaskingFilter(logging.Filter):
    """Mask secrets in a record's message and arguments; never drops a record."""

    def filter(self, record):
        if record.args:
            if isinstance(record.args, dict):
                record.args = mask(record.args)
            else:
                record.args = tuple(mask(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _mask_text(record.msg)
        return True
