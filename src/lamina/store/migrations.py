"""Schema migrations: numbered .sql files in migrations/, applied once each, in order."""

from __future__ import annotations

import sqlite3
from importlib import resources


def migration_scripts() -> list[tuple[int, str, str]]:
    folder = resources.files("lamina.store") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            scripts.append((number, entry.name, entry.read_text()))
    return sorted(scripts)


def migrate_sqlite(connection: sqlite3.Connection) -> list[str]:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    )
    done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
    applied = []
    for number, name, sql in migration_scripts():
        if number in done:
            continue
        with connection:
            for statement in _statements(sql):
                connection.execute(statement)
            connection.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (number, name))
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """The statements of a script, whole: a trigger's body has semicolons of its own."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements, pending = [], ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements
