"""Abuse limits at the HTTP edge: per-address rate limits and the origin allow-list.

* Public writes (issuing, cancelling, the survey, log-in, booking) are limited
  per client address with token buckets (:mod:`services.ticketing.domain.throttle`);
  a caller over its limit gets 429 with ``Retry-After``. A registered kiosk
  (``X-Kiosk-Token``) and staff with a valid bearer token are not limited:
  they issue on citizens' behalf, many from one address.
* A browser's cross-site write is refused: an unsafe request whose ``Origin``
  is neither the service's own nor in the allow-list gets 403, so a foreign
  page cannot make visitors' browsers take tickets.
* The client address is the TCP peer, or the first address of
  ``X-Forwarded-For`` appended by a proxy the settings trust (the load
  balancer); a forged header from anyone else is ignored.

The buckets live in this process: with N instances behind a balancer the hall
sees at most N times the configured rate (the per-address share of a daily
quota is enforced in PostgreSQL, where all instances meet).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from services.ticketing.domain.throttle import Limit, RateLimiter
from services.ticketing.errors import Forbidden, TooManyRequests

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StaffCheck = Callable[[web.Request], Awaitable[bool]]

KIOSK_TOKEN_HEADER = "X-Kiosk-Token"  # noqa: S105 - a header name, not a secret
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# (method, route pattern) → the limit group it spends from.
GROUPS: Mapping[tuple[str, str], str] = {
    ("POST", "/api/v1/branches/{branch_id}/tickets"): "issue",
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): "cancel",
    ("POST", "/api/v1/tickets/{ticket_id}/survey"): "survey",
    ("POST", "/api/v1/auth/login"): "login",
    ("POST", "/api/v1/bookings"): "booking",
    ("POST", "/api/v1/bookings/{code}/check-in"): "booking",
    ("DELETE", "/api/v1/bookings/{code}"): "booking",
}
# Groups a registered kiosk or a logged-in staff member is exempt from.
STAFF_EXEMPT = frozenset({"issue", "cancel", "booking"})

DEFAULT_LIMITS: Mapping[str, Limit] = {
    "issue": Limit(rate=1 / 6, burst=10),
    "cancel": Limit(rate=1 / 6, burst=10),
    "survey": Limit(rate=1 / 12, burst=5),
    "login": Limit(rate=1 / 6, burst=10),
    "booking": Limit(rate=1 / 6, burst=10),
}


@dataclass(frozen=True, slots=True)
class EdgePolicy:
    """What the edge allows: limits per group, trusted proxies, extra origins, kiosk tokens."""

    limits: Mapping[str, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_origins: frozenset[str] = frozenset()
    kiosk_tokens: tuple[str, ...] = ()
    enabled: bool = True


def client_address(
    request: web.Request, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> str:
    """The caller's address: the peer, or the forwarded client when the peer is a trusted proxy."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if not forwarded or not trusted:
        return peer
    try:
        peer_ip = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if not any(peer_ip in net for net in trusted):
        return peer
    # the right-most address not of a trusted proxy is the one a proxy saw
    for hop in reversed([h.strip() for h in forwarded.split(",")]):
        try:
            ip = ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not any(ip in net for net in trusted):
            return str(ip)
    return peer


def is_registered_kiosk(request: web.Request, tokens: tuple[str, ...]) -> bool:
    """True when the request carries one of the configured kiosk device tokens."""
    presented = request.headers.get(KIOSK_TOKEN_HEADER, "")
    return bool(presented) and any(hmac.compare_digest(presented, t) for t in tokens)


def origin_allowed(request: web.Request, allowed: frozenset[str]) -> bool:
    """A request without ``Origin`` (not a browser's cross-site call), our own origin, or an allowed one."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in allowed


def policy_from(
    overrides: Mapping[str, tuple[int, int]],
    *,
    enabled: bool,
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (),
    allowed_origins: tuple[str, ...] = (),
    kiosk_tokens: tuple[str, ...] = (),
) -> EdgePolicy:
    """The policy of the settings: ``overrides`` maps a group to ``(count, seconds)``."""
    limits = dict(DEFAULT_LIMITS)
    for group, (count, seconds) in overrides.items():
        limits[group] = Limit(rate=count / seconds, burst=count)
    return EdgePolicy(limits, trusted_proxies, frozenset(allowed_origins), kiosk_tokens, enabled)


_CLIENT = web.RequestKey("antrian_limited_client", str)


def limited_client(request: web.Request) -> str | None:
    """A pseudonymous key of the address a limited request came from; None when exempt or limits are off."""
    return request.get(_CLIENT)


class Limiter:
    """The per-group buckets of one process."""

    def __init__(self, policy: EdgePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._buckets = {group: RateLimiter(limit) for group, limit in policy.limits.items()}

    def spend(self, group: str, address: str) -> None:
        """Take one request of ``group`` for ``address``; TooManyRequests when over the limit."""
        limiter = self._buckets.get(group)
        if limiter is None:
            return
        wait = limiter.take(address, self._clock())
        if wait > 0:
            log.info("rate limit %s exceeded by %s", group, address)
            raise TooManyRequests(
                f"too many requests from your address ({group}); please wait a moment", retry_after=wait
            )


def middleware(limiter: Limiter, is_staff: StaffCheck) -> Middleware:
    """Refuse cross-site writes (403) and callers over their limit (429)."""
    policy = limiter.policy

    @web.middleware
    async def abuse_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in UNSAFE_METHODS and not origin_allowed(request, policy.allowed_origins):
            raise Forbidden(f"requests from the origin {request.headers.get('Origin')!r} are not allowed")
        route = request.match_info.route.resource
        group = GROUPS.get((request.method, route.canonical)) if route is not None else None
        if policy.enabled and group is not None:
            exempt = group in STAFF_EXEMPT and (
                is_registered_kiosk(request, policy.kiosk_tokens) or await is_staff(request)
            )
            if not exempt:
                address = client_address(request, policy.trusted_proxies)
                limiter.spend(group, address)
                request[_CLIENT] = hashlib.sha256(address.encode()).hexdigest()[:32]
        return await handler(request)

    return abuse_limits
