"""Where a reconciliation keeps what grows with the pool and the snapshot (the pool's users, the ids already
read, the matches), so that its memory does not: SQLite's private temporary databases."""

from __future__ import annotations

import sqlite3
import weakref


def scratch_database(owner: object, schema: str) -> sqlite3.Connection:
    """A database only `owner` uses, closed when `owner` is collected. SQLite keeps it in its page cache (2 MB
    by default) and spills the rest to a file it creates in the temporary directory (/tmp on Lambda) and
    deletes on close. Never committed: nothing outlives the run."""
    database = sqlite3.connect("")
    database.execute("PRAGMA journal_mode = OFF")  # nothing is ever rolled back
    database.executescript(schema)
    weakref.finalize(owner, database.close)
    return database
