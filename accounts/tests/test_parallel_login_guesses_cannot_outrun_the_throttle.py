"""Login throttling holds when the guesses arrive all at once, over HTTP, on real threads.

Twenty threads POST /api/auth/login with wrong passwords for one username at the same moment:
at most LOGIN_THROTTLE_ATTEMPTS passwords are ever checked, every other attempt is a 429 with
`Retry-After`, and afterwards even the right password is a 429. With REDIS_URL set (CI's
second run, beside PostgreSQL) the counters live in Redis, and the guesses are also split
between this process and a separate daphne process: the lock is shared by both.
(accounts/tests/test_login_throttle.py races the service itself; this goes through the API.)
"""

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client

from accounts import services
from rooms.tests.test_room_concurrency import race
from videohost.testing import PASSWORD, UserFactory

GUESSERS = 20
WRONG = "definitely-not-it"


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was really checked in this process."""
    checks = []
    lock = threading.Lock()
    authenticate = services.authenticate

    def counted(*args, **kwargs):
        with lock:
            checks.append(kwargs.get("username"))
        return authenticate(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", counted)
    return checks


def login_here(outcomes: list, index: int, password: str, address: str) -> None:
    response = Client().post(
        "/api/auth/login",
        {"username": "victor", "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )
    outcomes[index] = (response.status_code, response.headers.get("Retry-After"), response.json())


def login_over_http(outcomes: list, index: int, base_url: str, password: str) -> None:
    request = urllib.request.Request(  # noqa: S310 — http on loopback only
        f"{base_url}/api/auth/login",
        data=json.dumps({"username": "victor", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            outcomes[index] = (response.status, response.headers.get("Retry-After"), {})
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        outcomes[index] = (error.code, error.headers.get("Retry-After"), body)


def assert_throttled(outcomes: list) -> list:
    """Every outcome is a 401 (checked, wrong) or a 429 with Retry-After; the 401s returned."""
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    failed = [o for o in outcomes if o[0] == 401]
    refused = [o for o in outcomes if o[0] == 429]
    assert len(failed) + len(refused) == len(outcomes), [o[0] for o in outcomes]
    assert 1 <= len(failed) <= limit, [o[0] for o in outcomes]
    for _, retry_after, body in refused:
        assert int(retry_after) >= 1
        assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    return failed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("addresses", ["one address", "an address each"])
def test_twenty_simultaneous_wrong_guesses_check_at_most_the_allowed_number_of_passwords(
    password_checks, addresses
):
    UserFactory(username="victor")
    outcomes: list = [None] * GUESSERS
    guesses = [
        {
            "outcomes": outcomes,
            "index": i,
            "password": WRONG,
            "address": "192.0.2.7" if addresses == "one address" else f"198.51.100.{i + 1}",
        }
        for i in range(GUESSERS)
    ]
    errors = race(login_here, guesses)
    assert errors == [None] * GUESSERS
    failed = assert_throttled(outcomes)
    assert len(password_checks) == len(failed)

    login_here(outcomes, 0, PASSWORD, "203.0.113.9")
    status, retry_after, body = outcomes[0]
    assert status == 429 and int(retry_after) >= 1
    assert len(password_checks) == len(failed)  # the right password was not even checked


@pytest.mark.django_db(transaction=True)
def test_guesses_split_between_two_processes_share_one_lock_through_redis(
    live_server_url, password_checks
):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: without Redis each process counts on its own")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    UserFactory(username="victor")
    outcomes: list = [None] * GUESSERS

    def guess(index: int) -> None:
        """Even guesses through this process, odd ones through the daphne process."""
        if index % 2:
            login_over_http(outcomes, index, live_server_url, WRONG)
        else:
            login_here(outcomes, index, WRONG, "192.0.2.8")

    errors = race(guess, [{"index": i} for i in range(GUESSERS)])
    assert errors == [None] * GUESSERS
    assert_throttled(outcomes)

    login_over_http(outcomes, 0, live_server_url, PASSWORD)
    assert outcomes[0][0] == 429
    login_here(outcomes, 0, PASSWORD, "203.0.113.10")
    assert outcomes[0][0] == 429
