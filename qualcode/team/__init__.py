"""Team projects: PostgreSQL connections, who may do what, and moving a project.

- ``connection``: where a project lives (a SQLite file or a database URL), the engine
  for it, and passwords kept out of every message.
- ``roles``: ``qualcode team add`` — coder, reviewer and reader roles the database
  itself enforces (PostgreSQL roles, grants and row-level security).
- ``copy``: ``qualcode copy`` — a project moved between SQLite and PostgreSQL whole.

Only ``connection`` is imported by the store's opener; the others import ``Project``.
"""
