"""Turning cell text into our values. Each parser raises `BadValue` with a Chinese reason; the
importer records it against the row and column."""
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CURRENCY_NOISE = re.compile(r"[\s$€£¥￥]")
_TRUE = frozenset({"1", "true", "yes", "y", "t", "是", "启用", "在售"})
_FALSE = frozenset({"0", "false", "no", "n", "f", "否", "停用", "停售"})


class BadValue(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def decimal(text: str, *, places: int = 2, minimum: Decimal | None = Decimal(0), label: str = "金额") -> Decimal:
    """`1,234.50`, `1234.5`, `12,50` (decimal comma), `$19.99` → Decimal rounded half up to `places`."""
    value = _CURRENCY_NOISE.sub("", text)
    if "," in value:
        if "." in value or _THOUSANDS.match(value):
            value = value.replace(",", "")
        else:
            value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise BadValue(f"{label}“{text}”不是有效数字。") from None
    if not number.is_finite():
        raise BadValue(f"{label}“{text}”不是有效数字。")
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if minimum is not None and number < minimum:
        raise BadValue(f"{label}不能小于 {minimum}（当前 {text}）。")
    return number


def money(text: str, *, allow_negative: bool = False) -> Decimal:
    return decimal(text, places=2, minimum=None if allow_negative else Decimal(0))


def integer(text: str, *, minimum: int | None = 0, label: str = "数量") -> int:
    value = text.replace(",", "").strip()
    if value.endswith(".0"):
        value = value[:-2]  # a whole number that went through a spreadsheet as a float
    try:
        number = int(value)
    except ValueError:
        raise BadValue(f"{label}“{text}”不是整数。") from None
    if minimum is not None and number < minimum:
        raise BadValue(f"{label}不能小于 {minimum}（当前 {text}）。")
    return number


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadValue(f"“{text}”不是有效的是/否值（可用 1/0、true/false、是/否）。")


def moment(text: str, *, default_tz: ZoneInfo | dt.tzinfo = dt.UTC) -> dt.datetime:
    """An instant in UTC from `2025-12-07 19:08:25 +0000` (Shopify), `2017-06-17T08:04:21+00:00`
    (Amazon), ISO 8601 with `Z`; a time without an offset is read in `default_tz`."""
    value = text.strip()
    if len(value) > 6 and value[-5] in "+-" and value[-6] == " ":
        value = value[:-6] + value[-5:]  # "… 19:08:25 +0000" → "… 19:08:25+0000"
    value = value.replace(" UTC", "+00:00") if value.endswith(" UTC") else value
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(f"时间“{text}”格式无法识别（应如 2025-12-07 19:08:25 +0000）。") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(dt.UTC)


def country(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise BadValue(f"国家“{text}”不是两位国家代码（ISO 3166-1，如 US、DE）。")
    return code


def currency(text: str, *, known: set[str]) -> str:
    code = text.strip().upper()
    if code not in known:
        raise BadValue(f"币种“{text}”不存在，请先在币种表中添加。")
    return code


def text(value: str, *, max_length: int, label: str) -> str:
    if len(value) > max_length:
        raise BadValue(f"{label}长度不能超过 {max_length} 个字符（当前 {len(value)} 个）。")
    return value
