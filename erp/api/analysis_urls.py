"""Every analysis path under /api/v1/ (GET only); included from erp.api.urls."""
from django.urls import path

from apps.finance.api import analysis as finance
from apps.inventory.api import analysis as inventory
from apps.sales.api import analysis as sales

urlpatterns = [
    path("dashboard/kpis/", sales.DashboardKpisView.as_view(), name="dashboard-kpis"),
    path("dashboard/sales-trend/", sales.DashboardSalesTrendView.as_view(), name="dashboard-sales-trend"),
    path("dashboard/platform-distribution/", sales.DashboardPlatformDistributionView.as_view(),
         name="dashboard-platform-distribution"),
    path("dashboard/recent-orders/", sales.DashboardRecentOrdersView.as_view(), name="dashboard-recent-orders"),
    path("sales/summary/", sales.SalesSummaryView.as_view(), name="sales-summary"),
    path("sales/order-analysis/", sales.OrderAnalysisView.as_view(), name="sales-order-analysis"),
    path("sales/customer-analysis/", sales.CustomerAnalysisView.as_view(), name="sales-customer-analysis"),
    path("sales/team-performance/", sales.TeamPerformanceView.as_view(), name="sales-team-performance"),
    path("inventory/analysis/", inventory.InventoryAnalysisView.as_view(), name="inventory-analysis"),
    path("inventory/replenishment/", inventory.ReplenishmentView.as_view(), name="inventory-replenishment"),
    path("finance/profit/", finance.ProfitView.as_view(), name="finance-profit"),
]
