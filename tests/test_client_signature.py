"""Webhook authentication (§7.4): HMAC signature with a date window, failing closed."""

import base64
import datetime
import hashlib
import hmac

import pytest
from powens.errors import WebhookSignatureError
from powens.signature import (
    sign_webhook,
    signed_message,
    verify_webhook_bearer,
    verify_webhook_signature,
)

SECRET = 'whsec-test-secret'
PATH = '/powens/webhook/connection_synced'
DATE = '2022-06-27T11:08:52.577831Z'
SIGNED_AT = datetime.datetime(2022, 6, 27, 11, 8, 52, 577831, tzinfo=datetime.UTC)
BODY = b'{"id_webhook_data": 1, "connection": {"id": 4521}}'


def verify(**overrides):
    arguments = {
        'secret': SECRET,
        'path': PATH,
        'date_header': DATE,
        'signature_header': sign_webhook(SECRET, PATH, DATE, BODY),
        'raw_body': BODY,
        'now': SIGNED_AT + datetime.timedelta(seconds=3),
    }
    arguments.update(overrides)
    return verify_webhook_signature(
        arguments.pop('secret'),
        arguments.pop('path'),
        arguments.pop('date_header'),
        arguments.pop('signature_header'),
        arguments.pop('raw_body'),
        **arguments,
    )


def test_signature_matches_the_documented_construction():
    """Computed independently from the doc's formula, not through the module."""
    message = b'POST.' + PATH.encode() + b'.' + DATE.encode() + b'.' + BODY
    expected = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    assert signed_message(PATH, DATE, BODY) == message
    assert sign_webhook(SECRET, PATH, DATE, BODY) == expected.decode()


def test_good_signature_is_accepted():
    assert verify() == SIGNED_AT


def test_good_signature_with_naive_now_taken_as_utc():
    assert verify(now=SIGNED_AT.replace(tzinfo=None)) == SIGNED_AT


@pytest.mark.parametrize(
    'tampered',
    [
        {'raw_body': BODY.replace(b'4521', b'4522')},
        {'path': '/powens/webhook/other'},
        {'secret': 'another-secret'},
        {'signature_header': sign_webhook(SECRET, PATH, DATE, BODY + b' ')},
    ],
)
def test_tampered_delivery_is_refused(tampered):
    with pytest.raises(WebhookSignatureError, match='mismatch'):
        verify(**tampered)


def test_signature_of_another_date_is_refused():
    other_date = '2022-06-27T11:08:53Z'
    with pytest.raises(WebhookSignatureError, match='mismatch'):
        verify(date_header=other_date, now=SIGNED_AT, signature_header=sign_webhook(SECRET, PATH, DATE, BODY))


@pytest.mark.parametrize('offset_minutes', [-6, 6, -600, 600])
def test_date_outside_tolerance_is_refused_both_ways(offset_minutes):
    with pytest.raises(WebhookSignatureError, match='window'):
        verify(now=SIGNED_AT + datetime.timedelta(minutes=offset_minutes))


def test_date_inside_a_custom_tolerance_is_accepted():
    assert verify(now=SIGNED_AT + datetime.timedelta(minutes=9), tolerance=datetime.timedelta(minutes=10)) == SIGNED_AT


@pytest.mark.parametrize(
    'missing, reason',
    [
        ({'secret': None}, 'no webhook secret'),
        ({'secret': ''}, 'no webhook secret'),
        ({'date_header': None}, 'missing BI-Signature-Date'),
        ({'date_header': ''}, 'missing BI-Signature-Date'),
        ({'signature_header': None}, 'missing BI-Signature header'),
        ({'raw_body': None}, 'raw request body'),
        ({'raw_body': BODY.decode()}, 'raw request body'),
    ],
)
def test_missing_input_fails_closed(missing, reason):
    with pytest.raises(WebhookSignatureError, match=reason):
        verify(**missing)


@pytest.mark.parametrize('date_header', ['yesterday', '27/06/2022 11:08', b'\xff\xfe'])
def test_unreadable_date_is_refused(date_header):
    with pytest.raises(WebhookSignatureError, match='unreadable'):
        verify(date_header=date_header)


@pytest.mark.parametrize('signature_header', ['not base64 !', 'abc', '7RhJ*qR2'])
def test_bad_base64_is_refused(signature_header):
    with pytest.raises(WebhookSignatureError, match='base64'):
        verify(signature_header=signature_header)


def test_error_never_shows_the_secret():
    with pytest.raises(WebhookSignatureError) as caught:
        verify(secret=SECRET, signature_header=sign_webhook('x', PATH, DATE, BODY))
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_bearer_check():
    verify_webhook_bearer('user-token', 'Bearer user-token')
    with pytest.raises(WebhookSignatureError, match='mismatch'):
        verify_webhook_bearer('user-token', 'Bearer other')
    with pytest.raises(WebhookSignatureError, match='missing bearer'):
        verify_webhook_bearer('user-token', None)
    with pytest.raises(WebhookSignatureError, match='no user token'):
        verify_webhook_bearer('', 'Bearer ')
