"""The ASGI entry point really serves HTTP through daphne, as production runs it."""

import json
import urllib.request

import pytest


def test_daphne_process_answers_health_and_readiness(live_server_url):
    with urllib.request.urlopen(f"{live_server_url}/healthz", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert json.load(response) == {"status": "ok"}
    with urllib.request.urlopen(f"{live_server_url}/readyz", timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_daphne_process_sets_security_headers(live_server_url):
    with urllib.request.urlopen(f"{live_server_url}/healthz", timeout=10) as response:  # noqa: S310
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.browser
def test_chromium_reaches_the_daphne_process(live_server_url, chromium):
    page = chromium.new_page()
    try:
        page.goto(f"{live_server_url}/healthz")
        assert '"ok"' in page.content()
    finally:
        page.close()
