"""Runs the demo generator's parts in order, in one transaction: all of it or nothing."""
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q

from apps.finance.models import Currency, ExchangeRate, Expense, FinancialRecord, Revenue
from apps.inventory.models import (
    BundleComponent,
    Category,
    InventoryItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    StockAdjustment,
    StockMovement,
    StockTransfer,
    Supplier,
    Warehouse,
)
from apps.platforms.models import Listing, Platform, Shop
from apps.sales.models import Customer, Order, OrderLine, SalesDaily, Salesperson, SalesTarget, SkuSalesDaily
from apps.sales.services import sales_rollups_rebuild
from apps.users.models import User

from . import catalogue, finance, reference, users
from .context import DemoContext, DemoOptions
from .orders import OrderGenerator
from .shops import SHOPS, create_listings, create_shops
from .stock import StockSimulator
from .volume import daily_counts, stock_forecast
from .writer import analyze

SUMMARY_MODELS = [
    Currency, ExchangeRate, Platform, Shop, Listing, Category, Product, BundleComponent, Warehouse, Supplier,
    PurchaseOrder, PurchaseOrderLine, InventoryItem, StockMovement, StockAdjustment, StockTransfer, Shipment,
    ShipmentLine, Customer, Order, OrderLine, SalesDaily, SkuSalesDaily, Salesperson, SalesTarget, FinancialRecord,
    Expense, Revenue, User,
]


@dataclass
class DemoResult:
    start: dt.date
    end: dt.date
    accounts: list[users.DemoAccount]
    counts: list[tuple[str, int]]
    seconds: float


def database_has_orders() -> bool:
    return Order.objects.exists()


def _refuse_clashes() -> None:
    """The demo writes fixed codes; refuse instead of mixing into data that already uses them."""
    clashes = []
    if Shop.objects.filter(code__in=[spec.code for spec in SHOPS]).exists():
        clashes.append("店铺")
    if Warehouse.objects.filter(code__in=[code for code, *_ in reference.WAREHOUSES]).exists():
        clashes.append("仓库")
    if Supplier.objects.filter(code__in=[code for code, *_ in reference.SUPPLIERS]).exists():
        clashes.append("供应商")
    if Product.objects.filter(Q(sku__startswith="BD-") | Q(sku__regex=r"^[A-Z0-9]{2}-\d{3}-")).exists():
        clashes.append("商品")
    if clashes:
        raise CommandError(f"数据库中已有演示数据使用的{'、'.join(clashes)}编码；请在空数据库上运行 seed_demo。")


def seed_demo(options: DemoOptions, *, today: dt.date, log: Callable[[str], None] = lambda message: None) -> DemoResult:
    """Fills an empty database with deterministic demo data for the given seed and end date."""
    started = time.perf_counter()
    ctx = DemoContext.create(options, today)

    def step(message: str) -> None:
        log(f"[{time.perf_counter() - started:7.1f}s] {message}")

    with transaction.atomic():
        if database_has_orders():
            raise CommandError("数据库中已有订单，seed_demo 只在空数据库上运行（可加 --if-empty 跳过）。")
        _refuse_clashes()
        step(f"范围 {ctx.start} ~ {ctx.end}，订单 {options.orders}，随机种子 {options.seed}")
        reference.create_currencies(ctx)
        reference.create_exchange_rates(ctx)
        platforms = reference.create_platforms()
        warehouses = reference.create_warehouses()
        suppliers = reference.create_suppliers(ctx)
        accounts = users.create_users()
        by_username = {account.username: account.user for account in accounts}
        salespeople = users.create_salespeople(accounts)
        shops = create_shops(ctx, platforms, warehouses, salespeople)
        users.assign_shops(accounts, shops)
        step("币种、汇率、平台、仓库、供应商、用户、店铺")
        products = catalogue.create_products(ctx, suppliers)
        create_listings(ctx, shops, products)
        step("商品、组合商品、平台商品")

        hub = warehouses[reference.HUB_WAREHOUSE]
        counts = daily_counts(ctx, shops)
        forecast = stock_forecast(ctx, shops, counts, hub.pk)
        catalogue.set_reorder_points(products, {pid: daily for (pid, wid), daily in forecast.items() if wid == hub.pk})
        stock = StockSimulator(ctx, products=products, hub_id=hub.pk, user=by_username["warehouse"])
        stock.open(forecast)
        generator = OrderGenerator(
            ctx, shops, stock, {index: shop.spec.salesperson for index, shop in enumerate(shops)},
            by_username["warehouse"],
        )
        totals = generator.run(counts)
        step("客户、订单、库存流水")
        purchases = stock.finish(approver=by_username["admin"])
        step("库存、采购单")

        finance.create_financial_records(ctx, shops, totals, purchases)
        finance.create_expenses(ctx, shops, totals, by_username)
        finance.create_revenues(ctx, shops, totals)
        users.create_sales_targets(ctx, salespeople, totals.by_salesperson_month)
        step("财务记录、费用、收入、销售目标")
        analyze(Order, OrderLine)
        sales_rollups_rebuild(start=ctx.start, end=ctx.end, batch_size=options.batch_size)
        step("销售日汇总")

    counts_by_table = [(model._meta.verbose_name, model.objects.count()) for model in SUMMARY_MODELS]
    return DemoResult(ctx.start, ctx.end, accounts, counts_by_table, time.perf_counter() - started)
