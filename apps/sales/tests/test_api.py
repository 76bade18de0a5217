import datetime as dt
from decimal import Decimal

import pytest

from apps.core.testing import api_client_for, count_queries
from apps.finance.tests.factories import CurrencyFactory, ExchangeRateFactory, base_currency
from apps.platforms.tests.factories import ListingFactory, ShopFactory
from apps.sales.ingest import CustomerData, LineData, OrderData, orders_upsert
from apps.sales.models import Order, SalesDaily, Salesperson
from apps.users.models import AuditLog
from apps.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2025, 7, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def shops():
    base_currency()
    usd = CurrencyFactory(code="USD")
    for offset in range(-2, 3):
        ExchangeRateFactory(currency=usd, rate_date=dt.date(2025, 7, 1) + dt.timedelta(days=offset), rate=Decimal("7"))
    return ShopFactory(code="mine", currency=usd), ShopFactory(code="theirs", currency=usd)


@pytest.fixture
def ops(shops):
    user = UserFactory(username="ops", roles=["运营"])
    user.shops.add(shops[0])
    return api_client_for(user)


def collected(shop, pid, *, status="paid", country="US", sku="SKU-1", buyer="b1", when=WHEN):
    orders_upsert(shop=shop, orders=[OrderData(
        platform_order_id=pid, order_number=f"#{pid}", ordered_at=when, currency="USD", status=status,
        buyer_country=country, items_amount=Decimal("10"), total_amount=Decimal("10"),
        customer=CustomerData(platform_buyer_id=buyer, email=f"{buyer}@x.com"),
        lines=[LineData(platform_sku=sku, quantity=1, unit_price=Decimal("10"), line_total=Decimal("10"))],
    )])
    return Order.objects.get(shop=shop, platform_order_id=pid)


def manual_payload(shop, **overrides):
    payload = {
        "shop": shop.pk, "platform_order_id": "M-1", "status": "paid", "currency": "USD", "buyer_country": "de",
        "ordered_at": "2025-07-01T04:00:00Z", "shipping_amount": "5.00", "platform_fee": "1.00",
        "customer": {"email": "walkin@example.com", "name": "Walk In"},
        "lines": [{"platform_sku": "SKU-1", "quantity": 2, "unit_price": "20.00"}],
    }
    payload.update(overrides)
    return payload


def test_orders_list_shows_only_my_shops_orders_with_lines(ops, shops):
    collected(shops[0], "A1")
    collected(shops[1], "B1")
    body = ops.get("/api/v1/orders/").json()["data"]
    assert [o["platform_order_id"] for o in body["items"]] == ["A1"]
    assert body["items"][0]["lines"][0]["platform_sku"] == "SKU-1"
    assert body["total"] == 1


def test_another_shops_order_answers_404(ops, shops):
    order = collected(shops[1], "B1")
    assert ops.get(f"/api/v1/orders/{order.pk}/").status_code == 404


@pytest.mark.parametrize("query, expected", [
    ("status=cancelled", ["C"]), ("country=de", ["D"]), ("sku=OTHER", ["D"]),
    ("start=2025-07-02&end=2025-07-02", ["L"]), ("platform=shopify", ["C", "D", "L", "P"]),
])
def test_orders_filter_by_status_country_sku_and_business_dates(ops, shops, query, expected):
    collected(shops[0], "P")
    collected(shops[0], "C", status="cancelled")
    collected(shops[0], "D", country="DE", sku="OTHER")
    collected(shops[0], "L", when=dt.datetime(2025, 7, 1, 16, 30, tzinfo=dt.UTC))  # 00:30 on 2 July in Shanghai
    rows = ops.get(f"/api/v1/orders/?{query}&ordering=platform_order_id").json()["data"]["items"]
    assert [r["platform_order_id"] for r in rows] == expected


def test_a_malformed_date_filter_is_a_400_naming_the_parameter(ops):
    response = ops.get("/api/v1/orders/?start=2025-13-45")
    assert response.status_code == 400 and "start" in response.json()["error"]


def test_a_manual_order_is_stored_with_base_amounts_and_rollups(ops, shops):
    response = ops.post("/api/v1/orders/", manual_payload(shops[0]), format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["items_amount"], data["total_amount"], data["total_amount_base"]) == ("40.00", "45.00", "315.00")
    assert data["buyer_country"] == "DE"
    assert SalesDaily.objects.get(shop=shops[0]).gross_sales_base == Decimal("315.00")
    assert AuditLog.objects.filter(action="order.save").exists()


def test_a_duplicate_platform_order_id_is_refused(ops, shops):
    ops.post("/api/v1/orders/", manual_payload(shops[0]), format="json")
    response = ops.post("/api/v1/orders/", manual_payload(shops[0]), format="json")
    assert response.status_code == 400 and "platform_order_id" in response.json()["error"]


def test_a_manual_order_needs_lines_and_a_sane_refund(ops, shops):
    assert "lines" in ops.post("/api/v1/orders/", manual_payload(shops[0], lines=[]), format="json").json()["error"]
    response = ops.post("/api/v1/orders/", manual_payload(shops[0], refund_amount="100.00"), format="json")
    assert response.status_code == 400 and "refund_amount" in response.json()["error"]


def test_a_manual_order_on_a_day_without_a_rate_is_a_clear_400(ops, shops):
    response = ops.post("/api/v1/orders/", manual_payload(shops[0], ordered_at="2019-01-01T00:00:00Z"), format="json")
    assert response.status_code == 400 and "2019-01-01" in response.json()["message"]
    assert not Order.objects.exists()


def test_a_manual_order_for_another_shop_answers_404(ops, shops):
    assert ops.post("/api/v1/orders/", manual_payload(shops[1]), format="json").status_code == 404


def test_updating_an_order_cancels_it_and_the_rollup_follows(ops, shops):
    order_id = ops.post("/api/v1/orders/", manual_payload(shops[0]), format="json").json()["data"]["id"]
    response = ops.put(f"/api/v1/orders/{order_id}/", manual_payload(shops[0], status="cancelled"), format="json")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    assert not SalesDaily.objects.exists()


def test_deleting_an_order_removes_it_from_the_rollups(ops, shops):
    order = collected(shops[0], "X")
    assert ops.delete(f"/api/v1/orders/{order.pk}/").status_code == 204
    assert not SalesDaily.objects.exists() and not Order.objects.exists()


def test_finance_may_read_orders_but_not_write_them(shops):
    finance = UserFactory(username="fin", roles=["财务"])
    finance.shops.add(shops[0])
    client = api_client_for(finance)
    assert client.get("/api/v1/orders/").status_code == 200
    assert client.post("/api/v1/orders/", manual_payload(shops[0]), format="json").status_code == 403


def test_customers_carry_their_order_count_and_net_sales(ops, shops):
    collected(shops[0], "1", buyer="amy")
    collected(shops[0], "2", buyer="amy")
    collected(shops[0], "3", buyer="amy", status="cancelled")
    collected(shops[0], "0", buyer="amy", status="pending", when=WHEN - dt.timedelta(days=1))
    rows = ops.get("/api/v1/customers/").json()["data"]["items"]
    assert [(r["platform_buyer_id"], r["orders_count"], r["net_sales_base"]) for r in rows] == [("amy", 2, "140.00")]
    # the first counted order (the pending one does not count), in the API's time zone
    assert dt.datetime.fromisoformat(rows[0]["first_ordered_at"]) == WHEN


def test_salespeople_are_saved_with_monthly_targets():
    admin = api_client_for(UserFactory(username="boss", roles=["管理员"]))
    response = admin.post("/api/v1/salespeople/", {
        "name": "王芳", "targets": [{"month": "2025-07-01", "target_amount_base": "50000.00"}],
    }, format="json")
    assert response.status_code == 201, response.content
    assert Salesperson.objects.get().targets.get().target_amount_base == Decimal("50000.00")
    bad = admin.post("/api/v1/salespeople/", {"name": "x", "targets": [{"month": "2025-07-15",
                                                                         "target_amount_base": "1"}]}, format="json")
    assert bad.status_code == 400 and "targets" in bad.json()["error"]


@pytest.mark.parametrize("url", ["/api/v1/orders/", "/api/v1/customers/", "/api/v1/salespeople/"])
def test_sales_lists_cost_the_same_for_1_and_20_rows(url, shops):
    from apps.sales.tests.factories import SalespersonFactory, SalesTargetFactory

    admin = api_client_for(UserFactory(username="boss2", roles=["管理员"]))

    def add(n):
        collected(shops[0], f"Q{n}", buyer=f"buyer{n}")
        SalesTargetFactory(salesperson=SalespersonFactory())
        ListingFactory(shop=shops[0])

    add(0)
    one = count_queries(lambda: admin.get(url))
    for n in range(1, 20):
        add(n)
    assert admin.get(url).json()["data"]["total"] == 20
    assert count_queries(lambda: admin.get(url)) == one
