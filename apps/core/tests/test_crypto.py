import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from apps.core.crypto import SecretDecryptionError, decrypt_json, encrypt_json, mask_secret
from apps.platforms.models import Shop
from apps.platforms.tests.factories import ShopFactory


@pytest.mark.django_db
def test_shop_credentials_are_encrypted_at_rest():
    shop = ShopFactory(credentials={"access_token": "shpat_super_secret"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM shops WHERE id = %s", [shop.pk])
        stored = cursor.fetchone()[0]
    assert "shpat_super_secret" not in stored
    assert Shop.objects.get(pk=shop.pk).credentials == {"access_token": "shpat_super_secret"}


def test_an_old_key_still_decrypts_after_rotation():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(SHOP_CREDENTIALS_KEYS=[old]):
        token = encrypt_json({"k": "v"})
    with override_settings(SHOP_CREDENTIALS_KEYS=[new, old]):
        assert decrypt_json(token) == {"k": "v"}


def test_an_unknown_key_is_a_clear_error():
    with override_settings(SHOP_CREDENTIALS_KEYS=[Fernet.generate_key().decode()]):
        token = encrypt_json({"k": "v"})
    with override_settings(SHOP_CREDENTIALS_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(SecretDecryptionError):
            decrypt_json(token)


def test_mask_secret_shows_only_the_last_four_characters():
    assert mask_secret("shpat_abcdef1234") == "••••••••1234"
    assert mask_secret("abc") == "••••"
