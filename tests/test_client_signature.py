"""Webhook authentication (§7.4): HMAC signature with a date window, failing closed."""

import base64
import datetime
import hashlib
import hmac

import pytest
from powens.errors import WebhookSignatureError
from powens.signature import SignatureCheck, check_signature_date, sign_webhook, signed_message

SECRET = 'whsec-test-secret'
PATH = '/powens/webhook/connection_synced'
DATE = '2022-06-27T11:08:52.577831Z'
SIGNED_AT = datetime.datetime(2022, 6, 27, 11, 8, 52, 577831, tzinfo=datetime.UTC)
BODY = b'{"id_webhook_data": 1, "connection": {"id": 4521}}'
TOLERANCE = datetime.timedelta(minutes=5)


def matching(secrets=(SECRET,), path=PATH, date_header=DATE, signature_header=None, raw_body=BODY):
    """The secrets among ``secrets`` that verify the delivery, as the webhook route checks it."""
    check = SignatureCheck(secrets, path, date_header, signature_header or sign_webhook(SECRET, PATH, DATE, BODY))
    check.update_as_sent(raw_body)
    return check.matching_secrets()


def signature_date(date_header=DATE, signature_header='signature', now=SIGNED_AT, tolerance=TOLERANCE):
    return check_signature_date(date_header, signature_header, max_age=tolerance, max_ahead=tolerance, now=now)


def test_signature_matches_the_documented_construction():
    """Computed independently from the doc's formula, not through the module."""
    message = b'POST.' + PATH.encode() + b'.' + DATE.encode() + b'.' + BODY
    expected = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    assert signed_message(PATH, DATE, BODY) == message
    assert sign_webhook(SECRET, PATH, DATE, BODY) == expected.decode()


def test_good_signature_is_accepted():
    assert matching() == {SECRET}
    assert signature_date(now=SIGNED_AT + datetime.timedelta(seconds=3)) == SIGNED_AT


def test_good_signature_with_naive_now_taken_as_utc():
    assert signature_date(now=SIGNED_AT.replace(tzinfo=None)) == SIGNED_AT


def test_only_the_secrets_that_signed_match():
    """Each configured secret is tried: the one that signed matches, the others do not."""
    assert matching(secrets=('another-secret', SECRET, 'a-third-secret')) == {SECRET}


@pytest.mark.parametrize(
    'tampered',
    [
        {'raw_body': BODY.replace(b'4521', b'4522')},
        {'path': '/powens/webhook/other'},
        {'secrets': ('another-secret',)},
        {'signature_header': sign_webhook(SECRET, PATH, DATE, BODY + b' ')},
        {'date_header': '2022-06-27T11:08:53Z'},
    ],
)
def test_tampered_delivery_is_refused(tampered):
    assert matching(**tampered) == set()


@pytest.mark.parametrize('offset_minutes', [-6, 6, -600, 600])
def test_date_outside_tolerance_is_refused_both_ways(offset_minutes):
    with pytest.raises(WebhookSignatureError, match='window'):
        signature_date(now=SIGNED_AT + datetime.timedelta(minutes=offset_minutes))


def test_date_inside_a_custom_tolerance_is_accepted():
    assert (
        signature_date(now=SIGNED_AT + datetime.timedelta(minutes=9), tolerance=datetime.timedelta(minutes=10))
        == SIGNED_AT
    )


@pytest.mark.parametrize('secrets', [(), (None,), ('',)])
def test_no_secret_matches_nothing(secrets):
    assert matching(secrets=secrets) == set()


@pytest.mark.parametrize(
    'missing, reason',
    [
        ({'date_header': None}, 'missing BI-Signature-Date'),
        ({'date_header': ''}, 'missing BI-Signature-Date'),
        ({'signature_header': None}, 'missing BI-Signature header'),
        ({'signature_header': ''}, 'missing BI-Signature header'),
    ],
)
def test_missing_header_fails_closed(missing, reason):
    with pytest.raises(WebhookSignatureError, match=reason):
        signature_date(**missing)


@pytest.mark.parametrize('date_header', ['yesterday', '27/06/2022 11:08', b'\xff\xfe'])
def test_unreadable_date_is_refused(date_header):
    with pytest.raises(WebhookSignatureError, match='unreadable'):
        signature_date(date_header=date_header)


@pytest.mark.parametrize('signature_header', ['not base64 !', 'abc', '7RhJ*qR2'])
def test_bad_base64_is_refused(signature_header):
    with pytest.raises(WebhookSignatureError, match='base64'):
        matching(signature_header=signature_header)
