"""Stock analyses (GET only, `inventory.view_inventoryitem`): apps.inventory.analytics over today's stock."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api.params import (
    PAGE_PARAMS,
    PLATFORM_PARAM,
    SHOP_PARAM,
    AnalysisView,
    business_today,
    ordering_param,
    parse_bool,
    parse_int,
    parse_ordering,
    parse_page,
    parse_scope,
)
from apps.inventory import analytics
from apps.inventory.models import Warehouse

TAG = ["analysis"]
ERRORS = "\n\n参数错误返回 400，error 中以参数名为键；shop 或 warehouse 不存在（或 shop 不在可见范围）返回 404；没有权限返回 403。"
WAREHOUSE_PARAM = OpenApiParameter("warehouse", OpenApiTypes.INT, description="只看这个仓库（id）；不存在返回 404。")


def _warehouse(params) -> int | None:
    warehouse_id = parse_int(params, "warehouse", default=None, minimum=1, maximum=2**63 - 1)
    if warehouse_id is not None and not Warehouse.objects.filter(pk=warehouse_id).exists():
        raise NotFound({"warehouse": [f"仓库 {warehouse_id} 不存在。"]})
    return warehouse_id


class InventoryAnalysisView(AnalysisView):
    permission = "inventory.view_inventoryitem"

    @extend_schema(
        tags=TAG,
        parameters=[
            WAREHOUSE_PARAM, SHOP_PARAM, PLATFORM_PARAM,
            OpenApiParameter("slow_days", OpenApiTypes.INT, description="滞销天数 N，默认 90，1–365。"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="各明细列表最多条数，默认 20，最大 200。"),
        ],
        summary="库存分析：分仓库存金额、周转、可售天数、滞销与低库存",
        description=analytics.STOCK_DEFINITIONS
        + "\n\n金额为本位币两位小数字符串；比率与天数为两位小数字符串。数据来源：库存表、SkuSalesDaily 与 SalesDaily 汇总表。"
        + ERRORS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        params = request.query_params
        warehouse_id = _warehouse(params)
        slow_days = parse_int(params, "slow_days", default=90, minimum=1, maximum=365)
        limit = parse_int(params, "limit", default=20, minimum=1, maximum=200)
        scope = parse_scope(params, request.user)
        return Response(analytics.inventory_analysis(
            scope=scope, warehouse_id=warehouse_id, slow_days=slow_days, limit=limit, today=business_today(),
        ))


class ReplenishmentView(AnalysisView):
    permission = "inventory.view_inventoryitem"

    @extend_schema(
        tags=TAG,
        parameters=[
            WAREHOUSE_PARAM, SHOP_PARAM, PLATFORM_PARAM,
            OpenApiParameter("needs_reorder", OpenApiTypes.BOOL, description="true 时只列建议采购量 > 0 的行。"),
            ordering_param(analytics.REPLENISHMENT_ORDERING, "-suggested_quantity"),
            *PAGE_PARAMS,
        ],
        summary="补货建议：每个 SKU × 仓库的建议采购量与预计断货日",
        description=analytics.REPLENISHMENT_DEFINITIONS
        + "\n\n返回分页结构 {items, total, page, page_size}，另附 as_of、trailing_days、unattributed_units_30d；"
        "排序默认 -suggested_quantity，null 排在最后，同值按 SKU、仓库编码。数据来源：库存表、SkuSalesDaily、采购明细。"
        + ERRORS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        params = request.query_params
        warehouse_id = _warehouse(params)
        needs_reorder = parse_bool(params, "needs_reorder")
        ordering = parse_ordering(params, analytics.REPLENISHMENT_ORDERING, default="-suggested_quantity")
        page = parse_page(params)
        scope = parse_scope(params, request.user)
        return Response(analytics.inventory_replenishment(
            scope=scope, warehouse_id=warehouse_id, needs_reorder=needs_reorder, ordering=ordering, page=page,
            today=business_today(),
        ))
