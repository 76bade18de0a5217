"""Django-level fallbacks so URLs under /api/ that DRF never sees still answer in the envelope."""
from django.http import JsonResponse

from .envelope import error_body


def _api_or_html(request, status_code, html_handler, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status_code, {"detail": error_body(status_code, None)["message"]}), status=status_code)
    return html_handler(request, *args, **kwargs)


def handler404(request, exception=None):
    from django.views.defaults import page_not_found

    return _api_or_html(request, 404, page_not_found, exception)


def handler500(request):
    from django.views.defaults import server_error

    return _api_or_html(request, 500, server_error)
