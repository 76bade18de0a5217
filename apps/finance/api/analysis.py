"""Profit analysis (GET only, `finance.view_profit`): apps.finance.analytics over the user's shops."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.core.api.params import (
    PAGE_PARAMS,
    PERIOD_PARAMS,
    AnalysisView,
    choice_param,
    ordering_param,
    parse_analysis_query,
    parse_choice,
    parse_ordering,
    parse_page,
)
from apps.finance import analytics
from apps.sales.analytics.metrics import SALES_DEFINITIONS


class ProfitView(AnalysisView):
    permission = "finance.view_profit"

    @extend_schema(
        tags=["analysis"],
        parameters=[
            *PERIOD_PARAMS,
            choice_param("group_by", analytics.GROUP_BYS, "month", "分组维度。"),
            ordering_param(analytics.ORDERING_FIELDS, "key（month）或 -net_sales（其余）"),
            *PAGE_PARAMS,
        ],
        summary="利润分析：净销售额、成本、平台费用、退款、费用与净利润",
        description=SALES_DEFINITIONS + "\n\n" + analytics.PROFIT_DEFINITIONS
        + "\n\n返回分页结构 {items, total, page, page_size}，另附 group_by、start、end、totals。"
        "\n\n参数错误返回 400，error 中以参数名为键；shop 不在可见范围返回 404；没有 finance.view_profit 返回 403。",
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        params = request.query_params
        group_by = parse_choice(params, "group_by", analytics.GROUP_BYS, default="month")
        ordering = parse_ordering(params, analytics.ORDERING_FIELDS,
                                  default="key" if group_by == "month" else "-net_sales")
        page = parse_page(params)
        query = parse_analysis_query(request)
        return Response(analytics.profit_analysis(query=query, group_by=group_by, ordering=ordering, page=page))
