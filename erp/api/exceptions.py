"""Every API error, expected or not, leaves as the envelope with `code` equal to the HTTP status."""
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.exceptions import DomainError

from .envelope import error_body

logger = logging.getLogger("erp.api")


def _response(status_code: int, error, *, message: str | None = None, headers=None) -> Response:
    response = Response(error_body(status_code, error, message), status=status_code, headers=headers)
    response.envelope_ready = True
    return response


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        error = {exc.field or "non_field_errors": [exc.message]}
        return _response(exc.status_code, error, message=exc.message)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return _response(status.HTTP_500_INTERNAL_SERVER_ERROR, {"detail": "服务器内部错误，请稍后重试。"})

    error = response.data
    if isinstance(error, list):
        error = {"non_field_errors": error}
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    message = None
    if isinstance(error, dict) and isinstance(error.get("detail"), str):
        message = error["detail"]
    return _response(response.status_code, error, message=message, headers=headers)
