"""Personas and servers shared by every test.

The personas (Healthchecks' alice/bob, Zulip's hamlet): `author` Alice owns a channel,
`viewer` Victor follows nothing, `subscriber` Sam follows Alice's channel, `sponsor` Sophie
sponsors it, `moderator` Mona is staff, and `stranger` Bob runs a channel of his own.
"""

import os
import shutil
import signal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from knox.models import AuthToken
from rest_framework.test import APIClient

from videohost.testing import (
    PASSWORD,
    ChannelFactory,
    SubscriptionFactory,
    UserFactory,
    stop_server_process,
)

SCREENSHOTS = Path(__file__).resolve().parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may skip: a missing Chromium or Redis there is a failure, not a pass."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("VIDEOHOST_FORBID_SKIPS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Skipped where skips are forbidden (VIDEOHOST_FORBID_SKIPS=1): {reason}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API leaves an event loop on the main thread
    for the rest of the session, which async (consumer) tests cannot run beside."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _default_signal_handlers():
    """`call_command("db_worker")` installs the worker's SIGTERM/SIGINT handlers in this
    process; a server forked afterwards would inherit them and outlive `terminate()`, and
    pytest would then wait for it forever at exit. Each test starts and ends with defaults."""
    yield
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Login throttles and other counters live in the cache: start every test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_remembered_controls():
    """Each process remembers the facts of its last controls per room (rooms.services): tests
    roll back or flush the database, and SQLite hands the same ids to the next test's rooms.
    The controls' own connections (videohost.loop_database) go with each test's event loop."""
    from rooms import services
    from videohost import loop_database

    services._last_controls.clear()
    yield
    services._last_controls.clear()
    loop_database.close_all()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def author(db):
    return ChannelFactory(
        owner__username="alice", owner__display_name="Alice", title="Alice's Workshop"
    ).owner


@pytest.fixture
def channel(author):
    return author.channel


@pytest.fixture
def viewer(db):
    return UserFactory(username="victor", display_name="Victor")


@pytest.fixture
def subscriber(channel):
    return SubscriptionFactory(
        user__username="sam", user__display_name="Sam", channel=channel, is_sponsor=False
    ).user


@pytest.fixture
def sponsor(channel):
    return SubscriptionFactory(
        user__username="sophie", user__display_name="Sophie", channel=channel, is_sponsor=True
    ).user


@pytest.fixture
def moderator(db):
    return UserFactory(username="mona", display_name="Mona", is_staff=True)


@pytest.fixture
def stranger(db):
    return ChannelFactory(
        owner__username="bob", owner__display_name="Bob", title="Bob's Garage"
    ).owner


def issue_token(user) -> str:
    _, token = AuthToken.objects.create(user=user, expiry=settings.AUTH_TOKEN_TTL)
    return token


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """An API client authenticated with a Bearer token of `user` (anonymous for None)."""

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(user)}")
        return client

    return make


# --- Real servers and a real browser ----------------------------------------------------------


def _close_connections_in_child() -> None:
    # A server must die on terminate(), whatever handlers the test process had installed.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The forked daphne process must open its own database connections; sharing the
    # parent's socket would interleave two conversations on one connection.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    # asgiref's thread-sensitive executor is inherited without its worker thread after
    # fork: without a fresh one, every database call from async code hangs in the child.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    # Channel layers hold connections and loop-bound state made in the parent: start fresh.
    from channels.layers import channel_layers

    channel_layers.backends = {}


@pytest.fixture
def live_server_url(transactional_db):
    """A real server process on a free 127.0.0.1 port serving the ASGI app over the test DB:
    daphne with the body streaming of videohost.server, as `make run` and production run it."""
    from functools import partial

    from channels.testing.live import make_application

    from videohost.server import StreamingDaphneProcess

    if connections["default"].vendor == "sqlite" and connections["default"].is_in_memory_db():
        pytest.skip("the live server needs a file or server database")
    connections.close_all()
    process = StreamingDaphneProcess(
        host="127.0.0.1",
        get_application=partial(make_application, static_wrapper=None),
        setup=_close_connections_in_child,
    )
    process.start()
    if not process.ready.wait(timeout=20):
        stop_server_process(process)
        raise RuntimeError("daphne did not start")
    url = f"http://127.0.0.1:{process.port.value}"
    yield url
    stop_server_process(process)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (playwright cannot download its own)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread, which makes Django's
    # async-safety guard refuse every ORM call the test makes between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- Object storage: moto's S3 server on loopback (videohost/testing_s3.py) --------------------
from videohost.testing_s3 import s3_media, s3_server  # noqa: E402, F401
