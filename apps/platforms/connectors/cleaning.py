"""Small, strict converters shared by connectors: a bad value is a CleaningError, never a guess."""
import datetime as dt
from decimal import Decimal, InvalidOperation

from .errors import CleaningError


_CENT = Decimal("0.01")
# Amount strings already cleaned: prices, shipping, tax and zero amounts repeat from order to order,
# and a Decimal is immutable, so each distinct string is parsed once. Bounded: cleared when full.
_AMOUNTS: dict[str, Decimal] = {}
_AMOUNTS_KEPT = 20_000


def money(value, field: str, *, required: bool = True) -> Decimal:
    if type(value) is str:
        amount = _AMOUNTS.get(value)
        if amount is not None:
            return amount
    if value in (None, ""):
        if required:
            raise CleaningError(f"{field} 缺失")
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).strip())
        if not amount.is_finite():
            raise CleaningError(f"{field} 不是有效金额：{value!r}")
        amount = amount.quantize(_CENT)  # InvalidOperation when too large for cents
    except (InvalidOperation, ValueError) as exc:
        raise CleaningError(f"{field} 不是有效金额：{value!r}") from exc
    if type(value) is str:
        if len(_AMOUNTS) >= _AMOUNTS_KEPT:
            _AMOUNTS.clear()
        _AMOUNTS[value] = amount
    return amount


def timestamp(value, field: str, *, required: bool = True) -> dt.datetime | None:
    """ISO 8601 (with offset or Z) or unix seconds → aware UTC datetime."""
    if value in (None, ""):
        if required:
            raise CleaningError(f"{field} 缺失")
        return None
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        parsed = dt.datetime.fromisoformat(value if type(value) is str else str(value))  # "Z" too (3.11+)
    except (ValueError, OverflowError, OSError) as exc:
        raise CleaningError(f"{field} 不是有效时间：{value!r}") from exc
    if parsed.tzinfo is None:
        raise CleaningError(f"{field} 没有时区：{value!r}")
    return parsed.astimezone(dt.UTC)


def country(value) -> str:
    code = (value or "").strip().upper()
    if code and (len(code) != 2 or not code.isalpha()):
        raise CleaningError(f"国家代码无效：{value!r}")
    return code


def quantity(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise CleaningError(f"{field} 不是整数：{value!r}") from exc
    if number <= 0:
        raise CleaningError(f"{field} 必须大于 0：{value!r}")
    return number
