from django.db import models

from .crypto import decrypt_json, encrypt_json


class EncryptedJSONField(models.TextField):
    """A JSON object stored encrypted (Fernet token text); Python sees the decrypted dict."""

    description = "Encrypted JSON"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def get_prep_value(self, value):
        if value in (None, ""):
            value = {}
        return encrypt_json(value)
