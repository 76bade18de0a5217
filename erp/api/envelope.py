"""The seed's response envelope: {"code", "message", "data" | "error", "timestamp"}."""
import datetime as dt
from http import HTTPStatus

from django.utils import timezone
from rest_framework.renderers import JSONRenderer


def utc_timestamp() -> str:
    return timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_message(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def success_body(status_code: int, data) -> dict:
    return {"code": status_code, "message": "success", "data": data, "timestamp": utc_timestamp()}


def error_body(status_code: int, error, message: str | None = None) -> dict:
    return {
        "code": status_code,
        "message": message or status_message(status_code),
        "error": error,
        "timestamp": utc_timestamp(),
    }


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps successful payloads; error payloads arrive already wrapped by the exception handler."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "envelope_ready", False):
            if response.status_code >= 400:
                data = error_body(response.status_code, data)
            elif response.status_code != 204:
                data = success_body(response.status_code, data)
        return super().render(data, accepted_media_type, renderer_context)
