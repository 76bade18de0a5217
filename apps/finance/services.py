"""Finance actions: expenses and their approval."""
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import DomainError, InvalidStateTransition
from apps.finance.models import Expense, FinancialRecord, Revenue
from apps.finance.selectors import to_base
from apps.users.models import AuditLog


def _audit(user, action: str, expense: Expense, changes: dict) -> None:
    AuditLog.objects.create(
        user=user, action=action, object_type="finance.expense", object_id=str(expense.pk),
        object_repr=str(expense)[:200], changes=changes,
    )


@transaction.atomic
def expense_submit(*, user=None, **fields) -> Expense:
    """Records an expense for approval, converted to base currency at the expense day's rate."""
    amount_base, rate = to_base(amount=fields["amount"], currency=fields["currency"].code, on_date=fields["expense_date"])
    expense = Expense.objects.create(
        **fields, exchange_rate=rate, amount_base=amount_base, status=Expense.Status.SUBMITTED, submitted_by=user
    )
    _audit(user, "expense.submit", expense, {"amount": str(expense.amount), "currency": expense.currency_id})
    return expense


@transaction.atomic
def expense_update(*, expense: Expense, user=None, **fields) -> Expense:
    """Edits an expense still awaiting approval."""
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if expense.status != Expense.Status.SUBMITTED:
        raise InvalidStateTransition(f"费用已{expense.get_status_display()}，不能再修改。")
    for name, value in fields.items():
        setattr(expense, name, value)
    expense.amount_base, expense.exchange_rate = to_base(
        amount=expense.amount, currency=expense.currency_id, on_date=expense.expense_date
    )
    expense.save()
    _audit(user, "expense.update", expense, {k: str(v) for k, v in fields.items()})
    return expense


def _review(expense: Expense, *, user, status: str, reason: str = "") -> Expense:
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if expense.status != Expense.Status.SUBMITTED:
        raise InvalidStateTransition(f"费用已{expense.get_status_display()}，不能重复审批。")
    expense.status = status
    expense.reviewed_by = user
    expense.reviewed_at = timezone.now()
    expense.rejection_reason = reason
    expense.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason", "updated_at"])
    _audit(user, f"expense.{status}", expense, {"status": status, "reason": reason})
    return expense


@transaction.atomic
def expense_approve(*, expense: Expense, user) -> Expense:
    """Approves a submitted expense."""
    return _review(expense, user=user, status=Expense.Status.APPROVED)


@transaction.atomic
def expense_reject(*, expense: Expense, user, reason: str) -> Expense:
    """Rejects a submitted expense; a reason is required."""
    if not reason.strip():
        raise DomainError("驳回必须填写原因。", field="reason")
    return _review(expense, user=user, status=Expense.Status.REJECTED, reason=reason.strip())


@transaction.atomic
def booked_amount_save(*, instance: FinancialRecord | Revenue, user=None, **fields) -> FinancialRecord | Revenue:
    """Creates or edits a financial record or revenue, converting its amount at the day's rate."""
    for name, value in fields.items():
        setattr(instance, name, value)
    on_date = (
        instance.revenue_date if isinstance(instance, Revenue) else timezone.localdate(instance.occurred_at)
    )
    instance.amount_base, instance.exchange_rate = to_base(
        amount=instance.amount, currency=instance.currency_id, on_date=on_date
    )
    instance.save()
    AuditLog.objects.create(
        user=user, action=f"{instance._meta.model_name}.save", object_type=instance._meta.label_lower,
        object_id=str(instance.pk), object_repr=str(instance)[:200],
        changes={k: str(v) for k, v in fields.items()},
    )
    return instance
