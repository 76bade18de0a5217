"""The production ASGI application (erp.asgi): HTTP through Django with the middleware chain loaded
synchronously, so a request crosses from the event loop to its thread once."""
import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from rest_framework_simplejwt.tokens import AccessToken

from apps.users.tests.factories import UserFactory
from erp.asgi import django_asgi_app

pytestmark = pytest.mark.django_db(transaction=True)


def asgi_get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "localhost", **headers}.items()],
        "client": ("127.0.0.1", 50000), "server": ("localhost", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected until the response is sent

    async def send(message):
        sent.append(message)

    async_to_sync(django_asgi_app)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_the_middleware_chain_is_synchronous():
    assert not iscoroutinefunction(django_asgi_app._middleware_chain)


def test_an_api_request_through_the_asgi_application_is_authenticated_and_enveloped():
    user = UserFactory(username="asgi-user", roles=["运营"])

    status, headers, body = asgi_get("/api/v1/auth/me/", {"authorization": f"Bearer {AccessToken.for_user(user)}",
                                                          "x-request-id": "asgi-42"})

    assert status == 200
    assert headers["X-Request-ID"] == "asgi-42"
    payload = json.loads(body)
    assert (payload["code"], payload["data"]["username"]) == (200, "asgi-user")


def test_an_anonymous_api_request_gets_401_in_the_envelope():
    status, _, body = asgi_get("/api/v1/auth/me/", {})

    assert status == 401
    assert json.loads(body)["code"] == 401
