"""drf-spectacular postprocessing: every response in the schema is described inside the seed's
envelope, and every operation documents the envelope's error responses."""
ENVELOPE_ERROR = "EnvelopeError"
ERRORS = {
    "400": "请求参数错误（error 中按字段列出原因）",
    "401": "未认证或令牌无效/过期",
    "403": "没有权限",
    "404": "不存在或不在你的店铺范围内",
    "429": "请求过于频繁（见 Retry-After）",
    "500": "服务器内部错误（不含调用栈）",
}


def _wrap(schema: dict | None, status: str) -> dict:
    properties = {
        "code": {"type": "integer", "example": int(status)},
        "message": {"type": "string", "example": "success"},
        "timestamp": {"type": "string", "format": "date-time", "example": "2024-01-16T10:30:00Z"},
    }
    if schema is not None:
        properties["data"] = schema
    return {"type": "object", "required": ["code", "message", "timestamp"], "properties": properties}


def wrap_responses_in_envelope(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ENVELOPE_ERROR] = {
        "type": "object",
        "required": ["code", "message", "error", "timestamp"],
        "properties": {
            "code": {"type": "integer", "example": 400},
            "message": {"type": "string", "example": "Bad Request"},
            "error": {"type": "object", "additionalProperties": True,
                      "example": {"field": ["该字段是必填项。"]}},
            "timestamp": {"type": "string", "format": "date-time"},
        },
    }
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.setdefault("content", {})
                media = content.setdefault("application/json", {})
                media["schema"] = _wrap(media.get("schema"), status)
            for status, description in ERRORS.items():
                operation["responses"].setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ENVELOPE_ERROR}"}}},
                })
    return result
