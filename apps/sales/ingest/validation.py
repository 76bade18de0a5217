"""Checks an order must pass before it is stored; a failing order is quarantined with the reason."""
from decimal import Decimal

from django.utils import timezone

from apps.sales.models import Order

from .types import OrderData

# Order.Status.values builds a new list on every access: look statuses up in a set built once.
_STATUSES = frozenset(Order.Status.values)
_AMOUNTS = (
    "items_amount", "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount",
    "total_amount",
)


def order_data_problem(order: OrderData, *, known_currencies: set[str]) -> str | None:
    """The reason `order` cannot be stored, or None when it can."""
    if not order.platform_order_id:
        return "缺少平台订单号"
    if order.ordered_at is None or timezone.is_naive(order.ordered_at):
        return "下单时间缺失或没有时区"
    if order.currency not in known_currencies:
        return f"未知币种 {order.currency!r}"
    if order.status not in _STATUSES:
        return f"未知订单状态 {order.status!r}"
    for name in _AMOUNTS:
        value = getattr(order, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            return f"{name} 不是有效金额"
        if value < 0:
            return f"{name} 不能为负数"
    if order.refund_amount > order.total_amount:
        return "退款金额大于订单总额"
    if order.buyer_country and (len(order.buyer_country) != 2 or not order.buyer_country.isalpha()):
        return f"买家国家 {order.buyer_country!r} 不是两位国家代码"
    keys = set()
    for line in order.lines:
        if not line.platform_sku:
            return "订单行缺少 SKU"
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            return f"SKU {line.platform_sku} 的数量必须是正整数"
        if line.unit_price < 0 or line.line_total < 0:
            return f"SKU {line.platform_sku} 的金额不能为负数"
        key = line.key
        if key in keys:
            return f"订单行重复：{key}"
        keys.add(key)
    return None
