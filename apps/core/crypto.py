"""Encryption at rest for secrets such as shop credentials (Fernet, with key rotation)."""
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SHOP_CREDENTIALS_KEYS))


def encrypt_json(value) -> str:
    return _current().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str):
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken as exc:
        raise SecretDecryptionError("stored secret cannot be decrypted with the configured keys") from exc


def mask_secret(value: str) -> str:
    """Shows only the last four characters of a secret: `••••••••abcd`."""
    text = str(value)
    if len(text) <= 4:
        return "••••"
    return "••••••••" + text[-4:]
