"""Masking of secrets in every shape a log line can take."""

import json
import logging

import pytest
from powens.masking import SecretMaskingFilter, is_sensitive_key, mask

SECRETS = {
    'auth_token': 'tok-AUTH-1',
    'access_token': 'tok-ACCESS-2',
    'token': 'tok-PLAIN-3',
    'code': 'tmp-CODE-4',
    'client_secret': 'sec-CLIENT-5',
    'secret': 'sec-PLAIN-6',
    'password': 'pw-7',
    'Authorization': 'Bearer tok-HEADER-8',
    'BI-Signature': 'sig-9==',
    'webhook_secret': 'sec-WEBHOOK-10',
    'secret_key': 'sec-KEY-11',
}


def assert_no_secret(text):
    for value in SECRETS.values():
        assert value.removeprefix('Bearer ') not in text, value


def test_every_sensitive_key_is_recognised():
    assert all(is_sensitive_key(key) for key in SECRETS)
    assert not any(is_sensitive_key(key) for key in ('id', 'state', 'error_code', 'iban', 5))


def test_mask_nested_structures():
    masked = mask({'outer': [dict(SECRETS)], 'id_user': 7, 'state': 'keep'})
    assert masked['id_user'] == 7 and masked['state'] == 'keep'
    assert set(masked['outer'][0].values()) == {'***'}
    assert_no_secret(repr(masked))


def test_mask_json_text_and_python_repr():
    assert_no_secret(mask(json.dumps(SECRETS)))
    assert_no_secret(mask(repr(SECRETS)))
    escaped = mask('{"auth_token": "a\\"tok-AUTH-1", "id": 3}')
    assert 'tok-AUTH-1' not in escaped and '"id": 3' in escaped


def test_mask_urls_and_query_strings():
    text = mask(
        'https://erp.example/cb?connection_id=4&code=tmp-CODE-4&state=s '
        'grant=x&client_secret=sec-CLIENT-5&password=pw-7&auth_token=tok-AUTH-1'
    )
    assert_no_secret(text)
    assert 'connection_id=4' in text and 'state=s' in text


def test_mask_header_lines_and_bearer():
    text = mask('Authorization: Bearer tok-HEADER-8\nBI-Signature: sig-9==\nsent Bearer tok-PLAIN-3 to Powens')
    assert_no_secret(text)
    assert text.count('***') == 3


def test_mask_keeps_harmless_values():
    assert mask('wrongpass') == 'wrongpass'
    assert mask(12) == 12 and mask(None) is None
    assert mask(b'code=tmp-CODE-4') == 'code=***'


@pytest.mark.parametrize(
    'args',
    [
        ({'client_secret': 'sec-CLIENT-5'},),
        ('code=tmp-CODE-4&x=1',),
    ],
)
def test_filter_masks_record_arguments(args, caplog):
    logger = logging.getLogger('test_client_masking.filter')
    logger.addFilter(SecretMaskingFilter())
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.debug('payload %s', *args)
        logger.debug('inline auth_token=tok-AUTH-1')
    assert caplog.records and '***' in caplog.text
    assert_no_secret(caplog.text)
