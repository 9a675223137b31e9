"""The project store: one database holding every document, code and coding.

A project is a SQLite file by default (SQLAlchemy Core, WAL, foreign keys on); a
PostgreSQL URL takes the same code path. Everything else in qualcode (matrices,
agreement, evidence, reports) is computed from these tables and never cached
elsewhere. This module imports no other qualcode module but ``errors``.

Offsets: every coding is a character span ``[start, end)`` into ``documents.text``,
which is never edited once the document has codings.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

migrations = sa.Table(
    "migrations",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("applied_at", sa.String(32), nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("source_file", sa.String(1024), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("encoding", sa.String(32)),
    sa.Column("source_type", sa.String(64), nullable=False, default="other"),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("words", sa.Integer, nullable=False),
    sa.Column("imported_at", sa.String(32), nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("documents.id")),
    sa.UniqueConstraint("name", "version", name="uq_document_name_version"),
)
sa.Index("ix_documents_sha256", documents.c.sha256)

turns = sa.Table(
    "turns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("speaker", sa.String(255), nullable=False),
    sa.Column("is_interviewer", sa.Boolean, nullable=False, default=False),
    sa.Column("time_start", sa.Float),
    sa.Column("time_end", sa.Float),
)
sa.Index("ix_turns_document", turns.c.document_id, turns.c.start)

document_attributes = sa.Table(
    "document_attributes",
    metadata,
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

case_attributes = sa.Table(
    "case_attributes",
    metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

codebooks = sa.Table(
    "codebooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("source", sa.Text, nullable=False),  # the YAML as loaded, for provenance
    sa.Column("loaded_at", sa.String(32), nullable=False),
)

# Codes keep a stable integer id; ``key`` is the codebook's id for the code, so a
# rename changes ``name`` only, and codings never point at a name.
codes = sa.Table(
    "codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("parent_key", sa.String(255)),
    sa.Column("definition", sa.Text, nullable=False, default=""),
    sa.Column("colour", sa.String(16)),
    sa.Column("kind", sa.String(32), nullable=False, default="topic"),
    sa.Column("outcomes", sa.Text, nullable=False, default="[]"),  # JSON list of ToC outcome ids
    sa.Column("direction", sa.String(16)),  # what a cross-cutting code says: supports|challenges|mixed
    sa.Column("codebook", sa.String(255)),
    sa.Column("codebook_version", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False, default="active"),  # active | retired
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

coders = sa.Table(
    "coders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False, default="human"),  # human | method
)

CODING_STATUSES = ("suggested", "accepted", "rejected")

codings = sa.Table(
    "codings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id"), nullable=False),
    sa.Column("coder_id", sa.Integer, sa.ForeignKey("coders.id"), nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="accepted"),
    sa.Column("confidence", sa.Float),
    sa.Column("method", sa.String(64), nullable=False, default="manual"),
    sa.Column("provenance", sa.Text, nullable=False, default="{}"),  # JSON: rule, model, codebook
    sa.Column("explanation", sa.Text),
    sa.Column("codebook_version", sa.String(64)),
    sa.Column("direction", sa.String(16)),  # supports | challenges | mixed (optional)
    sa.Column("snippet", sa.Text, nullable=False, default=""),  # text covered, to detect drift
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.CheckConstraint("start >= 0 AND \"end\" >= start", name="ck_coding_span"),
    sa.CheckConstraint("status IN ('suggested', 'accepted', 'rejected')", name="ck_coding_status"),
)
sa.Index("ix_codings_document", codings.c.document_id, codings.c.start)
sa.Index("ix_codings_code", codings.c.code_id)
sa.Index("ix_codings_coder_status", codings.c.coder_id, codings.c.status)
# One suggestion per (document, span, code, coder, method): two auto-coding runs at once
# cannot double them, whatever the code above the database does (migration 0004).
SUGGESTION_KEY = ("document_id", "start", "end", "code_id", "coder_id", "method")
uq_codings_suggestion = sa.Index(
    "uq_codings_suggestion", *(codings.c[name] for name in SUGGESTION_KEY), unique=True,
    sqlite_where=codings.c.status == "suggested", postgresql_where=codings.c.status == "suggested",
)

# The audit trail: every change to a coding, with who, when, before and after.
coding_events = sa.Table(
    "coding_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("coding_id", sa.Integer, nullable=False),  # no FK: events outlive deletions
    sa.Column("action", sa.String(32), nullable=False),  # create|accept|reject|recode|update|delete|undo
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("before", sa.Text),  # JSON row or NULL
    sa.Column("after", sa.Text),  # JSON row or NULL
    sa.Column("batch", sa.String(64)),  # groups the events of one bulk action, for undo
)
sa.Index("ix_coding_events_coding", coding_events.c.coding_id)

memos = sa.Table(
    "memos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # project|document|case|code|coding|framework
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE")),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE")),
    sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id", ondelete="CASCADE")),
    sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id", ondelete="CASCADE")),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(255), nullable=False, default=""),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)


def now() -> str:
    """An ISO-8601 UTC timestamp, the one format every table uses."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
