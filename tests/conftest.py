"""Shared fixtures: a fresh project in a temp folder, and the shared real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode import Project

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def project(tmp_path: Path):
    """An empty project in this test's own folder."""
    with Project.create(tmp_path / "test.qc") as p:
        yield p


@pytest.fixture
def shared() -> Path:
    """``../shared`` beside the checkout (CI puts it there); skip when absent."""
    if not SHARED.exists():
        pytest.skip("../shared is not beside the checkout")
    return SHARED
