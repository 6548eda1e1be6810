"""Fixtures of the prover tests: every test taking `backend` runs on every registered backend."""

from __future__ import annotations

import pytest

from prover.backends import Backend, backend_names, get_backend


@pytest.fixture(scope="session", params=backend_names())
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each registered prover backend in turn (today: reference; a fast one joins by registering)."""
    return get_backend(request.param)
