"""The webhook body is authenticated while it goes by (issue 13 §4): HMAC with every candidate
secret over the body as sent and as decoded, the decoding streamed and capped, nothing held."""

import base64
import datetime
import gzip
import hashlib
import hmac
import tracemalloc
import zlib

import pytest
from powens import webhooks
from powens.errors import WebhookSignatureError
from powens.signature import SignatureCheck, check_signature_date, sign_webhook

PATH = '/powens/webhook/connection_synced'
DATE = '2026-03-04T07:12:55.123456Z'
SIGNED_AT = datetime.datetime(2026, 3, 4, 7, 12, 55, 123456, tzinfo=datetime.UTC)
BODY = b'{"id_webhook_data": 1, "connection": {"id": 4521, "id_user": 7}}'
MIB = 1024 * 1024


def documented_signature(secret, body):
    """The doc's formula, computed independently of the module."""
    message = b'POST.' + PATH.encode() + b'.' + DATE.encode() + b'.' + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def checked(secrets, signature, raw, encoding=None, cap=MIB):
    check = SignatureCheck(secrets, PATH, DATE, signature)
    error = webhooks.feed_signature_check(check, raw, encoding, cap)
    return check.matching_secrets(), error


def gzip_bomb(decompressed_bytes):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    return b''.join(compressor.compress(zeros) for _ in range(decompressed_bytes // MIB)) + compressor.flush()


def test_plain_body_signed_by_one_of_several_secrets():
    matching, error = checked(['a', 'b', 'c'], documented_signature('b', BODY), BODY)
    assert (matching, error) == ({'b'}, None)


def test_gzip_body_signed_as_sent_or_as_decoded_is_recognised_both_ways():
    raw = gzip.compress(BODY)
    assert checked(['a', 'b'], documented_signature('a', raw), raw, 'gzip') == ({'a'}, None)
    assert checked(['a', 'b'], documented_signature('b', BODY), raw, 'gzip') == ({'b'}, None)


def test_one_secret_shared_by_the_companies_of_a_contract_costs_one_hmac_each_way():
    check = SignatureCheck(['shared', 'shared', 'own'], PATH, DATE, documented_signature('shared', BODY))
    assert len(check._as_sent) == 2
    check.update_as_sent(BODY)
    assert check.matching_secrets() == {'shared'}


@pytest.mark.parametrize('signature', [documented_signature('guess', BODY), sign_webhook('a', '/other', DATE, BODY)])
def test_other_signatures_match_nothing(signature):
    assert checked(['a'], signature, BODY) == (set(), None)


@pytest.mark.parametrize('signature', ['***', base64.b64encode(b'short').decode(), ''])
def test_signature_that_cannot_be_an_hmac_is_refused_before_any_work(signature):
    with pytest.raises(WebhookSignatureError):
        SignatureCheck(['a'], PATH, DATE, signature)


def test_decoded_body_beyond_the_cap_can_only_be_proven_as_sent():
    raw = gzip.compress(b' ' * 5000)
    decoded_signature = documented_signature('a', b' ' * 5000)
    matching, error = checked(['a'], decoded_signature, raw, 'gzip', cap=4000)
    assert matching == set() and isinstance(error, webhooks.WebhookTooLarge)
    matching, error = checked(['a'], documented_signature('a', raw), raw, 'gzip', cap=4000)
    assert matching == {'a'} and isinstance(error, webhooks.WebhookTooLarge)


def test_body_that_is_not_gzip_is_only_checked_as_sent():
    matching, error = checked(['a'], documented_signature('a', BODY), BODY, 'gzip')
    assert matching == {'a'} and isinstance(error, webhooks.WebhookPayloadError)


@pytest.mark.parametrize('decompressed', [100 * MIB, 1024 * MIB])
def test_gzip_bomb_is_checked_without_being_held(decompressed):
    """Before: gunzipped whole in memory (100 MiB), then parsed."""
    bomb = gzip_bomb(decompressed)
    tracemalloc.start()
    try:
        matching, error = checked(['a', 'b'], documented_signature('a', BODY), bomb, 'gzip', cap=128 * MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert matching == set()
    assert (error is None) == (decompressed <= 128 * MIB)
    assert peak < 2 * MIB


def test_signature_date_window_before_reading_the_body():
    horizon = datetime.timedelta(days=30)
    now = SIGNED_AT
    assert check_signature_date(DATE, 'sig', max_age=horizon, now=now) == SIGNED_AT
    assert check_signature_date(DATE, 'sig', max_age=horizon, now=now + datetime.timedelta(days=29)) == SIGNED_AT
    for late in (datetime.timedelta(days=30, seconds=1), -datetime.timedelta(minutes=6)):
        with pytest.raises(WebhookSignatureError, match='window'):
            check_signature_date(DATE, 'sig', max_age=horizon, now=now + late)
    for date, signature in ((None, 'sig'), (DATE, None), ('yesterday', 'sig')):
        with pytest.raises(WebhookSignatureError):
            check_signature_date(date, signature, max_age=horizon, now=now)


@pytest.mark.parametrize(
    'header, expected',
    [
        (None, None),
        ('', None),
        ('identity', None),
        ('gzip', 'gzip'),
        ('X-GZIP', 'gzip'),
        ('identity, gzip', 'gzip'),
    ],
)
def test_content_coding(header, expected):
    assert webhooks.content_coding(header) == expected


@pytest.mark.parametrize('header', ['br', 'deflate', 'gzip, gzip', 'gzip, br'])
def test_other_codings_are_refused(header):
    with pytest.raises(webhooks.WebhookEncodingError):
        webhooks.content_coding(header)


def test_streamed_gunzip_gives_every_member_whatever_the_piece_size():
    data = gzip.compress(b'a' * 300_000) + gzip.compress(b'') + gzip.compress(b'xyz')
    for piece in (1, 1000, MIB):
        assert b''.join(webhooks.iter_gunzip(data, MIB, piece)) == b'a' * 300_000 + b'xyz'
    with pytest.raises(webhooks.WebhookPayloadError):
        list(webhooks.iter_gunzip(data[:-4], MIB))


# --- read_delivery: the route's steps, in the order that makes a stranger cost the least -----------

LIMITS = webhooks.WebhookLimits(body=MIB, decoded=MIB, parsed=MIB, max_age=datetime.timedelta(days=30))


def fresh_headers(secret, body, **extra):
    date = datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return {'BI-Signature-Date': date, 'BI-Signature': sign_webhook(secret, PATH, date, body), **extra}


def never_called():
    raise AssertionError('not before the signature date is checked')


def test_delivery_names_the_contracts_whose_secret_verified_it():
    """Each secret stands for the contracts using it (the database's, a company's own): the
    delivery carries those of the secrets that matched, and those only."""
    secrets = {'database-webhook-secret': frozenset({'database'}), 'own-webhook-secret': frozenset({'company 3'})}
    delivery = webhooks.read_delivery(
        PATH, fresh_headers('own-webhook-secret', BODY), lambda: BODY, lambda: secrets, 'connection_synced', LIMITS
    )
    assert delivery.signers == {'company 3'}
    assert (delivery.event, delivery.payload['connection']['id_user'], delivery.size) == (
        'CONNECTION_SYNCED',
        7,
        len(BODY),
    )


def test_unsigned_or_stale_delivery_is_refused_before_secrets_or_body_are_read():
    stale = fresh_headers('secret', BODY)
    stale['BI-Signature-Date'] = '2020-01-01T00:00:00Z'
    for headers in ({}, {'BI-Signature': 'x'}, stale):
        with pytest.raises(webhooks.WebhookRefused) as refusal:
            webhooks.read_delivery(PATH, headers, never_called, never_called, None, LIMITS)
        assert (refusal.value.status, refusal.value.answer) == (403, 'forbidden')


@pytest.mark.parametrize(
    'extra, status',
    [({'Content-Encoding': 'br'}, 415), ({'Content-Length': str(MIB + 1)}, 413)],
)
def test_encoding_and_declared_length_are_refused_before_the_body_is_read(extra, status):
    with pytest.raises(webhooks.WebhookRefused) as refusal:
        webhooks.read_delivery(PATH, fresh_headers('s', BODY, **extra), never_called, never_called, None, LIMITS)
    assert refusal.value.status == status


def test_signed_delivery_too_long_to_parse_is_acknowledged_unread():
    body = b'{"pad": "' + b'x' * (2 * MIB) + b'"}'
    limits = webhooks.WebhookLimits(body=4 * MIB, decoded=4 * MIB, parsed=MIB, max_age=LIMITS.max_age)
    delivery = webhooks.read_delivery(
        PATH, fresh_headers('s', body), lambda: body, lambda: {'s': frozenset({'database'})}, None, limits
    )
    assert (delivery.payload, delivery.event, delivery.signers) == (None, None, {'database'})
