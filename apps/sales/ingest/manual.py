"""Orders typed in through the API: the same upsert as collected orders."""
from django.db import transaction

from apps.core.exceptions import DomainError
from apps.sales.models import Order
from apps.users.models import AuditLog

from .types import CustomerData, LineData, OrderData
from .upsert import orders_upsert


@transaction.atomic
def order_save_manual(*, shop, data: dict, user=None) -> Order:
    """Creates or corrects one order through the same upsert collected orders use."""
    customer = data.get("customer")
    order_data = OrderData(
        platform_order_id=data["platform_order_id"], order_number=data.get("order_number", ""),
        ordered_at=data["ordered_at"], currency=data["currency"].code, status=data["status"],
        platform_status="manual", fulfillment_channel=data["fulfillment_channel"],
        buyer_country=data.get("buyer_country", ""), items_amount=data["items_amount"],
        shipping_amount=data["shipping_amount"], tax_amount=data["tax_amount"],
        discount_amount=data["discount_amount"], platform_fee=data["platform_fee"],
        refund_amount=data["refund_amount"], total_amount=data["total_amount"], paid_at=data.get("paid_at"),
        shipped_at=data.get("shipped_at"), cancelled_at=data.get("cancelled_at"),
        customer=CustomerData(**customer) if customer else None,
        lines=[
            LineData(platform_sku=line["platform_sku"], title=line["title"], quantity=line["quantity"],
                     unit_price=line["unit_price"], line_total=line["unit_price"] * line["quantity"],
                     platform_line_id=line["platform_line_id"])
            for line in data["lines"]
        ],
    )
    result = orders_upsert(shop=shop, orders=[order_data])
    if result.rejected:
        raise DomainError(result.rejected[0][1])
    order = Order.objects.get(shop=shop, platform_order_id=order_data.platform_order_id)
    AuditLog.objects.create(user=user, action="order.save", object_type="sales.order", object_id=str(order.pk),
                            object_repr=str(order)[:200], changes={"status": order.status})
    return order
