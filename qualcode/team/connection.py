"""Where a project lives: a SQLite file, or a PostgreSQL database named by a URL.

A team project is a PostgreSQL database; qualcode reaches it with psycopg 3
(``pip install 'qualcode[postgres]'``). Passwords never travel in the URL we show:
libpq finds them itself in ``PGPASSWORD``, a service file (``?service=NAME``) or a
password file (``~/.pgpass``, ``PGPASSFILE``), and every message masks the URL.

>>> is_url("eval.qc"), is_url("postgresql://alex@db.example.org/eval")
(False, True)
>>> normalise_url("postgresql://alex@db.example.org/eval")
'postgresql+psycopg://alex@db.example.org/eval'
>>> masked("postgresql+psycopg://alex:s3cret@db.example.org/eval")
'postgresql+psycopg://alex:***@db.example.org/eval'
"""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import ProjectError

# Plain ``postgresql://`` URLs (what psql and libpq take) mean our driver, psycopg 3.
_DRIVER_ALIASES = ("postgresql://", "postgres://", "postgresql+psycopg2://")


def is_url(location: str) -> bool:
    """Whether ``location`` names a database by URL rather than a SQLite file."""
    return "://" in str(location)


def normalise_url(location: str) -> str:
    """The URL with PostgreSQL pointed at psycopg 3, the driver ``qualcode[postgres]`` brings."""
    for alias in _DRIVER_ALIASES:
        if location.startswith(alias):
            return "postgresql+psycopg://" + location[len(alias):]
    return location


def masked(location: str) -> str:
    """``location`` safe to print: a URL's password becomes ``***``; file paths unchanged."""
    location = str(location)
    if not is_url(location):
        return location
    try:
        url = sa.engine.make_url(location)
    except sa.exc.ArgumentError:
        return location.split("://", 1)[0] + "://***"
    if url.password is None:
        return location  # as the user wrote it (rendering would re-encode ?host=/path)
    return url.render_as_string(hide_password=True)


def password_of(location: str) -> str | None:
    """The password written into a URL, if any (to scrub it from driver messages)."""
    if not is_url(location):
        return None
    try:
        return sa.engine.make_url(location).password
    except sa.exc.ArgumentError:
        return None


def scrub(message: str, location: str) -> str:
    """``message`` with any password from ``location`` replaced by ``***``."""
    secret = password_of(location)
    return message.replace(secret, "***") if secret else message


def refuse_password_in_url(location: str) -> None:
    """Refuse a URL that carries a password: on a command line it lands in shell history.

    >>> refuse_password_in_url("postgresql://alex:s3cret@db/eval")
    Traceback (most recent call last):
    ...
    qualcode.errors.ProjectError: postgresql://alex:***@db/eval: the URL holds a password, which would stay in your shell history and process list. Fix: drop it from the URL and put it in PGPASSWORD, a service file (postgresql:///?service=NAME) or ~/.pgpass.
    """
    if password_of(location):
        raise ProjectError(
            f"{masked(location)}: the URL holds a password, which would stay in your shell history "
            "and process list. Fix: drop it from the URL and put it in PGPASSWORD, a service file "
            "(postgresql:///?service=NAME) or ~/.pgpass."
        )


def _require_driver(location: str) -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ProjectError(
            f"{masked(location)}: the PostgreSQL driver is not installed. "
            "Fix: pip install 'qualcode[postgres]' (it brings psycopg 3)."
        ) from None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA busy_timeout = 30000")  # two notebooks writing wait, not fail
    cur.close()


def make_engine(location: str) -> sa.Engine:
    """An engine for a SQLite file path or a database URL (PostgreSQL through psycopg 3)."""
    location = str(location)
    if not is_url(location):
        engine = sa.create_engine(f"sqlite:///{location}")
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    url = normalise_url(location)
    if url.startswith("postgresql+psycopg://"):
        _require_driver(url)
    try:
        engine = sa.create_engine(url, hide_parameters=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise ProjectError(
            f"{masked(location)}: not a database URL qualcode can use ({scrub(str(exc), location)}). "
            "Fix: give a SQLite file path or postgresql://USER@HOST/DATABASE."
        ) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def connect_error(location: str, exc: Exception) -> ProjectError:
    """A ``ProjectError`` for a database we could not reach, password masked, with the fix."""
    reason = scrub(str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                   location)
    return ProjectError(
        f"{masked(location)}: cannot connect ({reason}). Fix: check the host, database and user; "
        "a password comes from PGPASSWORD, a service file or ~/.pgpass, never the URL; "
        "create the database first with `createdb`."
    )
