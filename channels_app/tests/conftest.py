"""Helpers shared by the channels tests."""

from collections.abc import Callable

import pytest


@pytest.fixture
def assert_flat_queries(django_assert_num_queries):
    """Check a list endpoint costs `expected` queries for 1 row and for 30 rows.

        `add_rows(n)` creates n more rows that `fetch()` lists; both sizes are fetched under the
        same pinned count, so an N+1 shows up as a failure at 30 rows. `already` is how many rows
    the fixtures put in the list before.
    """

    def check(
        *,
        expected: int,
        add_rows: Callable[[int], object],
        fetch: Callable[[], object],
        already: int = 0,
    ) -> None:
        for total, more in ((1, 1), (30, 29)):
            add_rows(more)
            with django_assert_num_queries(expected):
                response = fetch()
            assert response.status_code == 200, response.content
            assert len(response.json()["results"]) == already + total

    return check
