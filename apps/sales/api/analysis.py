"""Business overview and sales analyses (GET only, `sales.view_sales_analysis`), computed over the
user's shops. Parsing and scope: apps.core.api.params; figures: apps.sales.analytics."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.api.params import (
    PAGE_PARAMS,
    PERIOD_PARAMS,
    AnalysisView,
    choice_param,
    ordering_param,
    parse_analysis_query,
    parse_choice,
    parse_int,
    parse_ordering,
    parse_page,
)
from apps.sales.analytics import customers, dashboard, orders, summary, team
from apps.sales.analytics.metrics import SALES_DEFINITIONS

TAG = ["analysis"]
NOTE_ROLLUP = "\n\n数据来源：日汇总表（SalesDaily / SkuSalesDaily），不扫描订单表。"
ERRORS = "\n\n参数错误返回 400，error 中以参数名为键；shop 不在可见范围返回 404；没有权限返回 403。"


def _text(**extra) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **extra)


def metric_fields() -> dict:
    money = {name: _text(help_text="本位币金额，两位小数字符串") for name in
             ("gross_sales", "refunds", "net_sales", "aov", "cogs", "platform_fees", "gross_profit")}
    return {**money, "orders": serializers.IntegerField(), "units": serializers.IntegerField(),
            "margin": _text(help_text="百分数，两位小数字符串；净销售额为 0 时为 null")}


Metrics = inline_serializer("SalesMetrics", fields=metric_fields())
PERIOD = {"start": serializers.DateField(), "end": serializers.DateField()}


def _object(name: str, **fields):
    return inline_serializer(name, fields=fields)


def _list(name: str, fields: dict) -> serializers.ListField:
    return serializers.ListField(child=inline_serializer(name, fields=fields))


class DashboardKpisView(AnalysisView):
    @extend_schema(
        tags=TAG, parameters=PERIOD_PARAMS,
        summary="经营概览 KPI：本期与上期对比",
        description=SALES_DEFINITIONS + """

上期 = 紧接本期之前、天数相同的区间（previous_start..previous_end）。change 为各指标变化率（百分数，两位小数字符串）
= (本期 − 上期) / |上期| × 100，上期为 0 或指标为 null 时为 null；margin 的 change 为百分点差（本期 − 上期）。
low_stock_count：可用数量 < 补货点的库存行数（库存不属于店铺，全公司口径）。
pending_shipments：状态为已预留（reserved）的出库单数；关联订单须在可见店铺内；未关联订单的手工出库单
在未指定 shop/platform 时一并计入。""" + NOTE_ROLLUP + ERRORS,
        responses=_object("DashboardKpis", **PERIOD, previous_start=serializers.DateField(),
                          previous_end=serializers.DateField(), current=Metrics, previous=Metrics,
                          change=inline_serializer("SalesMetricsChange", fields={
                              k: _text() for k in metric_fields()}),
                          low_stock_count=serializers.IntegerField(), pending_shipments=serializers.IntegerField()),
    )
    def get(self, request):
        return Response(dashboard.dashboard_kpis(query=parse_analysis_query(request)))


class DashboardSalesTrendView(AnalysisView):
    @extend_schema(
        tags=TAG,
        parameters=[*PERIOD_PARAMS, choice_param("interval", dashboard.INTERVALS, "day", "时间粒度：日、周（周一开始）、月。")],
        summary="销售趋势：按日/周/月的销售额与订单数，合计及分平台",
        description=SALES_DEFINITIONS + """

series 覆盖区间的每个时段（无销售为 0）：period 为时段第一天（周为周一、月为 1 日），start/end 为时段落在区间内的部分；
gross_sales、orders 为合计，by_platform 以平台代码为键给出同样两项（platforms 列出区间内有销售的平台）。""" + NOTE_ROLLUP + ERRORS,
        responses=_object("SalesTrend", **PERIOD, interval=serializers.CharField(),
                          platforms=serializers.ListField(child=serializers.DictField()),
                          series=serializers.ListField(child=serializers.DictField())),
    )
    def get(self, request):
        interval = parse_choice(request.query_params, "interval", dashboard.INTERVALS, default="day")
        return Response(dashboard.dashboard_sales_trend(query=parse_analysis_query(request), interval=interval))


class DashboardPlatformDistributionView(AnalysisView):
    @extend_schema(
        tags=TAG, parameters=PERIOD_PARAMS,
        summary="平台分布：各平台销售额、订单数及占比",
        description=SALES_DEFINITIONS + """

gross_sales_share = 该平台 gross_sales / 全部 gross_sales × 100；orders_share 同理（百分数字符串，总额为 0 时为 null）。
按 gross_sales 降序。""" + NOTE_ROLLUP + ERRORS,
        responses=_object("PlatformDistribution", **PERIOD, total_gross_sales=_text(),
                          total_orders=serializers.IntegerField(),
                          items=_list("PlatformShare", {
                              "platform": serializers.CharField(), "name": serializers.CharField(),
                              "gross_sales": _text(), "net_sales": _text(), "orders": serializers.IntegerField(),
                              "gross_sales_share": _text(), "orders_share": _text()})),
    )
    def get(self, request):
        return Response(dashboard.dashboard_platform_distribution(query=parse_analysis_query(request)))


class DashboardRecentOrdersView(AnalysisView):
    @extend_schema(
        tags=TAG,
        parameters=[*PERIOD_PARAMS, OpenApiParameter("limit", OpenApiTypes.INT, description="条数，默认 10，最大 100。")],
        summary="最新订单",
        description="""区间内下单的最新订单（任何状态，含待付款与已取消），按下单时间倒序，最多 `limit` 条：
店铺、平台、买家国家、原币种总额（total_amount）与本位币总额（total_amount_base）、状态。
数据来源：订单表按 (店铺, 下单时间) / (下单时间, id) 索引倒序读取前 limit 条。""" + ERRORS,
        responses=inline_serializer("RecentOrder", many=True, fields={
            "id": serializers.IntegerField(), "order_number": serializers.CharField(),
            "platform_order_id": serializers.CharField(), "shop": serializers.DictField(),
            "platform": serializers.DictField(), "buyer_country": serializers.CharField(),
            "currency": serializers.CharField(), "total_amount": _text(), "total_amount_base": _text(),
            "status": serializers.CharField(), "status_display": serializers.CharField(),
            "fulfillment_channel": serializers.CharField(), "ordered_at": serializers.DateTimeField()}),
    )
    def get(self, request):
        limit = parse_int(request.query_params, "limit", default=10, minimum=1, maximum=100)
        return Response(dashboard.dashboard_recent_orders(query=parse_analysis_query(request), limit=limit))


class SalesSummaryView(AnalysisView):
    @extend_schema(
        tags=TAG,
        parameters=[
            *PERIOD_PARAMS,
            choice_param("group_by", summary.GROUP_BYS, "day", "分组维度。"),
            ordering_param(summary.ORDERING_FIELDS, "key（day/month）或 -gross_sales（其余）"),
            *PAGE_PARAMS,
        ],
        summary="销售汇总：按维度分组的 KPI，可排序、分页",
        description=SALES_DEFINITIONS + "\n\n" + summary.SUMMARY_DEFINITIONS
        + "\n\n返回分页结构 {items, total, page, page_size}，另附 group_by、start、end、totals。" + NOTE_ROLLUP + ERRORS,
        responses=_object("SalesSummaryPage", items=serializers.ListField(child=serializers.DictField()),
                          total=serializers.IntegerField(), page=serializers.IntegerField(),
                          page_size=serializers.IntegerField(), group_by=serializers.CharField(), **PERIOD,
                          totals=Metrics),
    )
    def get(self, request):
        params = request.query_params
        group_by = parse_choice(params, "group_by", summary.GROUP_BYS, default="day")
        default = "key" if group_by in ("day", "month") else "-gross_sales"
        ordering = parse_ordering(params, summary.ORDERING_FIELDS, default=default)
        page = parse_page(params)
        query = parse_analysis_query(request)
        return Response(summary.sales_summary(query=query, group_by=group_by, ordering=ordering, page=page))


class OrderAnalysisView(AnalysisView):
    @extend_schema(
        tags=TAG, parameters=PERIOD_PARAMS,
        summary="订单分析：状态、国家、发货方式、发货时效、取消率与退款率",
        description=SALES_DEFINITIONS + "\n\n" + orders.ORDER_ANALYSIS_DEFINITIONS + ERRORS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return Response(orders.order_analysis(query=parse_analysis_query(request)))


class CustomerAnalysisView(AnalysisView):
    @extend_schema(
        tags=TAG,
        parameters=[
            *PERIOD_PARAMS,
            choice_param("interval", customers.INTERVALS, "month", "新老客户的时段粒度。"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="top_customers 条数，默认 10，最大 100。"),
        ],
        summary="客户分析：新老客户、复购率、RFM 分层、top 客户、客户国家",
        description=customers.CUSTOMER_DEFINITIONS + ERRORS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        params = request.query_params
        interval = parse_choice(params, "interval", customers.INTERVALS, default="month")
        limit = parse_int(params, "limit", default=10, minimum=1, maximum=100)
        query = parse_analysis_query(request)
        return Response(customers.customer_analysis(query=query, interval=interval, limit=limit))


class TeamPerformanceView(AnalysisView):
    @extend_schema(
        tags=TAG, parameters=PERIOD_PARAMS,
        summary="团队绩效：每位销售人员（通过其负责的店铺）的净销售额、订单、毛利、目标与达成率",
        description=SALES_DEFINITIONS + "\n\n" + team.TEAM_DEFINITIONS + NOTE_ROLLUP + ERRORS,
        responses=_object("TeamPerformance", **PERIOD, items=serializers.ListField(child=serializers.DictField())),
    )
    def get(self, request):
        return Response(team.team_performance(query=parse_analysis_query(request)))
