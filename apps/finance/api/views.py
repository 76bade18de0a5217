from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.scoping import user_shop_ids
from apps.core.api.viewsets import ErpModelViewSet
from apps.finance import services
from apps.finance.models import Currency, ExchangeRate, Expense, FinancialRecord, Revenue

from .filters import ExchangeRateFilter, ExpenseFilter, FinancialRecordFilter, RevenueFilter
from .serializers import (
    CurrencySerializer,
    ExchangeRateSerializer,
    ExpenseRejectSerializer,
    ExpenseSerializer,
    FinancialRecordSerializer,
    RevenueSerializer,
)


class CompanyOrShopScopedMixin:
    """Rows of the user's shops plus company-wide rows (no shop) — overheads are nobody's shop."""

    def get_queryset(self):
        queryset = super().get_queryset()
        shop_ids = user_shop_ids(self.request.user)
        if shop_ids is None:
            return queryset
        return queryset.filter(Q(shop_id__in=shop_ids) | Q(shop__isnull=True))


class CurrencyViewSet(ErpModelViewSet):
    queryset = Currency.objects.all()
    serializer_class = CurrencySerializer
    filterset_fields = ["is_active"]
    search_fields = ["code", "name"]
    ordering_fields = ["code"]


class ExchangeRateViewSet(ErpModelViewSet):
    queryset = ExchangeRate.objects.all()
    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilter
    ordering_fields = ["rate_date", "currency"]


class _BookedAmountViewSet(CompanyOrShopScopedMixin, ErpModelViewSet):
    """Writes convert the amount to base currency through `booked_amount_save`."""

    def perform_create(self, serializer):
        serializer.instance = services.booked_amount_save(
            instance=serializer.Meta.model(), user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.booked_amount_save(
            instance=serializer.instance, user=self.request.user, **serializer.validated_data
        )


class FinancialRecordViewSet(_BookedAmountViewSet):
    queryset = FinancialRecord.objects.all()
    serializer_class = FinancialRecordSerializer
    filterset_class = FinancialRecordFilter
    search_fields = ["description"]
    ordering_fields = ["occurred_at", "amount_base"]


class RevenueViewSet(_BookedAmountViewSet):
    queryset = Revenue.objects.all()
    serializer_class = RevenueSerializer
    filterset_class = RevenueFilter
    search_fields = ["description"]
    ordering_fields = ["revenue_date", "amount_base"]


class ExpenseViewSet(CompanyOrShopScopedMixin, ErpModelViewSet):
    """Expenses are submitted, then approved or rejected (with a reason) by finance."""

    queryset = Expense.objects.all()
    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilter
    search_fields = ["description"]
    ordering_fields = ["expense_date", "amount_base", "created_at"]
    action_permissions = {"approve": ["finance.approve_expense"], "reject": ["finance.approve_expense"]}

    def perform_create(self, serializer):
        serializer.instance = services.expense_submit(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.expense_update(
            expense=serializer.instance, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, responses=ExpenseSerializer, description="批准待审批的费用（需要 finance.approve_expense）。")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        expense = services.expense_approve(expense=self.get_object(), user=request.user)
        return Response(self.get_serializer(expense).data)

    @extend_schema(request=ExpenseRejectSerializer, responses=ExpenseSerializer, description="驳回费用，必须填写原因。")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        expense = self.get_object()
        serializer = ExpenseRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expense = services.expense_reject(expense=expense, user=request.user, reason=serializer.validated_data["reason"])
        return Response(self.get_serializer(expense).data, status=status.HTTP_200_OK)
