"""Stock analyses (库存分析, 补货建议): stock rows grouped in the database, demand from the SKU rollup
(SkuSalesDaily), inbound from open purchase-order lines. Pure reads.

Stock belongs to warehouses, not shops, so stock figures are company-wide (as `stock/` is); demand
and COGS are the user's shops' sales (narrowed by `shop` / `platform`). A shop's sales are taken to
ship from its default warehouse: that is how demand is split per warehouse."""
import datetime as dt
from decimal import Decimal

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Sum

from apps.core.api.params import PageRequest, Period, Scope
from apps.core.money import ZERO, quantize_money
from apps.finance.selectors import RateTable
from apps.inventory.models import InventoryItem, Product, PurchaseOrder, PurchaseOrderLine, Warehouse
from apps.sales.analytics.metrics import daily_rows, decimal_text, money, money_output, money_sum, sku_rows

TRAILING_DAYS = 30
REPLENISHMENT_ORDERING = ("suggested_quantity", "projected_stockout_date", "days_of_cover", "available", "sku")
OPEN_PO_STATUSES = (PurchaseOrder.Status.APPROVED, PurchaseOrder.Status.PARTIALLY_RECEIVED)

STOCK_DEFINITIONS = f"""\
库存属于仓库而非店铺，库存数字为全公司口径（与 stock/ 一致）；销量与销售成本只含您可见（及 shop/platform 限定）的店铺。
“近 {TRAILING_DAYS} 天”= 以今天（业务时区）为最后一天的 {TRAILING_DAYS} 天。店铺的销量计入其默认发货仓；指定 `warehouse` 时，
销量只含默认发货仓为该仓的店铺。
- stock_value 库存金额 = Σ 在库数量 × 商品成本价 × 今日汇率（成本币种 → 本位币，今日无汇率时取 3 天内最近的，再无则 400）。
- turnover：cogs_30d = 近 {TRAILING_DAYS} 天销售成本（SalesDaily）；turnover_30d 周转率 = cogs_30d / stock_value；
  days_of_inventory 库存周转天数 = stock_value / (cogs_30d / {TRAILING_DAYS})；分母为 0 时为 null。
- days_of_cover 可售天数（每个 SKU）：daily_demand = 近 {TRAILING_DAYS} 天销量 / {TRAILING_DAYS}；
  days_of_cover = 可用数量 / daily_demand，无销量为 null。按可售天数升序（null 在后），最多 `limit` 条，count 为总数。
- slow_movers 滞销：在库数量 > 0 且近 `slow_days` 天没有销量的 SKU，按库存金额降序，附最后销售日期（null 为从未售出）。
- low_stock 低库存：可用数量 < 补货点（库存行的 reorder_point）的库存行，按缺口（补货点 − 可用）降序。"""

REPLENISHMENT_DEFINITIONS = f"""\
每个 (SKU, 仓库) 一行：有库存行、或有销量（按店铺默认发货仓归属）、或有在途采购的组合。
- units_30d：近 {TRAILING_DAYS} 天销量（SkuSalesDaily）；daily_demand 预测日需求 = units_30d / {TRAILING_DAYS}。
- inbound 在途 = Σ 已审批或部分到货采购单中到该仓的 (采购数量 − 已收数量)。
- forecast_demand = ⌈daily_demand × (lead_time_days + safety_days)⌉（商品的采购周期与安全库存天数）。
- suggested_quantity 建议采购量 = max(0, forecast_demand + reorder_point − available − inbound)，
  reorder_point 为库存行的补货点（尚无库存行时取商品的补货点），available 为可用数量（无库存行为 0）。
- days_of_cover = available / daily_demand；projected_stockout_date 预计断货日 = 今天 + ⌊available / daily_demand⌋ 天
  （可用 ≤ 0 为今天）；无需求时两者为 null。
- unattributed_units_30d：没有默认发货仓的店铺的销量，未计入任何仓库。"""


def _trailing(today: dt.date, days: int = TRAILING_DAYS) -> Period:
    return Period(start=today - dt.timedelta(days=days - 1), end=today)


def _items(warehouse_id: int | None):
    items = InventoryItem.objects.order_by()
    return items if warehouse_id is None else items.filter(warehouse_id=warehouse_id)


def _demand_rows(scope: Scope, today: dt.date, warehouse_id: int | None):
    rows = sku_rows(_trailing(today), scope).order_by()
    return rows if warehouse_id is None else rows.filter(shop__default_warehouse_id=warehouse_id)


def _cost_sum():
    return Sum(F("on_hand") * F("product__cost_price"), output_field=money_output())


def inventory_analysis(*, scope: Scope, warehouse_id: int | None, slow_days: int, limit: int, today: dt.date) -> dict:
    """Stock value by warehouse, turnover, days of cover, slow movers and low stock, as of today."""
    items = _items(warehouse_id)
    by_warehouse = list(
        items.values("warehouse_id", "warehouse__code", "warehouse__name", "warehouse__kind",
                     "product__cost_currency_id")
        .annotate(total_on_hand=Sum("on_hand"), total_available=Sum("available"), total_reserved=Sum("reserved"),
                  cost=_cost_sum(), skus=Count("id", filter=Q(on_hand__gt=0)))
        .order_by("warehouse__code")
    )
    products = list(
        items.values("product_id", "product__sku", "product__name", "product__cost_currency_id")
        .annotate(total_on_hand=Sum("on_hand"), total_available=Sum("available"), cost=_cost_sum())
    )
    rates = RateTable(start=today, end=today,
                      currencies={row["product__cost_currency_id"] for row in by_warehouse + products})

    def value(row) -> Decimal:
        return (row["cost"] or ZERO) * rates.rate(row["product__cost_currency_id"], today)

    warehouses: dict[int, dict] = {}
    for row in by_warehouse:
        entry = warehouses.setdefault(row["warehouse_id"], {
            "warehouse_id": row["warehouse_id"], "code": row["warehouse__code"], "name": row["warehouse__name"],
            "kind": row["warehouse__kind"], "skus": 0, "on_hand": 0, "available": 0, "reserved": 0, "value": ZERO,
        })
        entry["skus"] += row["skus"]
        for name in ("on_hand", "available", "reserved"):
            entry[name] += row[f"total_{name}"] or 0
        entry["value"] += value(row)
    stock_value = quantize_money(sum((w["value"] for w in warehouses.values()), ZERO))
    cogs = daily_rows(_trailing(today), scope)
    if warehouse_id is not None:
        cogs = cogs.filter(shop__default_warehouse_id=warehouse_id)
    cogs_30d = cogs.aggregate(cogs=money_sum("cogs_base"))["cogs"]
    demand = {
        row["product_id"]: row
        for row in _demand_rows(scope, today, warehouse_id).values("product_id", "product__sku", "product__name")
        .annotate(units=Sum("units"))
    }
    stock_by_product = {row["product_id"]: row for row in products}
    for row in products:
        row["value"] = value(row)
    return {
        "as_of": today,
        "trailing_days": TRAILING_DAYS,
        "warehouse": warehouse_id,
        "stock_value": money(stock_value),
        "on_hand": sum(w["on_hand"] for w in warehouses.values()),
        "available": sum(w["available"] for w in warehouses.values()),
        "by_warehouse": [{**{k: v for k, v in w.items() if k != "value"}, "stock_value": money(w["value"])}
                         for w in warehouses.values()],
        "turnover": {
            "cogs_30d": money(cogs_30d),
            "stock_value": money(stock_value),
            "turnover_30d": decimal_text(cogs_30d / stock_value) if stock_value else None,
            "days_of_inventory": decimal_text(stock_value * TRAILING_DAYS / cogs_30d) if cogs_30d else None,
        },
        "days_of_cover": _days_of_cover(stock_by_product, demand, limit),
        "slow_movers": _slow_movers(products, scope, today, slow_days, limit),
        "low_stock": _low_stock(items, limit),
    }


def _days_of_cover(stock: dict[int, dict], demand: dict[int, dict], limit: int) -> dict:
    rows = []
    for product_id in stock.keys() | demand.keys():
        label = stock.get(product_id) or demand[product_id]
        available = stock[product_id]["total_available"] if product_id in stock else 0
        units = demand[product_id]["units"] if product_id in demand else 0
        cover = Decimal(available) * TRAILING_DAYS / units if units else None
        rows.append({
            "product_id": product_id, "sku": label["product__sku"], "name": label["product__name"],
            "available": available, "units_30d": units,
            "daily_demand": decimal_text(Decimal(units) / TRAILING_DAYS), "days_of_cover": cover,
        })
    rows.sort(key=lambda r: (r["days_of_cover"] is None, r["days_of_cover"] or 0, r["sku"]))
    for row in rows[:limit]:
        row["days_of_cover"] = decimal_text(row["days_of_cover"])
    return {"count": len(rows), "items": rows[:limit]}


def _slow_movers(products: list[dict], scope: Scope, today: dt.date, days: int, limit: int) -> dict:
    # Only products with stock can be slow movers: one probe each (product/date index) instead of
    # reading every rollup row of the window for the set of products sold.
    stocked = [row["product_id"] for row in products if row["total_on_hand"] > 0]
    recent = sku_rows(_trailing(today, days), scope).filter(product_id=OuterRef("pk"))
    sold = set(
        Product.objects.filter(pk__in=stocked).filter(Exists(recent)).values_list("pk", flat=True)
    ) if stocked else set()
    slow = sorted((row for row in products if row["total_on_hand"] > 0 and row["product_id"] not in sold),
                  key=lambda row: (-row["value"], row["product__sku"]))
    shown = slow[:limit]
    last_sold = dict(
        sku_rows(Period(dt.date.min, today), scope).filter(product_id__in=[row["product_id"] for row in shown])
        .values("product_id").annotate(last=Max("date")).values_list("product_id", "last")
    ) if shown else {}
    return {
        "days": days,
        "count": len(slow),
        "stock_value": money(sum((row["value"] for row in slow), ZERO)),
        "items": [
            {"product_id": row["product_id"], "sku": row["product__sku"], "name": row["product__name"],
             "on_hand": row["total_on_hand"], "stock_value": money(row["value"]),
             "last_sold_on": last_sold.get(row["product_id"])}
            for row in shown
        ],
    }


def _low_stock(items, limit: int) -> dict:
    low = items.filter(available__lt=F("reorder_point"))
    rows = low.annotate(shortfall=F("reorder_point") - F("available")).select_related("product", "warehouse") \
        .order_by("-shortfall", "product__sku", "warehouse__code")[:limit]
    return {
        "count": low.count(),
        "items": [
            {"product_id": item.product_id, "sku": item.product.sku, "name": item.product.name,
             "warehouse": {"id": item.warehouse_id, "code": item.warehouse.code, "name": item.warehouse.name},
             "on_hand": item.on_hand, "available": item.available, "reorder_point": item.reorder_point,
             "shortfall": item.shortfall}
            for item in rows
        ],
    }


def inventory_replenishment(
    *, scope: Scope, warehouse_id: int | None, needs_reorder: bool, ordering: tuple[str, bool], page: PageRequest,
    today: dt.date,
) -> dict:
    """Suggested purchase quantity and projected stock-out date per (SKU, warehouse)."""
    product_fields = ("product__sku", "product__name", "product__lead_time_days", "product__safety_days",
                      "product__reorder_point")
    rows: dict[tuple[int, int], dict] = {}

    def row_for(product_id, warehouse_id_, source, warehouse_prefix):
        key = (product_id, warehouse_id_)
        if key not in rows:
            rows[key] = {
                "product": {name.removeprefix("product__"): source[name] for name in product_fields},
                "warehouse": {"id": warehouse_id_, "code": source[f"{warehouse_prefix}code"],
                              "name": source[f"{warehouse_prefix}name"]},
                "product_id": product_id, "available": 0, "reorder_point": source["product__reorder_point"],
                "inbound": 0, "units": 0,
            }
        return rows[key]

    for item in _items(warehouse_id).values("product_id", "warehouse_id", "available", "reorder_point",
                                            "warehouse__code", "warehouse__name", *product_fields):
        row = row_for(item["product_id"], item["warehouse_id"], item, "warehouse__")
        row["available"], row["reorder_point"] = item["available"], item["reorder_point"]
    unattributed = 0
    # Grouped by the two keys only (a narrow hash of ~60k rollup rows); names are looked up after.
    demand = list(
        _demand_rows(scope, today, warehouse_id).values_list("product_id", "shop__default_warehouse_id")
        .annotate(total=Sum("units"))
    )
    missing = {(pid, wid) for pid, wid, _ in demand if wid is not None and (pid, wid) not in rows}
    products = Product.objects.in_bulk({pid for pid, _ in missing})
    warehouses = Warehouse.objects.in_bulk({wid for _, wid in missing})
    for product_id, demand_warehouse_id, total in demand:
        if demand_warehouse_id is None:
            unattributed += total
            continue
        key = (product_id, demand_warehouse_id)
        if key not in rows:
            product, warehouse = products[product_id], warehouses[demand_warehouse_id]
            source = {name: getattr(product, name.removeprefix("product__")) for name in product_fields}
            row_for(product_id, demand_warehouse_id, {**source, "code": warehouse.code, "name": warehouse.name}, "")
        rows[key]["units"] += total
    inbound = PurchaseOrderLine.objects.filter(purchase_order__status__in=OPEN_PO_STATUSES)
    if warehouse_id is not None:
        inbound = inbound.filter(purchase_order__warehouse_id=warehouse_id)
    for line in inbound.values(
        "product_id", "purchase_order__warehouse_id", "purchase_order__warehouse__code",
        "purchase_order__warehouse__name", *product_fields,
    ).annotate(open=Sum(F("quantity_ordered") - F("quantity_received"), output_field=IntegerField())).order_by():
        row_for(line["product_id"], line["purchase_order__warehouse_id"], line, "purchase_order__warehouse__")[
            "inbound"] += line["open"]

    result = [_suggestion(row, today) for row in rows.values()]
    if needs_reorder:
        result = [row for row in result if row["suggested_quantity"] > 0]
    name, descending = ordering
    def tie(row):
        return row["sku"], row["warehouse"]["code"]

    known = sorted((r for r in result if r[name] is not None), key=tie)
    known.sort(key=lambda r: r[name], reverse=descending)  # stable: ties stay in SKU, warehouse order
    ordered = known + sorted((r for r in result if r[name] is None), key=tie)
    items = page.slice(ordered)
    for row in items:
        row["days_of_cover"] = decimal_text(row["days_of_cover"])
    return page.envelope(items, len(ordered), as_of=today, trailing_days=TRAILING_DAYS,
                         unattributed_units_30d=unattributed)


def _suggestion(row: dict, today: dt.date) -> dict:
    product, units, available = row["product"], row["units"], row["available"]
    horizon = product["lead_time_days"] + product["safety_days"]
    forecast = -(-units * horizon // TRAILING_DAYS)  # ⌈units / 30 × horizon⌉ in integers
    suggested = max(0, forecast + row["reorder_point"] - available - row["inbound"])
    if units:
        cover = Decimal(available) * TRAILING_DAYS / units
        stockout = today + dt.timedelta(days=max(0, available) * TRAILING_DAYS // units)
    else:
        cover = stockout = None
    return {
        "product_id": row["product_id"], "sku": product["sku"], "name": product["name"],
        "warehouse": row["warehouse"], "available": available, "reorder_point": row["reorder_point"],
        "inbound": row["inbound"], "units_30d": units, "daily_demand": decimal_text(Decimal(units) / TRAILING_DAYS),
        "lead_time_days": product["lead_time_days"], "safety_days": product["safety_days"],
        "forecast_demand": forecast, "suggested_quantity": suggested,
        "days_of_cover": cover, "projected_stockout_date": stockout,
    }
