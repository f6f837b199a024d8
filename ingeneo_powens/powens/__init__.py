"""Pure-Python client of the Powens API (no ORM), importable with or without Odoo."""

from .client import PowensClient
from .errors import (
    PowensAuthError,
    PowensBadResponse,
    PowensConnectionError,
    PowensError,
    PowensNoAccount,
    PowensNotFound,
    PowensRateLimited,
    PowensServerError,
    PowensTimeout,
    PowensWrongPass,
    WebhookSignatureError,
    WebviewError,
)

__all__ = [
    'PowensAuthError',
    'PowensBadResponse',
    'PowensClient',
    'PowensConnectionError',
    'PowensError',
    'PowensNoAccount',
    'PowensNotFound',
    'PowensRateLimited',
    'PowensServerError',
    'PowensTimeout',
    'PowensWrongPass',
    'WebhookSignatureError',
    'WebviewError',
]
