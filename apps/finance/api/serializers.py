from rest_framework import serializers

from apps.finance.models import Currency, ExchangeRate, Expense, FinancialRecord, Revenue


class CurrencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["code", "name", "symbol", "decimal_places", "is_active"]

    def validate_code(self, value):
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise serializers.ValidationError("币种代码需为三位大写字母（ISO 4217），如 USD。")
        return value


class ExchangeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "base_currency", "rate_date", "rate", "source", "created_at"]
        read_only_fields = ["created_at"]

    def validate_rate(self, value):
        if value <= 0:
            raise serializers.ValidationError("汇率必须大于 0。")
        return value


class FinancialRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = FinancialRecord
        fields = [
            "id", "record_type", "direction", "shop", "order", "currency", "amount", "exchange_rate", "amount_base",
            "occurred_at", "description", "created_at",
        ]
        read_only_fields = ["exchange_rate", "amount_base", "created_at"]

    def validate_amount(self, value):
        if value < 0:
            raise serializers.ValidationError("金额不能为负数。")
        return value



class ExpenseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Expense
        fields = [
            "id", "category", "shop", "expense_date", "currency", "amount", "exchange_rate", "amount_base",
            "description", "status", "submitted_by", "reviewed_by", "reviewed_at", "rejection_reason", "created_at",
        ]
        read_only_fields = [
            "exchange_rate", "amount_base", "status", "submitted_by", "reviewed_by", "reviewed_at",
            "rejection_reason", "created_at",
        ]

    def validate_amount(self, value):
        if value <= 0:
            raise serializers.ValidationError("金额必须大于 0。")
        return value


class ExpenseRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, allow_blank=False)


class RevenueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Revenue
        fields = [
            "id", "source", "shop", "revenue_date", "currency", "amount", "exchange_rate", "amount_base", "description",
            "created_at",
        ]
        read_only_fields = ["exchange_rate", "amount_base", "created_at"]

    def validate_amount(self, value):
        if value < 0:
            raise serializers.ValidationError("金额不能为负数。")
        return value

