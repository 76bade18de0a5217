"""CSV/XLSX import and export of customers and of orders with their lines (one row per line)."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from apps.core.exceptions import MissingExchangeRate
from apps.core.money import ZERO, quantize_money
from apps.core.resources import (
    ChoiceWidget,
    DateTimeWidget,
    ErpResource,
    HeaderLineResource,
    IntWidget,
    MoneyWidget,
    NaturalKeyWidget,
    TextWidget,
    column,
)
from apps.finance.models import Currency
from apps.finance.selectors import exchange_rate_get
from apps.inventory.models import Product, Warehouse
from apps.platforms.models import Listing, Shop

from .ingest.effects import order_finance_records_replace, order_lines_post_stock
from .models import Customer, Order, OrderLine
from .services import BASE_AMOUNT_FIELDS, order_amounts_to_base, sales_rollups_rebuild

ORDER_AMOUNT_FIELDS = tuple(amount for amount, _ in BASE_AMOUNT_FIELDS)


def order_business_date(moment: dt.datetime) -> dt.date:
    """The business day (TIME_ZONE) of a moment: its rate applies, its rollup row counts it."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def orders_apply_effects(*, order_ids: set[int], days_by_shop: dict[int, set[dt.date]]) -> None:
    """What follows from orders written outside the collection upsert (admin form, file import):
    their finance records, the outbound of shipped lines, and the daily rollups of the days touched."""
    if not order_ids:
        return
    order_finance_records_replace(orders=list(Order.objects.filter(pk__in=order_ids)))
    order_lines_post_stock(order_ids=sorted(order_ids))
    for shop_id, days in days_by_shop.items():
        sales_rollups_rebuild(start=min(days), end=max(days), shop_ids=[shop_id])


# Customers -------------------------------------------------------------------------------------

CUSTOMER_COLUMNS = ("shop", "platform_buyer_id", "email", "name", "country", "phone")


class CustomerResource(ErpResource):
    """A shop's buyer, identified by the platform buyer id, else by e-mail."""

    shop = column("shop", NaturalKeyWidget(Shop, "code", label="店铺", required=True))
    platform_buyer_id = column("platform_buyer_id", TextWidget(strip=True, max_length=128))
    email = column("email", TextWidget(strip=True, max_length=254))
    name = column("name", TextWidget(max_length=200))
    country = column("country", TextWidget(strip=True, upper=True, max_length=2))
    phone = column("phone", TextWidget(strip=True, max_length=40))

    class Meta:
        model = Customer
        fields = CUSTOMER_COLUMNS
        export_order = CUSTOMER_COLUMNS
        import_id_fields = ("shop",)

    def get_instance(self, instance_loader, row):
        shop_code = TextWidget(strip=True).clean(row.get("shop"))
        buyer_id = TextWidget(strip=True).clean(row.get("platform_buyer_id"))
        email = TextWidget(strip=True).clean(row.get("email"))
        customers = Customer.objects.filter(shop__code=shop_code)
        if buyer_id:
            return customers.filter(platform_buyer_id=buyer_id).first()
        if email:
            return customers.filter(platform_buyer_id="", email__iexact=email).order_by("pk").first()
        return None

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        if not instance.platform_buyer_id and not instance.email:
            raise ValidationError({NON_FIELD_ERRORS: ["平台买家ID 与邮箱至少填写一个。"]})

    def export_queryset(self, queryset):
        return queryset.select_related("shop").order_by("shop__code", "platform_buyer_id", "email", "pk")


# Orders with lines -----------------------------------------------------------------------------

class BuyerWidget(NaturalKeyWidget):
    """The order's buyer inside the row's shop, by platform buyer id or e-mail."""

    def __init__(self):
        super().__init__(Customer, "platform_buyer_id", label="买家")

    def clean(self, value, row=None, **kwargs):
        key = TextWidget(strip=True).clean(value)
        if not key:
            return None
        customers = Customer.objects.filter(shop__code=TextWidget(strip=True).clean((row or {}).get("shop")))
        customer = customers.filter(platform_buyer_id=key).first() or customers.filter(email__iexact=key).first()
        if customer is None:
            raise ValueError(f"该店铺没有买家：{key}（请先导入客户）。")
        return customer

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value.platform_buyer_id or value.email


ORDER_LINE_COLUMNS = (
    # the order, repeated on each of its lines
    "shop", "platform_order_id", "order_number", "status", "platform_status", "fulfillment_channel", "warehouse",
    "buyer_country", "customer", "currency", *ORDER_AMOUNT_FIELDS,
    "ordered_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at",
    "exchange_rate", "total_amount_base",
    # the line
    "platform_line_id", "platform_sku", "sku", "title", "quantity", "unit_price", "line_total", "line_total_base",
)


def _money(attribute: str, **kwargs):
    return column(attribute, MoneyWidget(**kwargs), default=None if kwargs.get("required") else ZERO)


class OrderLineResource(HeaderLineResource):
    """Orders with lines. Rows are grouped by (shop, platform_order_id); a line is identified by
    `platform_line_id`, else by `platform_sku`. The product comes from the shop's listing of that
    platform SKU, else from a master product with that SKU. Base-currency amounts and the rate are
    computed from the rate of the order's business day; `sku`, `exchange_rate` and `*_base` columns
    are for reading only."""

    header_attr = "order"
    header_key_fields = ("shop", "platform_order_id")
    header_derived_fields = ("exchange_rate", *(f"{name}_base" for name in ORDER_AMOUNT_FIELDS))

    shop = column("order__shop", NaturalKeyWidget(Shop, "code", label="店铺", required=True))
    platform_order_id = column("order__platform_order_id", TextWidget(required=True, strip=True, max_length=64))
    order_number = column("order__order_number", TextWidget(strip=True, max_length=64))
    status = column("order__status", ChoiceWidget(Order.Status), default=Order.Status.PENDING)
    platform_status = column("order__platform_status", TextWidget(strip=True, max_length=64))
    fulfillment_channel = column(
        "order__fulfillment_channel", ChoiceWidget(Order.FulfillmentChannel), default=Order.FulfillmentChannel.MERCHANT
    )
    warehouse = column("order__warehouse", NaturalKeyWidget(Warehouse, "code", label="仓库"))
    buyer_country = column("order__buyer_country", TextWidget(strip=True, upper=True, max_length=2))
    customer = column("order__customer", BuyerWidget())
    currency = column("order__currency", NaturalKeyWidget(Currency, "code", label="币种", required=True, upper=True))
    items_amount = _money("order__items_amount")
    shipping_amount = _money("order__shipping_amount")
    tax_amount = _money("order__tax_amount")
    discount_amount = _money("order__discount_amount")
    platform_fee = _money("order__platform_fee")
    refund_amount = _money("order__refund_amount")
    total_amount = _money("order__total_amount", required=True)
    ordered_at = column("order__ordered_at", DateTimeWidget(required=True))
    paid_at = column("order__paid_at", DateTimeWidget())
    shipped_at = column("order__shipped_at", DateTimeWidget())
    delivered_at = column("order__delivered_at", DateTimeWidget())
    cancelled_at = column("order__cancelled_at", DateTimeWidget())
    exchange_rate = column("order__exchange_rate", MoneyWidget(places=8), readonly=True)
    total_amount_base = column("order__total_amount_base", MoneyWidget(), readonly=True)

    platform_line_id = column("platform_line_id", TextWidget(strip=True, max_length=64))
    platform_sku = column("platform_sku", TextWidget(required=True, strip=True, max_length=128))
    sku = column("product__sku", TextWidget(), name="sku", readonly=True)
    title = column("title", TextWidget(max_length=500))
    quantity = column("quantity", IntWidget(required=True, min_value=1))
    unit_price = column("unit_price", MoneyWidget(required=True))
    line_total = column("line_total", MoneyWidget())
    line_total_base = column("line_total_base", MoneyWidget(), readonly=True)

    required_columns = ("currency", "total_amount", "ordered_at", "platform_sku", "quantity", "unit_price")

    class Meta:
        model = OrderLine
        fields = ORDER_LINE_COLUMNS
        export_order = ORDER_LINE_COLUMNS
        import_id_fields = ("shop", "platform_order_id")
        clean_model_instances = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._rates: dict[tuple[str, dt.date], Decimal | MissingExchangeRate] = {}
        self._written_orders: set[int] = set()
        self._touched_days: dict[int, set[dt.date]] = defaultdict(set)

    def line_lookup(self, row):
        line_id = TextWidget(strip=True).clean(row.get("platform_line_id"))
        if line_id:
            return {"platform_line_id": line_id}
        sku = TextWidget(strip=True).clean(row.get("platform_sku"))
        return {"platform_sku": sku} if sku else None

    def _rate(self, currency: str, day: dt.date) -> Decimal:
        key = (currency, day)
        if key not in self._rates:
            try:
                self._rates[key] = exchange_rate_get(currency=currency, on_date=day)
            except MissingExchangeRate as exc:
                self._rates[key] = exc
        if isinstance(self._rates[key], MissingExchangeRate):
            raise self._rates[key]
        return self._rates[key]

    def complete_line(self, line, row, errors):
        order = line.order
        if line.line_total is None and line.unit_price is not None and line.quantity:
            line.line_total = quantize_money(line.unit_price * line.quantity)
        if errors:
            return
        day = order_business_date(order.ordered_at)
        try:
            rate = self._rate(order.currency_id, day)
        except MissingExchangeRate as exc:
            errors.setdefault("currency", []).append(exc.message)
            return
        order_amounts_to_base(order=order, rate=rate, lines=[line])
        listing = (
            Listing.objects.select_related("product")
            .filter(shop_id=order.shop_id, platform_sku=line.platform_sku)
            .first()
        )
        line.listing = listing
        product = listing.product if listing is not None and listing.product_id else None
        product = product or Product.objects.filter(sku=line.platform_sku).first()
        if product is not None:  # an unknown SKU stays unmapped; a manual mapping is kept
            line.product = product
        line.unit_cost_base = self._unit_cost(line.product, day) if line.product_id else None

    def _unit_cost(self, product, day: dt.date) -> Decimal | None:
        """The product's cost in base currency on the order day (unknown when its rate is missing)."""
        try:
            return quantize_money(product.cost_price * self._rate(product.cost_currency_id, day))
        except MissingExchangeRate:
            return None

    def check_before_save(self, line, errors):
        order = line.order
        if order.refund_amount > order.total_amount:
            errors.setdefault("refund_amount", []).append(
                f"退款金额 {order.refund_amount} 不能大于订单总额 {order.total_amount}。"
            )

    def save_instance(self, instance, is_create, row, **kwargs):
        snapshot = getattr(instance.order, "_import_snapshot", None)
        super().save_instance(instance, is_create, row, **kwargs)
        order = instance.order
        self._written_orders.add(order.pk)
        self._touched_days[order.shop_id].add(order_business_date(order.ordered_at))
        if snapshot and snapshot.get("ordered_at"):
            self._touched_days[order.shop_id].add(order_business_date(snapshot["ordered_at"]))

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        # A file with a bad row is rolled back anyway; a preview (dry run) shows rows, not effects.
        if not kwargs.get("dry_run") and not result.has_errors() and not result.has_validation_errors():
            orders_apply_effects(order_ids=self._written_orders, days_by_shop=self._touched_days)

    def get_queryset(self):
        return OrderLine.objects.all()

    def export_queryset(self, queryset):
        if queryset.model is Order:  # exported from the order list: every line of those orders
            queryset = OrderLine.objects.filter(order__in=queryset.values("pk"))
        return queryset.select_related(
            "order__shop", "order__currency", "order__warehouse", "order__customer", "product"
        ).order_by("order__shop__code", "order__platform_order_id", "platform_line_id", "platform_sku", "pk")
