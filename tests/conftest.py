"""Shared fixtures: a fresh project in a temp folder, and the shared real files.

The ``project`` fixture is SQLite by default. A test module that sets
``pytestmark = pytest.mark.backends`` runs each of its tests that use ``project``
against both SQLite and a real PostgreSQL server (see ``postgres_server.py``); a test
about SQLite itself (WAL, file backups) opts out with ``@pytest.mark.sqlite_only``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postgres_server import pg_database, pg_server, pg_url  # noqa: F401  (fixtures)
from qualcode import Project

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "backends: run this module's project tests on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: a test about SQLite itself, not run on PostgreSQL")


def pytest_generate_tests(metafunc) -> None:
    if "project_location" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    if definition.get_closest_marker("backends") and not definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """Which database the ``project`` fixture uses: sqlite unless parametrised."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def project_location(request, tmp_path: Path, backend: str) -> str:
    """Where this test's project lives: a file in its folder, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "test.qc")


@pytest.fixture
def project(project_location: str):
    """An empty project in this test's own folder (or database)."""
    with Project.create(project_location) as p:
        yield p


@pytest.fixture
def shared() -> Path:
    """``../shared`` beside the checkout (CI puts it there); skip when absent."""
    if not SHARED.exists():
        pytest.skip("../shared is not beside the checkout")
    return SHARED
