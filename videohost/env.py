"""Typed readers for settings taken from the environment.

Each raises ImproperlyConfigured naming the variable, so a typo in a deployment fails at
start instead of surfacing later as an odd behaviour (Healthchecks' envbool/envint).
"""

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int = 1) -> list[int]:
    """A comma-separated list of integers, each at least `minimum`; never empty."""
    items = env_list(name, [str(value) for value in default])
    try:
        values = [int(item) for item in items]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be comma-separated integers, got {os.environ.get(name)!r}"
        ) from None
    if not values or any(value < minimum for value in values):
        raise ImproperlyConfigured(
            f"{name} must list integers of at least {minimum}, got {os.environ.get(name)!r}"
        )
    return values


def env_url(name: str, *, schemes: set[str]) -> str:
    """An optional URL whose scheme must be one of `schemes`; "" when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not (parsed.hostname or parsed.path):
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}, got {raw!r}")
    return raw


def env_choice(name: str, default: str, *, choices: set[str]) -> str:
    raw = os.environ.get(name, default).strip()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {raw!r}")
    return raw
