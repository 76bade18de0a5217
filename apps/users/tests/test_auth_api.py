import datetime as dt

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.platforms.tests.factories import ShopFactory
from apps.users.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Secret-pass-123"


@pytest.fixture
def api():
    return APIClient()


def login(api, username, password=PASSWORD):
    return api.post("/api/v1/auth/login/", {"username": username, "password": password}, format="json")


def assert_envelope_error(response, status_code):
    body = response.json()
    assert response.status_code == status_code
    assert body["code"] == status_code
    assert "error" in body and "timestamp" in body and body["timestamp"].endswith("Z")
    return body


def test_login_returns_tokens_and_the_user_with_roles_and_permissions(api):
    UserFactory(username="ops1", roles=["运营"])
    response = login(api, "ops1")
    body = response.json()
    assert response.status_code == 200 and body["code"] == 200 and body["message"] == "success"
    data = body["data"]
    assert data["access"] and data["refresh"]
    assert data["user"]["username"] == "ops1"
    assert data["user"]["roles"] == [{"code": "operations", "name": "运营"}]
    assert "sales.view_order" in data["user"]["permissions"]


def test_a_wrong_password_gets_401_in_the_envelope(api):
    UserFactory(username="ops2")
    assert_envelope_error(login(api, "ops2", "wrong"), 401)


def test_me_without_a_token_gets_401_in_the_envelope(api):
    assert_envelope_error(api.get("/api/v1/auth/me/"), 401)


def test_me_lists_the_users_shops(api):
    user = UserFactory(username="ops3")
    shop = ShopFactory()
    user.shops.add(shop)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    data = api.get("/api/v1/auth/me/").json()["data"]
    assert [s["code"] for s in data["shops"]] == [shop.code]
    assert data["sees_all_shops"] is False


def test_me_can_be_patched_but_not_the_username(api):
    user = UserFactory(username="ops4")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = api.patch("/api/v1/auth/me/", {"display_name": "小王", "username": "hacker"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.display_name, user.username) == ("小王", "ops4")


def test_an_expired_access_token_gets_401(api):
    user = UserFactory()
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-dt.timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_envelope_error(api.get("/api/v1/auth/me/"), 401)


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(api):
    UserFactory(username="rot")
    old_refresh = login(api, "rot").json()["data"]["refresh"]
    first = api.post("/api/v1/auth/refresh/", {"refresh": old_refresh}, format="json")
    assert first.status_code == 200
    assert first.json()["data"]["refresh"] != old_refresh
    assert_envelope_error(api.post("/api/v1/auth/refresh/", {"refresh": old_refresh}, format="json"), 401)


def test_logout_blacklists_the_refresh_token(api):
    user = UserFactory(username="bye")
    refresh = login(api, "bye").json()["data"]["refresh"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert api.post("/api/v1/auth/logout/", {"refresh": refresh}, format="json").status_code == 204
    assert_envelope_error(api.post("/api/v1/auth/refresh/", {"refresh": refresh}, format="json"), 401)


def test_logout_refuses_another_users_token(api):
    victim, attacker = UserFactory(username="victim"), UserFactory(username="attacker")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(attacker)}")
    response = api.post("/api/v1/auth/logout/", {"refresh": str(RefreshToken.for_user(victim))}, format="json")
    assert_envelope_error(response, 400)


def test_login_is_throttled_per_username_with_retry_after(api):
    UserFactory(username="target")
    statuses = [login(api, "target", "nope").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    response = login(api, "target", "nope")
    assert_envelope_error(response, 429)
    assert int(response["Retry-After"]) > 0


def test_login_throttle_per_username_does_not_block_other_usernames(api):
    UserFactory(username="other")
    for _ in range(11):
        login(api, "target2", "nope")
    assert login(api, "other").status_code == 200


def test_register_creates_a_user_without_roles_or_shops(api):
    response = api.post(
        "/api/v1/auth/register/", {"username": "newbie", "email": "n@example.com", "password": "Long-enough-pass-9"},
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    assert not user.groups.exists() and not user.shops.exists() and not user.is_staff


def test_register_rejects_a_weak_password_with_a_field_error(api):
    response = api.post("/api/v1/auth/register/", {"username": "weak", "password": "123"}, format="json")
    body = assert_envelope_error(response, 400)
    assert "password" in body["error"] or "non_field_errors" in body["error"]
    assert not User.objects.filter(username="weak").exists()


@override_settings(REGISTRATION_OPEN=False)
def test_register_can_be_turned_off(api):
    response = api.post("/api/v1/auth/register/", {"username": "x", "password": "Long-enough-pass-9"}, format="json")
    assert_envelope_error(response, 403)
    assert not User.objects.filter(username="x").exists()


def test_change_password_checks_the_old_one_and_revokes_refresh_tokens(api):
    UserFactory(username="chg")
    tokens = login(api, "chg").json()["data"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    wrong = api.post("/api/v1/auth/change-password/", {"old_password": "bad", "new_password": "Another-pass-77"}, format="json")
    assert assert_envelope_error(wrong, 400)["error"]["old_password"]
    ok = api.post(
        "/api/v1/auth/change-password/", {"old_password": PASSWORD, "new_password": "Another-pass-77"}, format="json"
    )
    assert ok.status_code == 204
    api.credentials()
    assert login(api, "chg", "Another-pass-77").status_code == 200
    assert_envelope_error(api.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json"), 401)


def test_an_unknown_api_url_answers_404_in_the_envelope(api):
    assert_envelope_error(api.get("/api/v1/no-such-thing/"), 404)


def test_a_wrong_method_answers_405_in_the_envelope(api):
    user = UserFactory()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert_envelope_error(api.delete("/api/v1/auth/me/"), 405)


def test_the_openapi_schema_generates_and_lists_the_auth_paths(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/auth/login/" in response.json()["paths"]
