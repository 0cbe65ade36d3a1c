"""Login throttling: LOGIN_THROTTLE_ATTEMPTS failures within LOGIN_THROTTLE_WINDOW seconds,
counted per username (case-insensitive) and per client address, lock that key out.

Counters live in Django's cache, so they are shared by every process once the cache is
Redis. Each attempt reserves its slot with an atomic `incr` *before* the password is
checked: parallel guesses cannot all slip past a read-then-write check, so at most
ATTEMPTS passwords are ever tried per key and window. A success gives the slot back.
"""

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from videohost.errors import RateLimited

KEY_PREFIX = "login-throttle"


@dataclass(frozen=True)
class _Counter:
    key: str

    @property
    def until_key(self) -> str:
        return f"{self.key}:until"

    def count(self) -> int:
        return int(cache.get(self.key, 0))

    def reserve(self) -> int:
        """Count one attempt; returns the new count (atomic in locmem and Redis)."""
        window = settings.LOGIN_THROTTLE_WINDOW
        for _ in range(3):
            if cache.add(self.key, 0, timeout=window):
                cache.set(self.until_key, time.time() + window, timeout=window)
            try:
                return cache.incr(self.key)
            except ValueError:
                # The window expired between add and incr: start a new one.
                continue
        return cache.incr(self.key)  # pragma: no cover - three expiries in a row

    def release(self) -> None:
        try:
            cache.decr(self.key)
        except ValueError:
            pass  # already expired: nothing to give back

    def reset(self) -> None:
        cache.delete_many([self.key, self.until_key])

    def lock_for_full_window(self) -> None:
        # Without this, five failures spread over 4m59s would lock the key for one second.
        window = settings.LOGIN_THROTTLE_WINDOW
        cache.touch(self.key, window)
        cache.set(self.until_key, time.time() + window, timeout=window)

    def retry_after(self) -> int:
        until = cache.get(self.until_key)
        if until is None:
            return settings.LOGIN_THROTTLE_WINDOW
        return max(1, int(until - time.time() + 0.999))


def _username_counter(username: str) -> _Counter:
    # Hashed: keeps keys short and free of characters some cache backends refuse.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return _Counter(f"{KEY_PREFIX}:user:{digest}")


def _address_counter(client_ip: str) -> _Counter | None:
    if not client_ip:
        return None
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return _Counter(f"{KEY_PREFIX}:ip:{hashlib.sha256(client_ip.encode()).hexdigest()[:32]}")
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _Counter(f"{KEY_PREFIX}:ip:{address.ipv4_mapped}")
        # One IPv6 host usually owns a whole /64: counting single addresses would let it
        # rotate through billions of them.
        network = ipaddress.ip_network(f"{address}/64", strict=False)
        return _Counter(f"{KEY_PREFIX}:ip:{network.network_address}/64")
    return _Counter(f"{KEY_PREFIX}:ip:{address}")


class LoginAttempt:
    """One login attempt: `check_and_reserve()` before the password check, then `succeeded()`
    or `failed()` after it."""

    def __init__(self, *, username: str, client_ip: str):
        self.username_counter = _username_counter(username)
        self.address_counter = _address_counter(client_ip)
        self.counters = [
            counter for counter in (self.username_counter, self.address_counter) if counter
        ]

    def _refuse(self, locked: list[_Counter]) -> RateLimited:
        retry_after = max(counter.retry_after() for counter in locked)
        if retry_after >= 60:
            minutes = math.ceil(retry_after / 60)
            wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
        else:
            wait = f"{retry_after} second{'s' if retry_after > 1 else ''}"
        return RateLimited(
            f"Too many failed sign-in attempts. Try again in {wait}.", retry_after=retry_after
        )

    def check_and_reserve(self) -> None:
        """Raise RateLimited if a key is locked, else count this attempt against every key."""
        limit = settings.LOGIN_THROTTLE_ATTEMPTS
        # A cheap read first, so attempts made while locked do not keep pushing counters up.
        locked = [counter for counter in self.counters if counter.count() >= limit]
        if locked:
            raise self._refuse(locked)
        # One key at a time, giving back everything held as soon as one is over: reserving all
        # keys first let two racing attempts each push the *other's* key over and both give
        # up, so twenty parallel guesses could check only four passwords and never lock.
        # Slots held by allowed attempts are never given back, so at most ATTEMPTS get through.
        held: list[_Counter] = []
        for counter in self.counters:
            held.append(counter)
            if counter.reserve() > limit:
                # Lost a race against parallel attempts: this one checked no password.
                for taken in held:
                    taken.release()
                raise self._refuse([counter])

    def succeeded(self) -> None:
        self.username_counter.reset()
        if self.address_counter is not None:
            self.address_counter.release()

    def failed(self) -> None:
        limit = settings.LOGIN_THROTTLE_ATTEMPTS
        for counter in self.counters:
            if counter.count() >= limit:
                counter.lock_for_full_window()


def client_address(request) -> str:
    """The address login throttling counts against.

    Only REMOTE_ADDR: X-Forwarded-For is written by the client unless a proxy strips it, so
    trusting it would let an attacker pick a fresh address per guess. Behind nginx, run daphne
    with `--proxy-headers` so REMOTE_ADDR is the real client rather than the proxy.
    """
    return request.META.get("REMOTE_ADDR", "") or ""
