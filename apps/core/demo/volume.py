"""How many orders each day gets (growth, seasonality, shopping events, weekdays), which shop
they go to, at what time of day, and the stock demand that implies."""
import datetime as dt
import math
from bisect import bisect
from itertools import accumulate

from .context import DemoContext
from .shops import ShopInfo

MONTH_FACTOR = {1: 0.85, 2: 0.8, 3: 0.95, 4: 0.95, 5: 1.0, 6: 1.0, 7: 1.1, 8: 1.0, 9: 1.0, 10: 1.05, 11: 1.45, 12: 1.35}
WEEKDAY_FACTOR = [1.0, 0.98, 0.97, 0.98, 1.0, 1.05, 1.1]
# Buyers' activity by their local hour.
HOURLY_ACTIVITY = [0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0,
                   1.0, 0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.3, 1.0, 0.6]
SLOTS_PER_DAY = 96
AVERAGE_LINES = 2.5
AVERAGE_QUANTITY = 1.25


def _black_friday(year: int) -> dt.date:
    november = dt.date(year, 11, 1)
    first_friday = november + dt.timedelta(days=(4 - november.weekday()) % 7)
    return first_friday + dt.timedelta(weeks=3)


def _event_factor(day: dt.date) -> tuple[float, float]:
    """(factor for every shop, extra factor for Amazon shops) on shopping-event days."""
    friday = _black_friday(day.year)
    if friday <= day <= friday + dt.timedelta(days=3):
        return 2.0, 1.0
    if day.month == 7 and 15 <= day.day <= 16:  # Prime Day
        return 1.2, 2.0
    if day.month == 12 and day.day in (25, 26):
        return 0.6, 1.0
    return 1.0, 1.0


def shop_weights(shops: list[ShopInfo], day: dt.date) -> list[float]:
    _, amazon = _event_factor(day)
    return [
        (shop.spec.weight * (amazon if shop.spec.platform == "amazon" else 1.0)) if day >= shop.opens_on else 0.0
        for shop in shops
    ]


def daily_counts(ctx: DemoContext, shops: list[ShopInfo]) -> list[int]:
    """Orders per business day, summing exactly to the requested number."""
    rng = ctx.rng("volume")
    span = max(len(ctx.days) - 1, 1)
    weights = []
    for index, day in enumerate(ctx.days):
        growth = 1.0 + 0.9 * index / span
        event, _ = _event_factor(day)
        noise = math.exp(rng.gauss(0, 0.12))
        weights.append(
            sum(shop_weights(shops, day)) * growth * MONTH_FACTOR[day.month] * WEEKDAY_FACTOR[day.weekday()]
            * event * noise
        )
    # Systematic rounding: each day gets the floor or the ceiling of its share, the total is exact,
    # and a small order count spreads over the whole range instead of piling on the busiest days.
    scale = ctx.options.orders / sum(weights)
    offset = rng.random()
    counts, running, previous = [], 0.0, 0
    for weight in weights:
        running += weight * scale
        reached = math.floor(running + offset)
        counts.append(reached - previous)
        previous = reached
    counts[-1] += ctx.options.orders - previous
    return counts


class HourTables:
    """Cumulative weights of the business day's quarter-hours for one shop's buyers, cached per
    UTC offset (so daylight-saving changes are followed)."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self._tables: dict[tuple[str, float], list[float]] = {}

    def table(self, shop: ShopInfo, day: dt.date) -> list[float]:
        noon = self.ctx.at(day, 12)
        shift = (noon.astimezone(shop.tz).utcoffset() - noon.utcoffset()).total_seconds() / 3600
        key = (shop.spec.code, shift)
        if key not in self._tables:
            weights = [HOURLY_ACTIVITY[int((slot / 4 + shift) % 24)] for slot in range(SLOTS_PER_DAY)]
            self._tables[key] = list(accumulate(weights))
        return self._tables[key]

    @staticmethod
    def pick(rng, cumulative: list[float]) -> float:
        """A fraction of the day, drawn from the table."""
        slot = bisect(cumulative, rng.random() * cumulative[-1])
        return (slot + rng.random()) / SLOTS_PER_DAY


def stock_forecast(
    ctx: DemoContext, shops: list[ShopInfo], counts: list[int], hub_id: int
) -> dict[tuple[int, int], float]:
    """Expected units a day per (product, warehouse) over the first month, bundles split into
    their components; the hub is also credited with every warehouse's demand (it refills them)."""
    window = range(min(30, len(ctx.days)))
    per_shop = [0.0] * len(shops)
    for index in window:
        weights = shop_weights(shops, ctx.days[index])
        total = sum(weights) or 1.0
        for shop_index, weight in enumerate(weights):
            per_shop[shop_index] += counts[index] * weight / total / len(window)
    # Shops that open later still need opening stock once they start.
    for shop_index, shop in enumerate(shops):
        if per_shop[shop_index] == 0 and shop.opens_on <= ctx.end:
            per_shop[shop_index] = sum(per_shop) * shop.spec.weight / 100
    demand: dict[tuple[int, int], float] = {}
    for shop_index, shop in enumerate(shops):
        units = per_shop[shop_index] * AVERAGE_LINES * AVERAGE_QUANTITY
        total = shop.listing_cum_weights[-1] if shop.listing_cum_weights else 0.0
        previous = 0.0
        for listing, cumulative in zip(shop.listings, shop.listing_cum_weights, strict=True):
            share = (cumulative - previous) / total
            previous = cumulative
            for product_id, quantity in listing.stock_parts:
                expected = units * share * quantity
                for item in ((product_id, shop.warehouse.pk), (product_id, hub_id)):
                    demand[item] = demand.get(item, 0.0) + expected
                if shop.warehouse.pk == hub_id:
                    demand[(product_id, hub_id)] -= expected  # counted once, not twice
    return demand
