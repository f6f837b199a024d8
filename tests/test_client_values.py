"""Interpretation of Powens values: amounts, Paris datetimes, open enums, domains, errors."""

import datetime
from decimal import Decimal

import pytest
from powens import errors
from powens.client import parse_retry_after
from powens.urls import api_url_for_domain, domain_host
from powens.values import (
    UTC,
    connection_state,
    connection_state_group,
    format_date_filter,
    format_datetime,
    naive_utc,
    normalize_transaction_type,
    parse_amount,
    parse_date,
    parse_datetime,
)


@pytest.mark.parametrize(
    'value, expected',
    [
        (-56.78, Decimal('-56.78')),
        (0.1, Decimal('0.1')),
        (1452, Decimal(1452)),
        ('12.30', Decimal('12.30')),
        (' -3 ', Decimal(-3)),
        (Decimal('1.5'), Decimal('1.5')),
        (1e-7, Decimal('1e-07')),
    ],
)
def test_parse_amount_is_exact(value, expected):
    assert parse_amount(value) == expected
    assert str(parse_amount(-56.78)) == '-56.78'


@pytest.mark.parametrize(
    'value', [None, True, False, float('nan'), float('inf'), 'NaN', '-Infinity', 'abc', '', [], {}]
)
def test_parse_amount_refuses_non_amounts(value):
    with pytest.raises(ValueError):
        parse_amount(value)


def test_paris_datetimes_become_aware():
    # Formance's production test: 19:00 Paris summer time is 17:00 UTC.
    assert parse_datetime('2021-10-20 19:00:00').astimezone(UTC) == datetime.datetime(2021, 10, 20, 17, 0, tzinfo=UTC)
    assert parse_datetime('2025-01-15 12:00:00').astimezone(UTC).hour == 11
    assert parse_datetime('2025-01-15 12:00:00', default_tz=UTC).hour == 12
    assert parse_datetime('2025-01-15T12:00:00+00:00').utcoffset() == datetime.timedelta(0)
    assert parse_datetime(None) is None and parse_datetime('') is None
    with pytest.raises(ValueError):
        parse_datetime('15/01/2025')


def test_cursor_formats_back_to_paris_time():
    instant = datetime.datetime(2021, 10, 20, 17, 0, tzinfo=UTC)
    assert format_datetime(instant) == '2021-10-20 19:00:00'
    assert format_datetime(instant.replace(tzinfo=None)) == '2021-10-20 19:00:00'
    assert format_datetime(parse_datetime('2025-03-30 03:30:00')) == '2025-03-30 03:30:00'


def test_cursor_in_the_hour_paris_lives_twice_is_never_read_too_late():
    # 26 October 2025: Paris goes from 03:00 summer time back to 02:00 winter time.
    first_time = datetime.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second_time = datetime.datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 winter time
    assert format_datetime(first_time) == '2025-10-26 01:30:00'
    assert format_datetime(second_time) == '2025-10-26 02:30:00'
    for instant in (first_time, second_time):
        text = format_datetime(instant)
        readings = {parse_datetime(text).replace(fold=fold).astimezone(UTC) for fold in (0, 1)}
        assert max(readings) <= instant, text


def test_naive_utc_is_odoos_storage_form():
    assert naive_utc(parse_datetime('2021-10-20 19:00:00')) == datetime.datetime(2021, 10, 20, 17, 0)
    assert naive_utc(None) is False


def test_dates_stay_dates():
    assert parse_date('2025-03-03') == datetime.date(2025, 3, 3)
    assert parse_date('2025-03-03 06:41:12') == datetime.date(2025, 3, 3)
    assert parse_date(None) is None
    with pytest.raises(ValueError):
        parse_date('03/03/2025')
    assert format_date_filter(datetime.date(2025, 2, 1)) == '2025-02-01'
    assert format_date_filter('2025-02') == '2025-02'


@pytest.mark.parametrize(
    'raw, expected',
    [
        ('loan_payment', 'loan_repayment'),
        ('loan_repayment', 'loan_repayment'),
        ('card_summary', 'summary_card'),
        ('summary_card', 'summary_card'),
        ('card', 'card'),
        ('crypto_swap', 'unknown'),
        (None, 'unknown'),
    ],
)
def test_transaction_type_aliases_and_unknown(raw, expected):
    assert normalize_transaction_type(raw) == expected


@pytest.mark.parametrize(
    'state, group',
    [
        (None, 'ok'),
        ('', 'ok'),
        ('SCARequired', 'user_action'),
        ('webauthRequired', 'user_action'),
        ('additionalInformationNeeded', 'user_action'),
        ('decoupled', 'user_action'),
        ('wrongpass', 'user_action'),
        ('passwordExpired', 'user_action'),
        ('actionNeeded', 'user_action'),
        ('validating', 'transient'),
        ('rateLimiting', 'transient'),
        ('websiteUnavailable', 'transient'),
        ('bug', 'transient'),
        ('notSupported', 'error'),
        ('quantumEntanglement', 'error'),
    ],
)
def test_connection_state_groups(state, group):
    assert connection_state_group(state) == group


def test_connection_state_reads_deprecated_error_alias():
    assert connection_state({'state': None, 'error': 'wrongpass'}) is None
    assert connection_state({'error': 'wrongpass'}) == 'wrongpass'
    assert connection_state({}) is None


def test_domains():
    assert domain_host('acme-sandbox') == 'acme-sandbox.biapi.pro'
    assert domain_host('acme.biapi.pro') == 'acme.biapi.pro'
    assert domain_host('https://acme.biapi.pro/2.0/') == 'acme.biapi.pro'
    assert api_url_for_domain('acme') == 'https://acme.biapi.pro/2.0'
    with pytest.raises(ValueError):
        domain_host('  ')


def test_retry_after_forms():
    now = datetime.datetime(2025, 3, 4, 7, 0, 0, tzinfo=UTC)
    assert parse_retry_after('7') == 7.0
    assert parse_retry_after('Tue, 04 Mar 2025 07:00:30 GMT', now=now) == 30.0
    assert parse_retry_after('Tue, 04 Mar 2025 06:59:00 GMT', now=now) == 0.0
    assert parse_retry_after('soon') is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    'status, body, expected',
    [
        (400, {'code': 'wrongpass'}, errors.PowensWrongPass),
        (400, {'code': 'wrongPass'}, errors.PowensWrongPass),
        (409, {'code': 'noAccount'}, errors.PowensNoAccount),
        (400, {'code': 'noAccount'}, errors.PowensNoAccount),
        (401, {'code': 'invalidToken'}, errors.PowensAuthError),
        (403, None, errors.PowensAuthError),
        (404, {}, errors.PowensNotFound),
        (429, None, errors.PowensRateLimited),
        (503, {'code': 'maintenance'}, errors.PowensServerError),
        (400, {'code': 'invalidValue'}, errors.PowensError),
        (409, {'code': 'brandNewCode'}, errors.PowensError),
    ],
)
def test_errors_are_typed_by_code_then_status(status, body, expected):
    error = errors.error_from_response(status, body)
    assert type(error) is expected
    assert error.http_status == status


def test_error_carries_powens_fields_and_both_request_id_spellings():
    error = errors.error_from_response(
        400,
        {
            'code': 'wrongpass',
            'description': 'Wrong password',
            'message': 'Identifiant ou mot de passe incorrect',
            'request_id': 'r-1',
            'extra': 1,
        },
    )
    assert (error.code, error.description, error.message, error.request_id) == (
        'wrongpass',
        'Wrong password',
        'Identifiant ou mot de passe incorrect',
        'r-1',
    )
    assert 'wrongpass' in str(error) and 'Wrong password' in str(error)
    assert errors.error_from_response(500, {'code': 'bug', 'requestId': 42}).request_id == 42
