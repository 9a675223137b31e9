"""Nothing in qualcode opens a network connection: the whole demo runs with sockets blocked."""

from __future__ import annotations

import socket

import pytest

from qualcode import Project
from qualcode.demo import run_demo
from qualcode.pseudonymise import detect
from qualcode.pseudonymise import status as pseudonymise_status


class NetworkAttempt(AssertionError):
    """Raised by the blocked socket functions; a test that sees it has found a leak."""


@pytest.fixture
def no_network(monkeypatch):
    """Block every way out (connect, name lookup) and record each attempt."""
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:] if name == 'socket.connect' else args}")
            raise NetworkAttempt(f"qualcode tried to use the network: {name}{args}")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    return attempts


def test_the_block_itself_works(no_network):
    with pytest.raises(NetworkAttempt):
        socket.create_connection(("example.org", 80))
    with pytest.raises(NetworkAttempt):
        socket.getaddrinfo("example.org", 80)
    assert len(no_network) == 2


def test_full_demo_runs_offline(no_network, tmp_path):
    result = run_demo(tmp_path / "out")
    assert "import failures" not in result.tables, result.tables.get("import failures")
    totals = result.tables["totals"].iloc[0]
    assert totals["documents"] >= 20 and totals["words"] > 20_000
    assert all(path.exists() for path in result.files)
    assert result.project_path.exists()
    with Project.open(result.project_path) as project:  # pseudonymisation (run by the demo) stayed local too
        labels = pseudonymise_status(project)
        found = detect(project, model="auto")
    assert (labels["type"] == "Postcode").sum() >= 6  # the demo replaced them before reporting
    assert "Postcode" not in found.counts()
    assert no_network == []
