"""HTTP for connectors: retries with exponential back-off and jitter on 429, 5xx and timeouts,
Retry-After honoured, a per-run request budget, and auth failures surfaced as AuthError."""
import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import orjson

from .errors import AuthError, BudgetExhausted, ConnectorError

logger = logging.getLogger("erp.connectors")

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


def _configured_base_delay() -> float:
    from django.conf import settings

    return settings.COLLECTION_RETRY_BASE_DELAY


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = field(default_factory=_configured_base_delay)
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        exponential = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(exponential / 2, exponential)  # "equal jitter"


def json_body(response: httpx.Response):
    """The response's JSON, parsed by orjson (a page of 250 orders in a third of json's time)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise ConnectorError(f"平台返回的不是有效 JSON：{response.text[:200]}") from exc


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class PlatformClient:
    """One connector run's HTTP session. `refresh_auth` (optional) is awaited once after a 401,
    then the request is retried; a second 401/403 is an AuthError."""

    def __init__(
        self,
        *,
        base_url: str,
        budget: int = 10_000,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        headers: dict | None = None,
        auth: httpx.Auth | None = None,
        refresh_auth: Callable[[], Awaitable[None]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers or {}, auth=auth)
        self.budget = budget
        self.requests_made = 0
        self.retry = retry or RetryPolicy()
        self.refresh_auth = refresh_auth
        self._sleep = sleep

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.client.aclose()

    def _spend(self) -> None:
        if self.requests_made >= self.budget:
            raise BudgetExhausted(f"已用完本次采集的请求额度（{self.budget} 次），下次将从断点继续。")
        self.requests_made += 1

    async def request(self, method: str, url: str, *, is_error: Callable[[httpx.Response], str | None] | None = None,
                      is_retryable: Callable[[httpx.Response], str | None] | None = None,
                      is_auth_error: Callable[[httpx.Response], str | None] | None = None,
                      **kwargs) -> httpx.Response:
        """`is_error`, `is_retryable` and `is_auth_error` (optional) read a platform's error body (e.g.
        Shopee's HTTP 200 with `error` set) and return a reason or None: an error fails the request,
        a retryable one is retried like a 429, an auth one is handled like a 401."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self._spend()
            try:
                response = await self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.retry.max_attempts:
                    raise ConnectorError(f"平台接口无法连接：{exc.__class__.__name__}（已重试 {attempt} 次）") from exc
                await self._sleep(self.retry.delay(attempt, None))
                continue
            auth_problem = is_auth_error(response) if is_auth_error else None
            if response.status_code in (401, 403) or auth_problem:
                if self.refresh_auth is not None and not refreshed and (response.status_code == 401 or auth_problem):
                    refreshed = True
                    await self.refresh_auth()
                    continue
                raise AuthError(f"平台拒绝了店铺凭证（HTTP {response.status_code}）：{auth_problem or response.text[:200]}")
            retry_problem = is_retryable(response) if is_retryable else None
            if response.status_code in RETRYABLE_STATUS or retry_problem:
                if attempt >= self.retry.max_attempts:
                    raise ConnectorError(
                        f"平台接口持续返回 HTTP {response.status_code}（已重试 {attempt} 次）：{retry_problem or response.text[:200]}"
                    )
                delay = self.retry.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
                logger.info("retrying %s %s after HTTP %s in %.2fs", method, url, response.status_code, delay)
                await self._sleep(delay)
                continue
            problem = is_error(response) if is_error else None
            if response.status_code >= 400 or problem:
                raise ConnectorError(f"平台接口错误 HTTP {response.status_code}：{problem or response.text[:300]}")
            return response
