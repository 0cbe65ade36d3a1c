"""Five failed logins in five minutes lock the username, or the client address, out (429)."""

import threading
import time

import pytest
from django.test import override_settings

from accounts.services import auth_login
from accounts.throttle import LoginAttempt
from videohost.errors import NotAuthenticated, RateLimited
from videohost.testing import UserFactory, assert_error_envelope

pytestmark = pytest.mark.django_db

WRONG = "definitely-not-it"


def fail_five_times(api_login, usernames, ips):
    for username, ip in zip(usernames, ips, strict=True):
        assert_error_envelope(api_login(username, WRONG, ip=ip), 401, "UNAUTHORIZED")


def test_five_failures_for_one_username_from_different_addresses_lock_it(
    api_login, viewer, password
):
    fail_five_times(api_login, ["victor"] * 5, [f"198.51.100.{n}" for n in range(5)])
    response = api_login("victor", WRONG, ip="203.0.113.99")
    error = assert_error_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert "Try again" in error["message"]
    retry_after = int(response["Retry-After"])
    assert 290 <= retry_after <= 300


def test_the_right_password_is_refused_while_the_username_is_locked(api_login, viewer, password):
    fail_five_times(api_login, ["victor"] * 5, [f"198.51.100.{n}" for n in range(5)])
    response = api_login("victor", password, ip="203.0.113.99")
    assert_error_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert "Retry-After" in response


def test_the_username_lock_ignores_case(api_login, viewer, password):
    fail_five_times(
        api_login,
        ["victor", "VICTOR", "Victor", "vIctor", "victoR"],
        [f"198.51.100.{n}" for n in range(5)],
    )
    assert_error_envelope(
        api_login("victor", password, ip="203.0.113.99"), 429, "RATE_LIMIT_EXCEEDED"
    )


def test_five_failures_from_one_address_with_different_usernames_lock_the_address(
    api_login, viewer, password
):
    fail_five_times(api_login, [f"guess{n}" for n in range(5)], ["192.0.2.77"] * 5)
    response = api_login("victor", password, ip="192.0.2.77")
    assert_error_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) > 0
    # Victor himself, from his own address, is not affected.
    assert api_login("victor", password, ip="192.0.2.78").status_code == 200


def test_four_failures_still_let_the_right_password_in(api_login, viewer, password):
    fail_five_times(api_login, ["victor"] * 4, ["192.0.2.1"] * 4)
    assert api_login("victor", password, ip="192.0.2.1").status_code == 200


def test_a_successful_login_resets_the_username_count(api_login, viewer, password):
    fail_five_times(api_login, ["victor"] * 4, [f"198.51.100.{n}" for n in range(4)])
    assert api_login("victor", password, ip="198.51.100.50").status_code == 200
    fail_five_times(api_login, ["victor"] * 4, [f"198.51.100.{n}" for n in range(10, 14)])
    assert api_login("victor", password, ip="198.51.100.51").status_code == 200


def test_successful_logins_do_not_use_up_an_address_allowance(api_login, password):
    """Many people behind one NAT address must be able to sign in."""
    for n in range(8):
        UserFactory(username=f"colleague{n}")
        assert api_login(f"colleague{n}", password, ip="192.0.2.200").status_code == 200


def test_one_ipv6_host_cannot_dodge_the_lock_by_rotating_addresses_in_its_64(api_login, viewer):
    fail_five_times(
        api_login, [f"guess{n}" for n in range(5)], [f"2001:db8:1:2::{n + 1}" for n in range(5)]
    )
    assert_error_envelope(
        api_login("other", WRONG, ip="2001:db8:1:2::abcd"), 429, "RATE_LIMIT_EXCEEDED"
    )
    assert_error_envelope(api_login("other", WRONG, ip="2001:db8:1:3::1"), 401, "UNAUTHORIZED")


@override_settings(LOGIN_THROTTLE_WINDOW=1)
def test_the_lock_lifts_when_the_window_has_passed(viewer, password):
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            auth_login(username="victor", password=WRONG, client_ip="192.0.2.5")
    with pytest.raises(RateLimited) as raised:
        auth_login(username="victor", password=password, client_ip="192.0.2.5")
    assert raised.value.retry_after == 1
    time.sleep(1.2)
    assert auth_login(username="victor", password=password, client_ip="192.0.2.5") == viewer


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3, LOGIN_THROTTLE_WINDOW=60)
def test_the_limits_come_from_settings(api_login, viewer):
    fail_five_times(
        api_login, ["victor"] * 3 + ["x", "y"], ["192.0.2.1"] * 3 + ["192.0.2.2", "192.0.2.3"]
    )
    response = api_login("victor", WRONG, ip="192.0.2.9")
    assert_error_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) <= 60


def test_parallel_guesses_never_get_more_than_the_allowed_password_checks():
    """Attempts reserve their slot atomically before the password is checked."""
    allowed, refused = [], []
    start = threading.Barrier(20)

    def guess():
        attempt = LoginAttempt(username="victor", client_ip="192.0.2.66")
        start.wait()
        try:
            attempt.check_and_reserve()
        except RateLimited:
            refused.append(attempt)
        else:
            allowed.append(attempt)
            attempt.failed()

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Two counters (username and address) race independently, so a thread can lose on one
    # after winning the other: fewer than five may get through, never more.
    assert 1 <= len(allowed) <= 5
    assert len(allowed) + len(refused) == 20
