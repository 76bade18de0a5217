"""Buyers of one shop: new ones with the platform's kind of buyer id, and repeat buyers."""
import datetime as dt

from .names import COUNTRY_LANGUAGE, EMAIL_DOMAINS, PEOPLE
from .writer import FastTable

REPEAT_SHARE = 0.3
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_ALNUM[digit])
    return "".join(reversed(digits))


def _slug(text: str) -> str:
    ascii_only = "".join(ch for ch in text.lower() if "a" <= ch <= "z")
    return ascii_only or "buyer"


class CustomerPool:
    """Customers of one shop. Only ids and countries are kept, so a million orders do not hold a
    million objects; rows go straight to the shared customer table."""

    def __init__(self, shop, table: FastTable):
        self.shop = shop
        self.platform = shop.spec.platform
        self.table = table
        self.ids: list[int] = []
        self.countries: list[str] = []

    def pick(self, rng, first_seen: dt.datetime) -> tuple[int, str]:
        """(customer id, buyer country): a repeat buyer about a third of the time."""
        known = len(self.ids)
        if known and rng.random() < REPEAT_SHARE:
            index = rng.randrange(known)
            return self.ids[index], self.countries[index]
        values = self._new(rng, known + 1)
        values["id"] = self.table.allocate_id()
        values["created_at"] = values["updated_at"] = first_seen
        self.table.add(values)
        self.ids.append(values["id"])
        self.countries.append(values["country"])
        return values["id"], values["country"]

    def _new(self, rng, seq: int) -> dict:
        shop = self.shop
        country = shop.country_codes[_bisect_index(shop.country_cum_weights, rng.random())]
        language = COUNTRY_LANGUAGE.get(country, "en")
        firsts, lasts = PEOPLE[language]
        first, last = rng.choice(firsts), rng.choice(lasts)
        name = f"{last} {first}" if language in ("ja", "ko") else f"{first} {last}"
        slug = f"{_slug(first)}.{_slug(last)}"
        domain = rng.choice(EMAIL_DOMAINS)
        buyer_id, email = "", f"{slug}{seq}@{domain}"
        if self.platform == "amazon":
            buyer_id = "A" + _base36((seq * 7919 + 104_729) % 36**8, 8) + _base36(rng.randrange(36**5), 5)
            email = f"{_base36(rng.randrange(36**10), 10).lower()}{seq}@marketplace.amazon.example.com"
        elif self.platform == "ebay":
            buyer_id = f"{_slug(first)}_{_slug(last)}_{seq}"
        elif self.platform == "shopify":
            buyer_id = str(7_000_000_000 + seq * 13 + rng.randrange(13))
        elif self.platform == "woocommerce":
            buyer_id = str(seq)
        elif self.platform == "shopee":
            buyer_id = f"{_slug(first)}.{seq}"
        elif self.platform == "tiktok":
            buyer_id = str(7_490_000_000_000_000 + seq * 101 + rng.randrange(101))
            email = f"{_base36(rng.randrange(36**12), 12).lower()}{seq}@scs.tiktokw.example.com"
        elif self.platform == "aliexpress":
            buyer_id = f"{country.lower()}{seq:07d}{_base36(rng.randrange(36**3), 3).lower()}"
        elif self.platform == "walmart":
            # Walmart shares no buyer id, only a relay e-mail address.
            email = f"{_base36(rng.randrange(36**16), 16).lower()}{seq}@relay.walmart.example.com"
        return {"shop_id": shop.shop_id, "platform_buyer_id": buyer_id, "email": email, "name": name,
                "country": country}


def _bisect_index(cumulative: list[float], fraction: float) -> int:
    target = fraction * cumulative[-1]
    for index, value in enumerate(cumulative):
        if target < value:
            return index
    return len(cumulative) - 1
