"""Encryption at rest of the Powens client secret, webhook secret and user tokens.

The keys come from the Odoo server configuration (``powens_encryption_key``), never from the
database, so a stolen dump or a copied database holds only ciphertext. The option takes one
Fernet key or several separated by commas: the first encrypts, every one decrypts, which is
how a key is rotated without losing what the old one protects (MultiFernet).
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class EncryptionKeyError(Exception):
    """No usable ``powens_encryption_key``: nothing may be stored, nothing can be read."""


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with the configured keys (wrong or rotated-out key,
    or tampered ciphertext)."""


class SecretBox:
    """Encrypts and decrypts text with the configured key ring."""

    def __init__(self, keys):
        parts = [part.strip() for part in (keys or '').split(',') if part.strip()]
        if not parts:
            raise EncryptionKeyError('powens_encryption_key is not set in the Odoo server configuration')
        try:
            self._ring = MultiFernet([Fernet(part.encode()) for part in parts])
        except (ValueError, TypeError):
            raise EncryptionKeyError(
                'powens_encryption_key must be Fernet keys (32 url-safe base64-encoded bytes), separated by commas'
            ) from None

    def encrypt(self, plaintext):
        """Return the ciphertext of ``plaintext`` (text) under the first key."""
        return self._ring.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext):
        """Return the text behind ``ciphertext``, whichever configured key encrypted it."""
        return self._open(self._ring.decrypt, ciphertext)

    def rotate(self, ciphertext):
        """Return ``ciphertext`` encrypted again under the first key (after a key rotation)."""
        return self._open(self._ring.rotate, ciphertext)

    @staticmethod
    def _open(operation, ciphertext):
        try:
            return operation(ciphertext.encode()).decode()
        except InvalidToken:
            raise DecryptionError(
                'a stored Powens secret cannot be decrypted with the configured powens_encryption_key'
            ) from None


def generate_key():
    """Return a new key for ``powens_encryption_key``."""
    return Fernet.generate_key().decode()
