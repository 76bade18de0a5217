"""The ingest's row writers write what bulk_create / bulk_update would, inside the caller's transaction."""
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from apps.core.testing import count_queries
from apps.platforms.tests.factories import ShopFactory
from apps.sales.ingest.fastwrite import CopyWriter, OrmWriter, ValuesIn
from apps.sales.models import Customer

pytestmark = pytest.mark.django_db

WRITERS = [OrmWriter, CopyWriter] if connection.vendor == "postgresql" else [OrmWriter]
FIELDS = ("shop_id", "platform_buyer_id", "email", "name", "country")


@pytest.fixture(params=WRITERS, ids=lambda cls: cls.__name__)
def writer(request):
    return request.param()


def test_inserted_rows_get_their_ids_in_order_and_the_model_defaults(writer):
    shop = ShopFactory()
    rows = [(shop.pk, f"b-{n}", f"{n}@example.com", f"Buyer {n}", "US") for n in range(3)]

    ids = writer.insert(Customer, FIELDS, rows, return_ids=True)

    stored = {c.pk: c for c in Customer.objects.filter(pk__in=ids)}
    assert [stored[pk].platform_buyer_id for pk in ids] == ["b-0", "b-1", "b-2"]
    assert all(c.phone == "" and c.created_at is not None and c.updated_at is not None for c in stored.values())


def test_rows_inserted_without_ids_are_stored(writer):
    shop = ShopFactory()

    assert writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "", "", "")]) is None

    assert Customer.objects.get().platform_buyer_id == "b-1"


def test_an_update_writes_the_fields_and_the_time_of_the_change(writer):
    shop = ShopFactory()
    [pk] = writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "a@example.com", "Ann", "US")], return_ids=True)
    before = Customer.objects.get().updated_at

    writer.update(Customer, ("name", "country"), [(pk, "Anna", "DE")])

    customer = Customer.objects.get()
    assert (customer.name, customer.country, customer.email) == ("Anna", "DE", "a@example.com")
    assert customer.updated_at > before


def test_the_database_constraints_still_guard_the_rows(writer):
    shop = ShopFactory()
    writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "", "", "")])

    with pytest.raises(IntegrityError), transaction.atomic():
        writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "", "", "")])  # same buyer id in the same shop
    with pytest.raises(IntegrityError), transaction.atomic():
        writer.insert(Customer, FIELDS, [(shop.pk, "", "", "", "")])  # neither a buyer id nor an e-mail

    assert Customer.objects.count() == 1


def test_a_write_rolls_back_with_the_callers_transaction(writer):
    shop = ShopFactory()

    with transaction.atomic():
        writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "", "", "")], return_ids=True)
        transaction.set_rollback(True)

    assert not Customer.objects.exists()


def test_a_write_counts_as_queries_whatever_the_number_of_rows(writer):
    shop = ShopFactory()
    one = count_queries(lambda: writer.insert(Customer, FIELDS, [(shop.pk, "a", "", "", "")], return_ids=True))
    many = count_queries(
        lambda: writer.insert(Customer, FIELDS, [(shop.pk, f"b{n}", "", "", "") for n in range(50)], return_ids=True)
    )
    assert one == many >= 1


def test_values_in_matches_the_given_values_and_nothing_for_none():
    shop = ShopFactory()
    Customer.objects.bulk_create([Customer(shop=shop, platform_buyer_id=f"b-{n}") for n in range(4)])
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))

    by_code = Customer.objects.filter(ValuesIn(F("platform_buyer_id"), ["b-1", "b-3", "zz"]))
    by_id = Customer.objects.filter(ValuesIn(F("pk"), pks[:2]))

    assert sorted(by_code.values_list("platform_buyer_id", flat=True)) == ["b-1", "b-3"]
    assert sorted(by_id.values_list("pk", flat=True)) == pks[:2]
    assert not Customer.objects.filter(ValuesIn(F("pk"), [])).exists()
    assert Customer.objects.filter(ValuesIn(F("pk"), []) | ValuesIn(F("pk"), pks[:1])).count() == 1



def test_text_with_tabs_newlines_and_backslashes_is_stored_as_given(writer):
    shop = ShopFactory()
    name = "Tab\there, new\nline, back\\slash, \\N and 中文"
    [pk] = writer.insert(Customer, FIELDS, [(shop.pk, "b-1", "", name, "")], return_ids=True)
    assert Customer.objects.get(pk=pk).name == name


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="deferred checks are PostgreSQL's")


@postgresql_only
def test_deferred_foreign_key_checks_run_when_asked_not_only_at_the_commit():
    from apps.sales.ingest.fastwrite import deferred_checks_run

    shop = ShopFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CopyWriter().insert(Customer, ("shop_id", "platform_buyer_id"), [(shop.pk + 10_000, "b-1")])  # no such shop
        deferred_checks_run()
        pytest.fail("the missing shop was not noticed")


@postgresql_only
def test_after_the_checks_run_foreign_keys_are_deferred_again():
    from apps.sales.ingest.fastwrite import deferred_checks_run

    shop = ShopFactory()
    with transaction.atomic():
        deferred_checks_run()
        # A row pointing nowhere for a moment is accepted until the end of the transaction again.
        CopyWriter().insert(Customer, ("shop_id", "platform_buyer_id"), [(shop.pk + 10_000, "b-1")])
        Customer.objects.filter(platform_buyer_id="b-1").update(shop_id=shop.pk)
    assert Customer.objects.get().shop_id == shop.pk


@postgresql_only
def test_checks_kept_deferred_wait_for_the_commit_while_the_others_run_when_asked():
    from apps.sales.ingest.fastwrite import deferred_checks_run
    from apps.sales.models import Order

    shop = ShopFactory()
    customer_fk = Order._meta.get_field("customer")
    with transaction.atomic():
        # A customer row another transaction has not committed yet, as far as this one can see.
        order_fields = ("shop_id", "platform_order_id", "currency_id", "exchange_rate", "status", "ordered_at",
                        "customer_id")
        CopyWriter().insert(Order, order_fields, [(shop.pk, "o-1", shop.currency_id, 1, "paid", "2024-01-01 00:00+00",
                                                  999_999)])
        deferred_checks_run(keep_deferred=[customer_fk])
        Order.objects.filter(platform_order_id="o-1").update(customer=None)
    assert Order.objects.get().customer_id is None
    with pytest.raises(IntegrityError), transaction.atomic():
        CopyWriter().insert(Customer, ("shop_id", "platform_buyer_id"), [(shop.pk + 10_000, "b-1")])  # no such shop
        deferred_checks_run(keep_deferred=[customer_fk])
        pytest.fail("the missing shop was not noticed")
    with transaction.atomic():
        deferred_checks_run(keep_deferred=[customer_fk])
        CopyWriter().insert(Customer, ("shop_id", "platform_buyer_id"), [(shop.pk + 10_000, "b-2")])
        Customer.objects.filter(platform_buyer_id="b-2").update(shop_id=shop.pk)  # deferred again afterwards
    assert Customer.objects.get(platform_buyer_id="b-2").shop_id == shop.pk


@postgresql_only
def test_every_deferrable_constraint_starts_deferred():
    # deferred_checks_run ends with `SET CONSTRAINTS ALL DEFERRED`: a deferrable constraint that
    # starts immediate would be left deferred for the rest of the transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE condeferrable AND NOT condeferred")
        assert cursor.fetchall() == []


def test_every_kind_of_value_comes_back_as_the_orm_would_store_it(writer):
    import datetime as dt
    from decimal import Decimal

    from apps.finance.tests.factories import CurrencyFactory
    from apps.platforms.models import Listing

    shop = ShopFactory()
    CurrencyFactory(code="USD")
    fields = ("shop_id", "platform_sku", "title", "price", "is_active", "platform_stock", "currency_id")
    rows = [
        (shop.pk, "A\\1", "Tab\tnew\nline\r\\N", Decimal("12.50"), False, None, "USD"),
        (shop.pk, "B", "None", Decimal("1E+1"), True, 0, "USD"),
        (shop.pk, "C", "中文", Decimal("-0.00"), True, -3, "USD"),
    ]
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    writer.insert(Listing, fields, rows)
    stored = {listing.platform_sku: listing for listing in Listing.objects.all()}
    assert [(stored[r[1]].title, stored[r[1]].price, stored[r[1]].is_active, stored[r[1]].platform_stock,
             stored[r[1]].currency_id) for r in rows] == [r[2:] for r in rows]
    assert all(listing.created_at >= before and listing.product_id is None for listing in stored.values())

