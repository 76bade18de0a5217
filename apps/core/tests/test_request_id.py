"""Every request has an id: taken from a well-formed X-Request-ID, made up otherwise, echoed back,
and carried by every log line written while the request is handled."""
import logging
import re

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from apps.core.logging import RequestIdFilter

URL = "/admin/login/"

pytestmark = pytest.mark.django_db


class RecordingHandler(logging.Handler):
    """Keeps the records it sees, after RequestIdFilter has stamped them (as the stdout handler does)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def recorded_logs():
    handler = RecordingHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


def test_a_response_carries_a_generated_request_id(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_two_requests_get_different_request_ids(client):
    first = client.get(URL)["X-Request-ID"]
    second = client.get(URL)["X-Request-ID"]

    assert first != second


def test_a_well_formed_incoming_request_id_is_echoed(client):
    response = client.get(URL, headers={"X-Request-ID": "lb-2024.01_16-abc"})

    assert response["X-Request-ID"] == "lb-2024.01_16-abc"


@pytest.mark.parametrize(
    "incoming",
    ["has spaces in it", "x" * 200, "semi;colon", "new\\nline", "<script>"],
    ids=["spaces", "200-chars", "semicolon", "backslash", "markup"],
)
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    response = client.get(URL, headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_log_line_written_during_a_request_carries_its_request_id(recorded_logs):
    # A POST without a CSRF token is refused, and Django logs a warning while handling it.
    client = Client(enforce_csrf_checks=True)

    response = client.post(URL, {"username": "x", "password": "y"}, headers={"X-Request-ID": "req-42"})

    assert response.status_code == 403
    csrf_lines = [r for r in recorded_logs if r.name == "django.security.csrf"]
    assert csrf_lines, [r.getMessage() for r in recorded_logs]
    assert {r.request_id for r in csrf_lines} == {"req-42"}


def test_a_log_line_written_outside_a_request_carries_a_dash(recorded_logs):
    logging.getLogger("apps.core.tests").warning("no request here")

    assert [r.request_id for r in recorded_logs if r.getMessage() == "no request here"] == ["-"]


def test_the_request_id_does_not_leak_into_the_next_request(client, recorded_logs):
    client.get(URL, headers={"X-Request-ID": "first-request"})
    logging.getLogger("apps.core.tests").warning("after the request")

    assert [r.request_id for r in recorded_logs if r.getMessage() == "after the request"] == ["-"]


def test_the_request_id_is_echoed_under_asgi():
    response = async_to_sync(AsyncClient().get)(URL, headers={"X-Request-ID": "asgi-7"})

    assert response.status_code == 200
    assert response["X-Request-ID"] == "asgi-7"


def test_the_configured_stdout_log_lines_name_the_request_id(settings):
    handler = settings.LOGGING["handlers"]["stdout"]

    assert "request_id" in handler["filters"]
    assert "%(request_id)s" in settings.LOGGING["formatters"][handler["formatter"]]["format"]
