from decimal import Decimal

from rest_framework import serializers

from apps.core.api.fastread import FastReadMixin
from apps.finance.models import Currency
from apps.platforms.models import Shop
from apps.sales.models import Customer, Order, OrderLine, Salesperson, SalesTarget


class OrderLineSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id", "platform_line_id", "platform_sku", "title", "product", "listing", "quantity", "unit_price",
            "line_total", "line_total_base", "unit_cost_base", "stock_posted_at",
        ]
        read_only_fields = fields


class OrderSerializer(FastReadMixin, serializers.ModelSerializer):
    shop_code = serializers.CharField(source="shop.code", read_only=True)
    platform = serializers.CharField(source="shop.platform.code", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "shop", "shop_code", "platform", "platform_order_id", "order_number", "customer", "status",
            "platform_status", "fulfillment_channel", "warehouse", "buyer_country", "currency", "items_amount",
            "shipping_amount", "tax_amount", "discount_amount", "platform_fee", "refund_amount", "total_amount",
            "exchange_rate", "items_amount_base", "shipping_amount_base", "tax_amount_base", "discount_amount_base",
            "platform_fee_base", "refund_amount_base", "total_amount_base", "ordered_at", "paid_at", "shipped_at",
            "delivered_at", "cancelled_at", "platform_updated_at", "lines", "created_at", "updated_at",
        ]
        read_only_fields = fields


class OrderLineWriteSerializer(serializers.Serializer):
    platform_sku = serializers.CharField(max_length=128)
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0"))
    platform_line_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class OrderCustomerWriteSerializer(serializers.Serializer):
    platform_buyer_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")


def _money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0"), default=Decimal("0"),
                                    **kwargs)


class OrderWriteSerializer(serializers.Serializer):
    """A manually entered or corrected order; stored by the same upsert as collected orders."""

    shop = serializers.PrimaryKeyRelatedField(queryset=Shop.objects.all())
    platform_order_id = serializers.CharField(max_length=64)
    order_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=Order.Status.choices)
    fulfillment_channel = serializers.ChoiceField(choices=Order.FulfillmentChannel.choices,
                                                  default=Order.FulfillmentChannel.MERCHANT)
    buyer_country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    currency = serializers.SlugRelatedField(slug_field="code", queryset=Currency.objects.all())
    shipping_amount = _money()
    tax_amount = _money()
    discount_amount = _money()
    platform_fee = _money()
    refund_amount = _money()
    ordered_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    cancelled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    customer = OrderCustomerWriteSerializer(required=False, allow_null=True, default=None)
    lines = OrderLineWriteSerializer(many=True, allow_empty=False)

    def validate_buyer_country(self, value):
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError("国家需为 ISO 3166-1 两位字母代码，如 US。")
        return value.upper()

    def validate(self, attrs):
        items = sum(line["unit_price"] * line["quantity"] for line in attrs["lines"])
        total = items + attrs["shipping_amount"] + attrs["tax_amount"] - attrs["discount_amount"]
        if total < 0:
            raise serializers.ValidationError({"discount_amount": ["折扣不能大于商品、运费与税费之和。"]})
        if attrs["refund_amount"] > total:
            raise serializers.ValidationError({"refund_amount": ["退款金额不能大于订单总额。"]})
        attrs["items_amount"], attrs["total_amount"] = items, total
        return attrs


class CustomerSerializer(serializers.ModelSerializer):
    shop_code = serializers.CharField(source="shop.code", read_only=True)
    orders_count = serializers.IntegerField(read_only=True)
    net_sales_base = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    last_order_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "shop", "shop_code", "platform_buyer_id", "email", "name", "country", "phone", "orders_count",
            "net_sales_base", "first_ordered_at", "last_order_at", "created_at",
        ]
        read_only_fields = ["shop", "platform_buyer_id", "first_ordered_at", "created_at"]


class SalesTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesTarget
        fields = ["month", "target_amount_base"]

    def validate_month(self, value):
        if value.day != 1:
            raise serializers.ValidationError("月份请填写该月第一天，如 2025-07-01。")
        return value

    def validate_target_amount_base(self, value):
        if value < 0:
            raise serializers.ValidationError("目标金额不能为负数。")
        return value


class SalespersonSerializer(serializers.ModelSerializer):
    targets = SalesTargetSerializer(many=True, required=False)
    shops = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Salesperson
        fields = ["id", "user", "name", "email", "team", "is_active", "shops", "targets", "created_at"]
        read_only_fields = ["created_at"]

    def validate_targets(self, targets):
        months = [t["month"] for t in targets]
        if len(months) != len(set(months)):
            raise serializers.ValidationError("同一月份只能有一个目标。")
        return targets
