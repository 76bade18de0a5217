"""What the analysis endpoints share: query parameters parsed once and checked with 400s that name
the parameter (`{"start": ["…"]}`), the shop scope every analysis is computed over, the base view
with its permission check, and the OpenAPI descriptions of the common parameters.

Dates are business days in settings.TIME_ZONE. A `shop` outside the user's scope answers 404, as any
other shop's object does; an unknown `platform` code is a 400."""
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from apps.core.api.scoping import user_shop_ids

DEFAULT_PERIOD_DAYS = 30
# Ten years of days: far beyond any report, short of a request that asks for every day since 1900.
MAX_PERIOD_DAYS = 3660
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def business_today() -> dt.date:
    """Today in the business time zone (not the server's, not UTC)."""
    return dt.datetime.now(business_zone()).date()


def business_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants of `start` 00:00 and `end + 1 day` 00:00 in the business time zone: [since, until)."""
    zone = business_zone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


@dataclass(frozen=True)
class Period:
    """Business days start..end, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Period(start=end - dt.timedelta(days=self.days - 1), end=end)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return business_bounds(self.start, self.end)


@dataclass(frozen=True)
class Scope:
    """The shops an analysis covers: `shop_ids` None means every shop; `platform_id` narrows further."""

    shop_ids: tuple[int, ...] | None = None
    platform_id: int | None = None
    narrowed: bool = False  # a `shop` or `platform` parameter was given

    def q(self, *, shop: str = "shop_id", platform: str = "platform_id") -> Q:
        """A filter on rows whose shop id is at `shop` and platform id at `platform`."""
        condition = Q()
        if self.shop_ids is not None:
            condition &= Q(**{f"{shop}__in": self.shop_ids})
        if self.platform_id is not None:
            condition &= Q(**{platform: self.platform_id})
        return condition


@dataclass(frozen=True)
class AnalysisQuery:
    period: Period
    scope: Scope


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def envelope(self, items: list, total: int, **extra) -> dict:
        """The seed's list shape {items, total, page, page_size}, with any extra keys after it."""
        return {"items": items, "total": total, "page": self.page, "page_size": self.page_size, **extra}

    def slice(self, rows: Sequence) -> list:
        return list(rows[self.offset:self.offset + self.page_size])


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(params: Mapping, name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        if _ISO_DATE.match(raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise _invalid(name, "日期格式应为 YYYY-MM-DD，例如 2025-03-01。")


def parse_period(params: Mapping, *, default_days: int = DEFAULT_PERIOD_DAYS) -> Period:
    """`start`/`end`; by default the `default_days` business days ending today."""
    start, end = parse_date(params, "start"), parse_date(params, "end")
    if end is None:
        today = business_today()
        end = today if start is None or start <= today else start
    if start is None:
        start = end - dt.timedelta(days=default_days - 1)
    if end < start:
        raise _invalid("end", f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}。")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise _invalid("end", f"统计区间最长 {MAX_PERIOD_DAYS} 天。")
    return Period(start=start, end=end)


def parse_int(params: Mapping, name: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, "应为整数。") from None
    if not minimum <= value <= maximum:
        raise _invalid(name, f"应在 {minimum} 到 {maximum} 之间。")
    return value


def parse_bool(params: Mapping, name: str, *, default: bool = False) -> bool:
    raw = (params.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise _invalid(name, "应为 true 或 false。")


def parse_choice(params: Mapping, name: str, choices: Iterable[str], *, default: str) -> str:
    choices = tuple(choices)
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if raw not in choices:
        raise _invalid(name, f"不支持的取值 {raw!r}，可选：{', '.join(choices)}。")
    return raw


def parse_ordering(params: Mapping, allowed: Iterable[str], *, default: str) -> tuple[str, bool]:
    """`ordering=name` or `-name` → (name, descending)."""
    allowed = tuple(allowed)
    raw = (params.get("ordering") or "").strip() or default
    name = raw.removeprefix("-")
    if name not in allowed:
        raise _invalid("ordering", f"不能按 {name!r} 排序，可选：{', '.join(allowed)}（前加 - 表示降序）。")
    return name, raw.startswith("-")


def parse_page(params: Mapping) -> PageRequest:
    return PageRequest(
        page=parse_int(params, "page", default=1, minimum=1, maximum=10**6),
        page_size=parse_int(params, "page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
    )


def parse_scope(params: Mapping, user) -> Scope:
    """The user's shops, narrowed by `shop` (id; another shop's → 404) and `platform` (code)."""
    from apps.platforms.models import Platform, Shop

    allowed = user_shop_ids(user)
    shop_ids = None if allowed is None else tuple(allowed)
    shop_id = parse_int(params, "shop", default=None, minimum=1, maximum=2**63 - 1)
    if shop_id is not None:
        visible = shop_id in shop_ids if shop_ids is not None else Shop.objects.filter(pk=shop_id).exists()
        if not visible:
            raise NotFound({"shop": [f"店铺 {shop_id} 不存在或不在您的可见范围内。"]})
        shop_ids = (shop_id,)
    platform_id = None
    code = (params.get("platform") or "").strip()
    if code:
        platform_id = Platform.objects.filter(code=code).values_list("pk", flat=True).first()
        if platform_id is None:
            raise _invalid("platform", f"未知平台代码 {code!r}。")
    return Scope(shop_ids=shop_ids, platform_id=platform_id, narrowed=shop_id is not None or platform_id is not None)


def parse_analysis_query(request, *, default_days: int = DEFAULT_PERIOD_DAYS) -> AnalysisQuery:
    """`start`, `end`, `shop`, `platform` of a request, validated and scoped to the user."""
    params = request.query_params
    period = parse_period(params, default_days=default_days)
    return AnalysisQuery(period=period, scope=parse_scope(params, request.user))


class _PermissionRequired(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(view.permission))


class AnalysisView(APIView):
    """A read-only analysis endpoint: signed in (else 401) and holding `permission` (else 403)."""

    permission = "sales.view_sales_analysis"
    permission_classes = [_PermissionRequired]
    http_method_names = ["get", "head", "options"]


# OpenAPI parameters, shared so every analysis documents them the same way.
START_PARAM = OpenApiParameter(
    "start", OpenApiTypes.DATE, description="开始日期（含，业务时区），默认 end 往前 29 天，即共 30 天。"
)
END_PARAM = OpenApiParameter("end", OpenApiTypes.DATE, description="结束日期（含，业务时区），默认今天；不能早于 start。")
SHOP_PARAM = OpenApiParameter("shop", OpenApiTypes.INT, description="只看这个店铺（id）；不在可见范围内的店铺返回 404。")
PLATFORM_PARAM = OpenApiParameter("platform", OpenApiTypes.STR, description="只看这个平台（代码，如 amazon）；未知代码返回 400。")
PAGE_PARAMS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="页码，从 1 开始；超出末页返回空列表。"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description=f"每页条数，默认 {DEFAULT_PAGE_SIZE}，最大 {MAX_PAGE_SIZE}。"),
]
PERIOD_PARAMS = [START_PARAM, END_PARAM, SHOP_PARAM, PLATFORM_PARAM]


def choice_param(name: str, choices: Sequence[str], default: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, enum=list(choices), default=default, description=description)


def ordering_param(allowed: Sequence[str], default: str) -> OpenApiParameter:
    return OpenApiParameter(
        "ordering", OpenApiTypes.STR, default=default,
        description=f"排序字段，前加 - 表示降序。可选：{', '.join(allowed)}。",
    )
