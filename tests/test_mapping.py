"""Mapping of one Powens transaction to a statement-line description (powens.mapping)."""

import dataclasses
import datetime
import json
from decimal import Decimal

import pytest
from powens.mapping import MAX_TEXT_LENGTH, PROBLEMS, MappedTransaction, TransactionRejected, map_transaction
from powens.values import UTC

# The documented example transaction of shared/powens-api.md §6.4, as JSON text.
EXAMPLE_JSON = """{
  "id": 56789, "id_account": 12345, "webid": null,
  "date": "2025-03-03", "datetime": null,
  "rdate": "2025-03-01", "rdatetime": null,
  "vdate": "2025-03-03", "vdatetime": null,
  "bdate": null, "bdatetime": null,
  "application_date": "2025-03-01",
  "value": -56.78, "gross_value": -56.78,
  "original_value": null, "original_gross_value": null, "original_currency": null,
  "commission": null, "commission_currency": null,
  "type": "card",
  "original_wording": "CB ACME SARL 01/03 PARIS",
  "simplified_wording": "ACME SARL", "stemmed_wording": "acme sarl",
  "wording": "ACME SARL",
  "categories": [], "id_category": null,
  "date_scraped": "2025-03-03 06:41:12",
  "coming": false, "active": true, "id_cluster": null, "comment": null,
  "last_update": "2025-03-03 06:41:12", "deleted": null,
  "country": null, "card": "XXXXXXXXXXXX1234",
  "counterparty": {"label": "ACME SARL", "account_scheme_name": null,
                   "account_identification": null, "type": "creditor"}
}"""


def example(**changes):
    """The documented example with some fields replaced (a value of ... removes the field)."""
    payload = json.loads(EXAMPLE_JSON)
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


def mapped(payload=None, *, account_currency='EUR', **kwargs):
    """Map ``payload`` (the documented example by default) for a EUR account by default."""
    payload = example() if payload is None else payload
    return map_transaction(payload, account_currency=account_currency, **kwargs)


def rejection(payload, *, account_currency='EUR', **kwargs):
    with pytest.raises(TransactionRejected) as caught:
        map_transaction(payload, account_currency=account_currency, **kwargs)
    return caught.value


# --- The documented example ------------------------------------------------------------------


def test_documented_example_maps_exactly():
    payload = example()
    result = mapped(payload)
    assert result == MappedTransaction(
        powens_id='56789',
        account_id=12345,
        booking_date=datetime.date(2025, 3, 3),
        value_date=datetime.date(2025, 3, 3),
        amount=Decimal('-56.78'),
        label='ACME SARL',
        original_wording='CB ACME SARL 01/03 PARIS',
        partner_name='ACME SARL',
        partner_account_number=None,
        transaction_type='card',
        foreign_amount=None,
        foreign_currency=None,
        pending=False,
        deleted=False,
        last_update=datetime.datetime(2025, 3, 3, 5, 41, 12, tzinfo=UTC),
        payload=payload,
    )
    assert str(result.amount) == '-56.78'
    assert result.payload == payload, 'a clean payload is kept as given'


def test_result_is_frozen_and_hashable_despite_the_payload_dict():
    result = mapped()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.amount = Decimal(0)
    assert hash(result) == hash(mapped())
    assert 'payload' not in repr(result)


def test_unknown_fields_are_ignored():
    assert mapped(example(new_field={'nested': [1, 2]}, nature='inconnu')) == mapped()


# --- Booking date --------------------------------------------------------------------------


@pytest.mark.parametrize(
    'changes, expected',
    [
        # 23:30 Paris in winter is 22:30 UTC: `date` stays the bank's day.
        ({'date': '2025-03-03', 'datetime': '2025-03-03 22:30:00'}, datetime.date(2025, 3, 3)),
        # 00:30 Paris is the previous day in UTC: the UTC `datetime` must not win.
        ({'date': '2025-03-04', 'datetime': '2025-03-03 23:30:00'}, datetime.date(2025, 3, 4)),
        # A time inside `date` itself is not converted from Paris to UTC (winter, summer).
        ({'date': '2025-03-04 00:30:00'}, datetime.date(2025, 3, 4)),
        ({'date': '2025-07-01T01:30:00'}, datetime.date(2025, 7, 1)),
        ({'date': '2025-03-04T00:30:00+01:00'}, datetime.date(2025, 3, 4)),
        ({'date': ' 2025-03-04 '}, datetime.date(2025, 3, 4)),
    ],
)
def test_booking_date_is_the_banks_day_never_shifted(changes, expected):
    assert mapped(example(**changes)).booking_date == expected


@pytest.mark.parametrize(
    'changes, expected',
    [
        ({'date': ...}, datetime.date(2025, 3, 1)),
        ({'date': None}, datetime.date(2025, 3, 1)),
        ({'date': ''}, datetime.date(2025, 3, 1)),
        ({'date': None, 'rdate': None}, datetime.date(2025, 3, 3)),
    ],
)
def test_booking_date_falls_back_to_rdate_then_vdate_only_when_date_is_absent(changes, expected):
    assert mapped(example(**changes)).booking_date == expected


@pytest.mark.parametrize(
    'changes, reason',
    [
        ({'date': None, 'rdate': None, 'vdate': None}, 'no booking date (date, rdate and vdate are all empty)'),
        ({'date': '2025-02-30'}, 'date is not a valid date'),
        ({'date': 'yesterday'}, 'date is not a valid date'),
        ({'date': 20250303}, 'date is not a date (int)'),
        ({'date': ['2025-03-03']}, 'date is not a date (list)'),
        ({'date': '1899-12-31'}, 'date is outside the years 1900-2999'),
        ({'date': '3000-01-01'}, 'date is outside the years 1900-2999'),
    ],
)
def test_unusable_dates_are_rejected(changes, reason):
    rejected = rejection(example(**changes))
    assert (rejected.problem, rejected.reason) == ('date', reason)


def test_value_date_is_optional():
    assert mapped(example(vdate=None)).value_date is None
    assert mapped(example(vdate='2025-03-05')).value_date == datetime.date(2025, 3, 5)


@pytest.mark.parametrize('vdate', ['0001-01-01', 'soon', 20250303])
def test_a_malformed_value_date_never_refuses_the_movement(vdate):
    """The statement line has no value date: refusing the movement for it would lose money."""
    result = mapped(example(vdate=vdate))
    assert (result.value_date, result.booking_date) == (None, datetime.date(2025, 3, 3))


# --- Amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'text, expected',
    [
        ('-56.78', '-56.78'),
        ('0.3', '0.30'),
        ('0.07', '0.07'),
        ('1234567.89', '1234567.89'),
        ('-0.1', '-0.10'),
        ('12', '12.00'),
        ('1e2', '100.00'),
    ],
)
def test_json_amounts_are_exact_whether_decoded_as_float_or_decimal(text, expected):
    """The standard json module gives floats; parse_amount reads them through repr, the
    shortest text that round-trips, which is the text the JSON carried."""
    payload_text = EXAMPLE_JSON.replace('"value": -56.78', f'"value": {text}')
    as_float = json.loads(payload_text)
    as_decimal = json.loads(payload_text, parse_float=Decimal)
    assert isinstance(as_float['value'], (float, int))
    for payload in (as_float, as_decimal):
        amount = mapped(payload).amount
        assert isinstance(amount, Decimal)
        assert str(amount) == expected


def test_float_arithmetic_noise_is_refused_not_rounded():
    """0.1 + 0.2 is 0.30000000000000004 as a float: its repr shows the noise, so the amount
    has too many decimals and is refused rather than silently rounded to 0.30."""
    assert mapped(example(value=0.3)).amount == Decimal('0.30')
    assert 'more decimals' in rejection(example(value=0.1 + 0.2)).reason


@pytest.mark.parametrize('value', [12.345, '12.345', Decimal('12.345'), Decimal('-0.001')])
def test_more_decimals_than_the_currency_has_are_refused(value):
    error = rejection(example(value=value))
    assert error.reason == ('value has more decimals than the currency allows (2); refusing to round money')
    assert error.powens_id == '56789'
    assert str(error).startswith('Powens transaction 56789 rejected: ')


def test_trailing_zeros_beyond_the_precision_are_not_a_loss():
    assert str(mapped(example(value='12.3400')).amount) == '12.34'


@pytest.mark.parametrize(
    'value, currency, precision, expected',
    [
        (1000, 'JPY', 0, '1000'),
        (-1000.0, 'JPY', 0, '-1000'),
        (1.234, 'KWD', 3, '1.234'),
        (-56.7, 'EUR', 2, '-56.70'),
    ],
)
def test_amount_takes_the_currency_precision(value, currency, precision, expected):
    amount = mapped(example(value=value), account_currency=currency, precision=precision).amount
    assert str(amount) == expected


def test_yen_with_decimals_is_refused():
    assert '(0)' in rejection(example(value=12.5), account_currency='JPY', precision=0).reason


@pytest.mark.parametrize(
    'value, reason',
    [
        (None, 'value is not a finite amount'),
        (..., 'value is not a finite amount'),
        (True, 'value is not a finite amount'),
        (float('nan'), 'value is not a finite amount'),
        (float('-inf'), 'value is not a finite amount'),
        ('NaN', 'value is not a finite amount'),
        ('12,34', 'value is not a finite amount'),
        ({'amount': 1}, 'value is not a finite amount'),
        (10**13, 'value is too large to be a bank movement'),
        (-1e13, 'value is too large to be a bank movement'),
        ('1e999999', 'value is too large to be a bank movement'),
    ],
)
def test_unusable_amounts_are_rejected(value, reason):
    rejected = rejection(example(value=value))
    assert (rejected.problem, rejected.reason) == ('amount', reason)


def test_largest_accepted_amount():
    assert mapped(example(value='-9999999999999.99')).amount == Decimal('-9999999999999.99')


# --- Foreign currency ----------------------------------------------------------------------


@pytest.mark.parametrize(
    'currency',
    [
        {'id': 'USD', 'symbol': '$', 'precision': 2},
        'USD',
        ' usd ',
    ],
)
def test_foreign_amount_when_the_original_currency_differs(currency):
    result = mapped(example(original_value=-61.5, original_currency=currency))
    assert (result.foreign_amount, result.foreign_currency) == (Decimal('-61.5'), 'USD')
    assert result.amount == Decimal('-56.78')


@pytest.mark.parametrize(
    'changes',
    [
        {'original_value': -56.78, 'original_currency': {'id': 'EUR'}},
        {'original_value': -56.78, 'original_currency': 'eur'},
        {'original_value': -61.5, 'original_currency': None},
        {'original_value': -61.5, 'original_currency': {'id': None}},
        {'original_value': None, 'original_currency': 'USD'},
    ],
)
def test_no_foreign_amount_without_a_different_currency_and_an_amount(changes):
    result = mapped(example(**changes))
    assert (result.foreign_amount, result.foreign_currency) == (None, None)


@pytest.mark.parametrize(
    'changes, reason',
    [
        ({'original_value': 1, 'original_currency': 'DOLLARS'}, 'original_currency is not an ISO currency code'),
        ({'original_value': 1, 'original_currency': {'id': 840}}, 'original_currency is not an ISO currency code'),
        ({'original_value': 'lots', 'original_currency': 'USD'}, 'original_value is not a finite amount'),
        ({'original_value': 1e15, 'original_currency': 'USD'}, 'original_value is too large to be a bank movement'),
    ],
)
def test_unusable_foreign_amounts_are_rejected(changes, reason):
    assert rejection(example(**changes)).reason == reason


def test_account_currency_matches_case_insensitively():
    result = mapped(example(original_value=-61.5, original_currency='USD'), account_currency='usd')
    assert result.foreign_currency is None


# --- Pending and deleted -------------------------------------------------------------------


@pytest.mark.parametrize('coming, pending', [(True, True), (False, False), (None, False), (..., False)])
def test_pending_comes_from_coming(coming, pending):
    assert mapped(example(coming=coming)).pending is pending


@pytest.mark.parametrize('coming', ['true', 1, 'false'])
def test_coming_must_be_a_real_boolean(coming):
    assert rejection(example(coming=coming)).reason.startswith('coming is not a boolean')


@pytest.mark.parametrize(
    'deleted_value, deleted',
    [
        ('2025-03-05 10:00:00', True),
        (None, False),
        (..., False),
    ],
)
def test_deleted_is_set_when_deleted_is_not_null(deleted_value, deleted):
    assert mapped(example(deleted=deleted_value)).deleted is deleted


def test_last_update_is_paris_time_and_optional():
    """Powens may send a null last_update; a malformed one is no reason to refuse a movement
    whose statement line does not use it."""
    summer = mapped(example(last_update='2021-10-20 19:00:00')).last_update
    assert summer == datetime.datetime(2021, 10, 20, 17, 0, tzinfo=UTC)
    assert mapped(example(last_update=None)).last_update is None
    assert mapped(example(last_update='20/10/2021')).last_update is None


# --- Counterparty --------------------------------------------------------------------------


@pytest.mark.parametrize(
    'counterparty, name, account_number',
    [
        (
            {
                'label': ' Jean Dupont ',
                'account_identification': 'FR7630006000011234567890189',
                'account_scheme_name': 'iban',
                'type': 'debtor',
            },
            'Jean Dupont',
            'FR7630006000011234567890189',
        ),
        ({'label': 'ACME', 'account_scheme_name': 'future_scheme', 'type': 'someone'}, 'ACME', None),
        (
            {'label': 'ACME', 'account_scheme_name': 'IBAN', 'account_identification': 'FR7630006000011234567890189'},
            'ACME',
            'FR7630006000011234567890189',
        ),
        ({'label': 'SNCF', 'account_scheme_name': 'cpan', 'account_identification': '4970101234567890'}, 'SNCF', None),
        ({'label': 'SNCF', 'account_scheme_name': 'tpan', 'account_identification': 'tok_4970XXXX7890'}, 'SNCF', None),
        (
            {'label': 'ACME', 'account_scheme_name': 'bban', 'account_identification': '30006000011234567890189'},
            'ACME',
            None,
        ),
        ({'label': 'ACME', 'account_scheme_name': None, 'account_identification': '4970101234567890'}, 'ACME', None),
        ({'label': 'ACME', 'account_scheme_name': 'cpan', 'account_identification': 4970101234567890}, 'ACME', None),
        ({'label': '  ', 'account_identification': ''}, None, None),
        ({}, None, None),
        (None, None, None),
        (..., None, None),
        ('ACME SARL', None, None),
        (['ACME SARL'], None, None),
    ],
)
def test_counterparty_variants(counterparty, name, account_number):
    result = mapped(example(counterparty=counterparty))
    assert (result.partner_name, result.partner_account_number) == (name, account_number)


def test_counterparty_label_of_the_wrong_type_is_rejected():
    assert rejection(example(counterparty={'label': 42})).reason == 'label is not a text (int)'


# --- Types and labels -----------------------------------------------------------------------


@pytest.mark.parametrize(
    'raw_type, expected',
    [
        ('loan_payment', 'loan_repayment'),
        ('card_summary', 'summary_card'),
        ('loan_repayment', 'loan_repayment'),
        ('deferred_card', 'deferred_card'),
        ('crypto_swap', 'unknown'),
        (None, 'unknown'),
        (..., 'unknown'),
        (['card'], 'unknown'),
        ({'card': 1}, 'unknown'),
        (7, 'unknown'),
    ],
)
def test_transaction_types_are_normalized_and_unknown_tolerated(raw_type, expected):
    assert mapped(example(type=raw_type)).transaction_type == expected


@pytest.mark.parametrize(
    'wordings, label',
    [
        ({}, 'ACME SARL'),
        ({'simplified_wording': '', 'wording': 'Mon libellé'}, 'Mon libellé'),
        ({'simplified_wording': ' \t', 'wording': None}, 'CB ACME SARL 01/03 PARIS'),
        ({'simplified_wording': None, 'wording': ..., 'original_wording': '  '}, 'Card'),
    ],
)
def test_label_prefers_the_simplified_wording(wordings, label):
    assert mapped(example(**wordings)).label == label


def test_label_falls_back_to_the_type_name():
    payload = example(simplified_wording='', wording='', original_wording='', type='loan_payment')
    assert mapped(payload).label == 'Loan repayment'


def test_original_wording_is_kept_as_given():
    raw = '  CB ACME  01/03 '
    assert mapped(example(original_wording=raw)).original_wording == raw
    assert mapped(example(original_wording=None)).original_wording == ''


# --- Hostile text ---------------------------------------------------------------------------


def test_nul_characters_are_removed_everywhere():
    result = mapped(
        example(
            simplified_wording='AC\x00ME',
            original_wording='\x00CB\x00',
            counterparty={'label': 'Du\x00pont', 'account_scheme_name': 'iban', 'account_identification': 'FR76\x00'},
        )
    )
    assert (result.label, result.original_wording) == ('ACME', 'CB')
    assert (result.partner_name, result.partner_account_number) == ('Dupont', 'FR76')
    assert '\x00' not in repr(result.payload), 'the payload goes to a jsonb column too'
    assert result.payload['counterparty']['label'] == 'Dupont'


def test_a_wording_of_only_nul_falls_back_to_the_next():
    assert mapped(example(simplified_wording='\x00\x00')).label == 'ACME SARL'


def test_one_megabyte_wordings_are_capped():
    huge = 'é' * 1_000_000
    result = mapped(example(simplified_wording=huge, original_wording=huge, counterparty={'label': huge}))
    assert result.label == 'é' * MAX_TEXT_LENGTH
    assert result.original_wording == 'é' * MAX_TEXT_LENGTH
    assert result.partner_name == 'é' * MAX_TEXT_LENGTH


def test_leading_blanks_do_not_eat_the_capped_label():
    result = mapped(example(simplified_wording=' ' * 5000 + 'ACME' + ' ' * 5000))
    assert result.label == 'ACME'


@pytest.mark.parametrize(
    'text',
    [
        'Café crème à Besançon',
        'Paiement 💳🇫🇷 👩‍👩‍👧',
        'تحويل بنكي',
        'שלום עולם',
        'ＡＣＭＥ',
    ],
)
def test_unicode_labels_survive_unchanged(text):
    result = mapped(example(simplified_wording=text))
    assert result.label == text
    result.label.encode('utf-8')


def test_lone_surrogates_become_replacement_characters():
    payload = json.loads(EXAMPLE_JSON.replace('"ACME SARL", "stemmed', r'"AC\ud800ME", "stemmed'))
    label = mapped(payload).label
    assert label == 'AC\ufffdME'
    label.encode('utf-8')


@pytest.mark.parametrize('field', ['simplified_wording', 'wording', 'original_wording'])
def test_wordings_of_the_wrong_type_are_rejected(field):
    assert rejection(example(**{field: ['ACME']})).reason == f'{field} is not a text (list)'


# --- Identity and shape ---------------------------------------------------------------------


@pytest.mark.parametrize(
    'powens_id, reason',
    [
        (..., 'missing id'),
        (None, 'missing id'),
        ('56789', 'id is not an integer (str)'),
        (56789.0, 'id is not an integer (float)'),
        (True, 'id is not an integer (bool)'),
        (-1, 'id is negative'),
    ],
)
def test_unusable_ids_are_rejected(powens_id, reason):
    error = rejection(example(id=powens_id))
    assert error.reason == reason
    assert error.powens_id is None


def test_large_ids_stay_exact():
    assert mapped(example(id=2**63 + 1)).powens_id == '9223372036854775809'


@pytest.mark.parametrize(
    'account_id, expected', [(None, None), (..., None), (7, 7), ('12345', None), (1.5, None), (False, None)]
)
def test_account_id_is_optional_and_never_refuses_the_movement(account_id, expected):
    """The journal a movement feeds comes from the pull, not from this field."""
    assert mapped(example(id_account=account_id)).account_id == expected


@pytest.mark.parametrize('payload', [None, [], 'transaction', 56789])
def test_non_objects_are_rejected(payload):
    assert rejection(payload).reason.startswith('expected an object, got ')


def test_rejections_never_quote_field_contents():
    secret_like = 'IBAN FR76 3000 6000 0112 3456 7890 189 token=abc'
    for payload in (
        example(value=secret_like),
        example(date=secret_like),
        example(original_value=secret_like, original_currency='USD'),
    ):
        assert secret_like not in str(rejection(payload))
        assert 'FR76' not in str(rejection(payload))


def test_rejection_is_a_value_error():
    assert issubclass(TransactionRejected, ValueError)


@pytest.mark.parametrize(
    'kwargs',
    [
        {'account_currency': 'EURO'},
        {'account_currency': None},
        {'account_currency': '€'},
        {'precision': -1},
        {'precision': 7},
        {'precision': True},
        {'precision': 2.0},
    ],
)
def test_caller_mistakes_are_plain_value_errors_not_rejections(kwargs):
    kwargs.setdefault('account_currency', 'EUR')
    with pytest.raises(ValueError) as caught:
        map_transaction(example(), **kwargs)
    assert not isinstance(caught.value, TransactionRejected)


@pytest.mark.parametrize(
    'payload, problem',
    [
        ('not an object', 'structure'),
        (example(id=None), 'identifier'),
        (example(id=-3), 'identifier'),
        (example(original_currency='euro', original_value=-10), 'currency'),
        (example(wording=12), 'text'),
        (example(coming='no'), 'status'),
    ],
)
def test_every_refusal_names_its_kind_for_the_accountant(payload, problem):
    assert problem in PROBLEMS
    assert rejection(payload).problem == problem
