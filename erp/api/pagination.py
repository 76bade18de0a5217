"""Page-number pagination in the envelope, fit for tables of millions of rows.

- `total` is exact up to `EXACT_COUNT_LIMIT` rows (counting stops there). Past it, PostgreSQL's
  planner estimate is given instead and `total_is_estimate` is true: an exact count of a million
  matching orders costs tens of milliseconds on every page, and nobody pages through it by number.
  Other databases count exactly.
- A page deep in the list (offset ≥ `DEFERRED_JOIN_OFFSET`) first picks its primary keys with a
  narrow query, which an index holding the filter, the ordering and the key answers without
  reading the table, then loads those rows; skipping 20,000 whole rows is what makes deep pages slow.
- Because the total may be an estimate, a page past the real end is found empty and answered 404,
  rather than being refused up front by the count.
- A page that starts past the counting limit is read first: if it has rows, the total is past the
  limit and is the estimate, with no count at all (the 1,000th page of a long list).
"""
import json
from functools import cached_property

from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

EXACT_COUNT_LIMIT = 10_000
DEFERRED_JOIN_OFFSET = 1_000


class LargeTablePaginator(DjangoPaginator):
    @cached_property
    def count_is_estimate(self) -> bool:
        self.count  # noqa: B018 - the count decides it
        return self._estimated

    @cached_property
    def count(self) -> int:
        self._estimated = False
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        capped = self._keys()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        # The planner may guess below what was just counted; the count is a floor.
        return self._estimate(floor=capped)

    def _keys(self) -> QuerySet:
        return self.object_list.order_by().values("pk")

    def _estimate(self, *, floor: int) -> int:
        """The planner's estimate of the total, known to be at least `floor` (exact where there is no planner to ask)."""
        estimate = planner_row_estimate(self._keys())
        self._estimated = estimate is not None
        return self._keys().count() if estimate is None else max(estimate, floor)

    def _positive(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"])
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def validate_number(self, number):
        number = self._positive(number)
        if number > self.num_pages and not self.count_is_estimate:
            if number == 1 and self.allow_empty_first_page:
                return number
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        number = self._positive(number)
        bottom = (number - 1) * self.per_page
        if bottom >= EXACT_COUNT_LIMIT and isinstance(self.object_list, QuerySet) and "count" not in self.__dict__:
            # A page that starts past the counting limit and has rows proves the total is past it too:
            # the total is the estimate, and counting up to the limit would be wasted.
            rows = self._slice(bottom, bottom + self.per_page)
            if rows:
                self.__dict__["count"] = self._estimate(floor=bottom + len(rows))
                return Page(rows, number, self)
        number = self.validate_number(number)
        top = bottom + self.per_page
        if self.count_is_estimate:
            rows = self._slice(bottom, top)
            if not rows and number > 1:
                raise EmptyPage(self.error_messages["no_results"])
            return Page(rows, number, self)
        if top + self.orphans >= self.count:
            top = self.count
        return Page(self._slice(bottom, top), number, self)

    def _slice(self, bottom: int, top: int):
        if bottom < DEFERRED_JOIN_OFFSET or not isinstance(self.object_list, QuerySet):
            return list(self.object_list[bottom:top])
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=keys)}
        return [rows[key] for key in keys if key in rows]


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows `queryset` returns (PostgreSQL), else None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EnvelopePagination(PageNumberPagination):
    """`data = {"items": [...], "total": N, "page": P, "page_size": S, "total_is_estimate": bool}`."""

    django_paginator_class = LargeTablePaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "items": data,
                "total": paginator.count,
                "page": self.page.number,
                "page_size": self.get_page_size(self.request),
                "total_is_estimate": paginator.count_is_estimate,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "total", "page", "page_size", "total_is_estimate"],
            "properties": {
                "items": schema,
                "total": {
                    "type": "integer", "example": 123,
                    "description": f"匹配的总行数；超过 {EXACT_COUNT_LIMIT} 行时（PostgreSQL）为数据库估算值。",
                },
                "page": {"type": "integer", "example": 1},
                "page_size": {"type": "integer", "example": 20},
                "total_is_estimate": {
                    "type": "boolean", "example": False,
                    "description": "total 是否为估算值（仅当匹配行数超过精确计数上限时）。",
                },
            },
        }
