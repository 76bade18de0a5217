from django.db.models import Count, DecimalField, F, IntegerField, Max, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api.scoping import ShopScopedMixin, user_shop_ids
from apps.core.api.viewsets import ErpModelViewSet
from apps.core.money import ZERO
from apps.platforms.models import Shop
from apps.sales import services
from apps.sales.ingest.manual import order_save_manual
from apps.sales.models import Customer, Order, OrderLine, Salesperson, SalesTarget
from apps.sales.services import COUNTED_ORDER_STATUSES

from .filters import CustomerFilter, OrderFilter
from .serializers import CustomerSerializer, OrderSerializer, OrderWriteSerializer, SalespersonSerializer


def _customer_orders_figure(aggregate, *, counted_only: bool = True) -> Subquery:
    orders = Order.objects.filter(customer=OuterRef("pk"))
    if counted_only:
        orders = orders.filter(status__in=COUNTED_ORDER_STATUSES)
    return Subquery(orders.order_by().values("customer").annotate(figure=aggregate).values("figure")[:1])


class OrderViewSet(ShopScopedMixin, ErpModelViewSet):
    """Orders with their lines. Writes go through the same upsert as collection (base amounts,
    books, stock and rollups follow)."""

    # The shop and platform codes by a query of the page's few shops, not a join: joined, every row
    # brings its own shop and platform instances (a fifth of a page's time, measured).
    queryset = Order.objects.prefetch_related(
        Prefetch("shop", queryset=Shop.objects.select_related("platform").only("code", "platform__code")),
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
    )
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["platform_order_id", "order_number", "customer__email", "customer__name"]
    ordering_fields = ["ordered_at", "total_amount_base", "status", "platform_order_id"]
    ordering = ["-ordered_at", "-id"]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def _checked_shop(self, shop):
        scope = user_shop_ids(self.request.user)
        if scope is not None and shop.pk not in scope:
            raise NotFound("店铺不存在或无权访问。")
        return shop

    @extend_schema(request=OrderWriteSerializer, responses={201: OrderSerializer})
    def create(self, request, *args, **kwargs):
        serializer = OrderWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shop = self._checked_shop(serializer.validated_data["shop"])
        if Order.objects.filter(shop=shop, platform_order_id=serializer.validated_data["platform_order_id"]).exists():
            return Response({"platform_order_id": ["该店铺已存在此平台订单号。"]}, status=status.HTTP_400_BAD_REQUEST)
        order = order_save_manual(shop=shop, data=serializer.validated_data, user=request.user)
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrderWriteSerializer, responses=OrderSerializer)
    def update(self, request, *args, **kwargs):
        order = self.get_object()
        payload = {**request.data, "shop": order.shop_id, "platform_order_id": order.platform_order_id}
        serializer = OrderWriteSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        order_save_manual(shop=order.shop, data=serializer.validated_data, user=request.user)
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    def perform_destroy(self, instance):
        services.order_delete(order=instance, user=self.request.user)


class CustomerViewSet(ShopScopedMixin, ErpModelViewSet):
    """Customers with their order figures. The figures are correlated subqueries, so a page computes
    them for its own 20 rows (through the customer/time index) rather than grouping every order of
    every customer first; sorting by a figure does have to compute it for every customer."""

    queryset = Customer.objects.select_related("shop").defer("shop__credentials").annotate(
        orders_count=Coalesce(_customer_orders_figure(Count("id")), Value(0), output_field=IntegerField()),
        net_sales_base=Coalesce(
            _customer_orders_figure(Sum(F("total_amount_base") - F("refund_amount_base"))),
            Value(ZERO), output_field=DecimalField(max_digits=18, decimal_places=2),
        ),
        last_order_at=_customer_orders_figure(Max("ordered_at"), counted_only=False),
    ).order_by("-created_at", "-id")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ["name", "email", "platform_buyer_id"]
    ordering_fields = ["created_at", "orders_count", "net_sales_base", "last_order_at"]
    http_method_names = ["get", "patch", "put", "head", "options"]


class SalespersonViewSet(ErpModelViewSet):
    queryset = Salesperson.objects.prefetch_related(
        Prefetch("targets", queryset=SalesTarget.objects.order_by("month")), "shops"
    )
    serializer_class = SalespersonSerializer
    filterset_fields = ["team", "is_active"]
    search_fields = ["name", "email", "team"]
    ordering_fields = ["name", "created_at"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.salesperson_save(instance=Salesperson(), targets=data.pop("targets", []), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.salesperson_save(
            instance=serializer.instance, targets=data.pop("targets", None), **data
        )
