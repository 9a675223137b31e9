"""A real PostgreSQL server for the test session, from the system's own binaries.

One server per test session (per xdist worker), started lazily by the first test that
needs it, in a temporary folder, on a private unix socket (trust for the superuser)
and 127.0.0.1 on a free port (passwords required, so password handling is tested for
real). Each test gets a fresh database. PostgreSQL refuses to run as root, so under
root (as in CI) the server runs as the ``postgres`` user Debian's package creates.
Where the binaries are absent the tests that need them skip with the reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: where it listens and how to reach it as its superuser."""

    bin_dir: Path
    root: Path
    port: int
    run_as: list[str]

    @property
    def socket_dir(self) -> str:
        return str(self.root / "socket")

    def url(self, database: str, user: str = SUPERUSER, tcp: bool = False) -> str:
        """A SQLAlchemy URL for ``database`` as ``user`` (socket: trusted; tcp: needs a password)."""
        if tcp:
            return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self, database: str = "postgres"):
        """An autocommit psycopg connection as the superuser (for CREATE DATABASE, roles)."""
        import psycopg

        return psycopg.connect(host=self.socket_dir, port=self.port, user=SUPERUSER,
                               dbname=database, autocommit=True)

    def create_database(self) -> str:
        name = f"qc_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, text=True)

    def start(self) -> None:
        data = self.root / "data"
        self._run(str(self.bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                  "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        options = (f"-k {self.socket_dir} -p {self.port} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                      "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a throwaway server; raise ``pytest.skip`` with the reason where we cannot."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                    ".ci/run installs Debian's postgresql package")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed: pip install -e '.[test]' brings it")
    root = Path(tempfile.mkdtemp(prefix="qualcode-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(SUPERUSER)
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", SUPERUSER, "--"]
    server = PostgresServer(bin_dir, root, _free_port(), run_as)
    (root / "socket").mkdir()
    if run_as:
        os.chown(root / "socket", user.pw_uid, user.pw_gid)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{detail}") from exc
    return server


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (one per xdist worker), stopped at the end."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def pg_database(pg_server):
    """A fresh, empty database on the session's server; dropped after the test."""
    name = pg_server.create_database()
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def pg_url(pg_server, pg_database) -> str:
    """A superuser URL (over the trusted socket) for this test's fresh database."""
    return pg_server.url(pg_database)
