"""Who may do what in a team project, enforced by PostgreSQL itself.

``qualcode team add PROJECT NAME --role coder|reviewer|reader`` makes NAME a login
role (if it is not one yet) and a member of one of the project's three group roles.
The database, not qualcode, then holds everyone to their role, so a script or a
notebook that bypasses qualcode is held to it too:

- a **reader** reads everything and changes nothing (grants: SELECT only);
- a **coder** adds codings under their own name and edits only their own: row-level
  security checks every new or changed coding's coder against ``current_user``, and
  ``coder_id`` is not among the columns a coder may update;
- a **reviewer** accepts, rejects, recodes and settles anyone's codings, and runs
  auto-coding (its suggestions are recorded under the method's name).

Memos follow their author: a coder writes memos under their own login and edits or
deletes only those; a reviewer edits or deletes anyone's (and writes under their own
login); a reader reads them. The lead, as owner, is bound by none of it.

Every audit event a team member writes must carry their own login as its actor (a
policy on ``coding_events``), so the trail says truthfully who made each change. The
project's lead, who ran ``qualcode init`` and owns the tables, is not bound by the
policies and grants the roles (PostgreSQL's CREATEROLE, or a superuser).

>>> group_role("evaluation", "coder")
'qc_evaluation_coder'
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..errors import InputError, PermissionDenied, ProjectError

ROLES = ("coder", "reviewer", "reader")
# What a coder may change on a coding: not who made it (coder_id), not where it came from.
_CODER_COLUMNS = ("code_id", "start", "end", "status", "confidence", "direction", "explanation", "snippet",
                  "updated_at")
# What anyone may change on a memo: its text, not who wrote it or what it is attached to.
_MEMO_COLUMNS = ("text", "updated_at")


def group_role(database: str, role: str) -> str:
    """The project's group role for ``role``: one set per database, so projects stay apart."""
    return f"qc_{database}_{role}"[:63]


@dataclass
class Member:
    """A team member as the database knows them."""

    name: str
    role: str


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _require_postgres(project) -> None:
    if project.engine.dialect.name != "postgresql":
        raise ProjectError(
            f"{project.location}: roles need a PostgreSQL project; a SQLite file is one person's. "
            f"Fix: move it to a server with `qualcode copy {project.location} postgresql://USER@HOST/DATABASE`."
        )


def _check_name(project, name: str, role: str) -> None:
    if role not in ROLES:
        raise InputError(project.location, f"role {role!r} is not one of {', '.join(ROLES)}",
                         "use --role coder, --role reviewer or --role reader")
    if not name or len(name) > 63 or not all(ch.isalnum() or ch in "_.-@" for ch in name):
        raise InputError(project.location, f"{name!r} is not a usable login name",
                         "use letters, digits and _ . - @ (at most 63 characters), e.g. alex or a.khan")


def _ensure_groups(conn: sa.Connection, database: str) -> dict[str, str]:
    """Create the project's three group roles once, with their grants and policies."""
    groups = {role: group_role(database, role) for role in ROLES}
    existing = set(conn.execute(sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
                                {"names": list(groups.values())}).scalars())
    for name in groups.values():
        if name not in existing:
            conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, name)} NOLOGIN")
    q = {role: _quote(conn, name) for role, name in groups.items()}
    everyone = f"{q['reader']}, {q['coder']}, {q['reviewer']}"
    writers = f"{q['coder']}, {q['reviewer']}"
    coder_columns = ", ".join(_quote(conn, c) for c in _CODER_COLUMNS)
    memo_columns = ", ".join(_quote(conn, c) for c in _MEMO_COLUMNS)
    own = "coder_id IN (SELECT id FROM coders WHERE name = current_user)"
    statements = [
        f"GRANT CONNECT ON DATABASE {_quote(conn, database)} TO {everyone}",
        f"GRANT USAGE ON SCHEMA public TO {everyone}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {everyone}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {writers}",
        f"GRANT INSERT ON codings, coding_events, coders, memos TO {writers}",
        f"GRANT UPDATE ({coder_columns}) ON codings TO {q['coder']}",
        f"GRANT DELETE ON codings TO {q['coder']}",
        f"GRANT UPDATE, DELETE ON codings TO {q['reviewer']}",
        f"REVOKE UPDATE ON memos FROM {writers}",  # projects granted before memo policies had it whole
        f"GRANT UPDATE ({memo_columns}) ON memos TO {writers}",
        f"GRANT DELETE ON memos TO {writers}",
        "ALTER TABLE codings ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE coding_events ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE coders ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE memos ENABLE ROW LEVEL SECURITY",
    ]
    policies = {
        "codings": [
            ("qc_read", f"FOR SELECT TO {everyone} USING (true)"),
            ("qc_coder_insert", f"FOR INSERT TO {q['coder']} WITH CHECK ({own})"),
            ("qc_coder_update", f"FOR UPDATE TO {q['coder']} USING (true) WITH CHECK ({own})"),
            ("qc_coder_delete", f"FOR DELETE TO {q['coder']} USING ({own})"),
            ("qc_reviewer", f"FOR ALL TO {q['reviewer']} USING (true) WITH CHECK (true)"),
        ],
        "coding_events": [
            ("qc_read", f"FOR SELECT TO {everyone} USING (true)"),
            ("qc_own_actor", f"FOR INSERT TO {writers} WITH CHECK (actor = current_user)"),
        ],
        "coders": [
            ("qc_read", f"FOR SELECT TO {everyone} USING (true)"),
            ("qc_coder_self", f"FOR INSERT TO {q['coder']} WITH CHECK (name = current_user)"),
            ("qc_reviewer_any", f"FOR INSERT TO {q['reviewer']} WITH CHECK (true)"),
        ],
        "memos": [
            ("qc_read", f"FOR SELECT TO {everyone} USING (true)"),
            ("qc_own_author", f"FOR INSERT TO {writers} WITH CHECK (author = current_user)"),
            ("qc_coder_update", f"FOR UPDATE TO {q['coder']} USING (author = current_user)"),
            ("qc_coder_delete", f"FOR DELETE TO {q['coder']} USING (author = current_user)"),
            ("qc_reviewer_update", f"FOR UPDATE TO {q['reviewer']} USING (true)"),
            ("qc_reviewer_delete", f"FOR DELETE TO {q['reviewer']} USING (true)"),
        ],
    }
    for table, table_policies in policies.items():
        for name, body in table_policies:
            statements.append(f"DROP POLICY IF EXISTS {name} ON {table}")
            statements.append(f"CREATE POLICY {name} ON {table} {body}")
    for statement in statements:
        conn.exec_driver_sql(statement)
    return groups


def add_member(project, name: str, role: str) -> Member:
    """Give ``name`` the ``role`` in this project (creating the login role if needed).

    A member moved to another role loses the old one. Needs the lead's connection
    (the role that owns the project's tables, with CREATEROLE).
    """
    _require_postgres(project)
    _check_name(project, name, role)
    try:
        with project.engine.begin() as conn:
            database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            groups = _ensure_groups(conn, database)
            quoted = _quote(conn, name)
            if not conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
                conn.exec_driver_sql(f"CREATE ROLE {quoted} LOGIN")
            for other, group in groups.items():
                if other != role:
                    conn.exec_driver_sql(f"REVOKE {_quote(conn, group)} FROM {quoted}")
            conn.exec_driver_sql(f"GRANT {_quote(conn, groups[role])} TO {quoted}")
    except sa.exc.ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42501":
            raise PermissionDenied(
                f"{project.location}: only the project's lead can grant roles ({str(exc.orig).splitlines()[0]}). "
                "Fix: run `qualcode team add` as the role that ran `qualcode init` (it needs CREATEROLE)."
            ) from None
        raise
    return Member(name, role)


def members(project) -> list[Member]:
    """Everyone holding one of this project's roles."""
    _require_postgres(project)
    with project.engine.connect() as conn:
        database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
        groups = {group_role(database, role): role for role in ROLES}
        rows = conn.execute(sa.text(
            "SELECT m.rolname, g.rolname FROM pg_auth_members a "
            "JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.roleid "
            "WHERE g.rolname = ANY(:groups) ORDER BY m.rolname"), {"groups": list(groups)}).all()
    return [Member(name, groups[group]) for name, group in rows]


def team_user(conn: sa.Connection) -> str | None:
    """The login of a team member on this connection, or None (SQLite, or the lead).

    A team member's audit events must carry their own login (a policy checks it), so
    writers default the actor to it.
    """
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(sa.text(
        "SELECT current_user, EXISTS (SELECT 1 FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
        "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = current_user "
        "AND g.rolname LIKE 'qc\\_' || current_database() || '\\_%')")).one()
    return row[0] if row[1] else None
