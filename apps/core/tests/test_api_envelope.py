import json

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from apps.core.exceptions import InsufficientStock
from erp.api.envelope import EnvelopeJSONRenderer
from erp.api.exceptions import api_exception_handler


def render(response):
    response.accepted_renderer = EnvelopeJSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {"response": response}
    return json.loads(response.accepted_renderer.render(response.data, renderer_context={"response": response}))


def test_an_unhandled_error_is_a_500_envelope_without_a_traceback():
    request = APIRequestFactory().get("/api/v1/x/")
    response = api_exception_handler(RuntimeError("secret internals at /srv/app.py line 3"), {"request": request})
    body = render(response)
    assert response.status_code == 500 and body["code"] == 500
    assert "secret internals" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)


def test_a_business_rule_error_names_its_field_and_keeps_its_status():
    response = api_exception_handler(InsufficientStock("库存不足", field="quantity"), {})
    body = render(response)
    assert response.status_code == 409
    assert body == {**body, "code": 409, "message": "库存不足", "error": {"quantity": ["库存不足"]}}


def test_success_payloads_are_wrapped():
    from rest_framework.response import Response

    body = render(Response({"a": 1}, status=201))
    assert body["code"] == 201 and body["message"] == "success" and body["data"] == {"a": 1}


@pytest.mark.django_db
def test_api_root_redirects_to_the_docs(client):
    response = client.get("/api/")
    assert response.status_code == 302 and response["Location"] == "/api/docs/"


@pytest.mark.django_db
def test_swagger_ui_is_served(client):
    assert client.get("/api/docs/").status_code == 200


def test_plain_json_renderer_is_not_the_default():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is EnvelopeJSONRenderer
    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is not JSONRenderer
