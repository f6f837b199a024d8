"""Encryption at rest: no key means nothing stored, rotation keeps every secret readable."""

import pytest
from powens.crypto import DecryptionError, EncryptionKeyError, SecretBox, generate_key


def test_round_trip_and_ciphertext_hides_the_secret():
    box = SecretBox(generate_key())
    ciphertext = box.encrypt('client-secret-é')
    assert 'client-secret' not in ciphertext
    assert box.decrypt(ciphertext) == 'client-secret-é'
    assert box.encrypt('same') != box.encrypt('same')  # random IV: equal secrets do not show


# A key cut short is a fixed one: test ids must be the same in every xdist worker.
@pytest.mark.parametrize('keys', [None, '', ' , ', 'not-a-fernet-key', 'c5B8nAa_AUiRPUx1meh6yW87-mCSsr7VgDoDYUB0'])
def test_missing_or_malformed_key_refused(keys):
    with pytest.raises(EncryptionKeyError):
        SecretBox(keys)


def test_wrong_key_or_tampering_refused():
    ciphertext = SecretBox(generate_key()).encrypt('token')
    with pytest.raises(DecryptionError):
        SecretBox(generate_key()).decrypt(ciphertext)
    key = generate_key()
    tampered = SecretBox(key).encrypt('token')[:-2] + 'AA'
    with pytest.raises(DecryptionError):
        SecretBox(key).decrypt(tampered)


def test_rotation_new_key_first_old_key_still_reads():
    old_key, new_key = generate_key(), generate_key()
    stored = SecretBox(old_key).encrypt('user-token')
    ring = SecretBox(f'{new_key},{old_key}')
    assert ring.decrypt(stored) == 'user-token'
    rotated = ring.rotate(stored)
    assert SecretBox(new_key).decrypt(rotated) == 'user-token'
    with pytest.raises(DecryptionError):
        SecretBox(old_key).decrypt(rotated)
