"""Bounds on what one request to the published site may cost, whoever sends it.

SQLite stops a query after the time limit, but only between its own steps, and it cannot
see Python's memory: so every value is capped in length, SQLite's heap is capped for the
process, the rows one query hands to Python are capped in total size, and the info
pages and SQL never say where the archive lives on the server. (The site's own SQL
functions bound their inputs themselves: search.py.)
"""

from __future__ import annotations

import sqlite3
import weakref

from datasette import hookimpl
from datasette.utils.asgi import Response

MAX_VALUE_BYTES = 16 * 1024 * 1024      # any string or blob (a report's text is < 1 MB)
MAX_SQL_BYTES = 100_000                 # the text of one SQL statement
MAX_HEAP_BYTES = 1024 * 1024 * 1024     # SQLite's own memory, the whole process
MAX_RESULT_CHARS = 128 * 1024 * 1024    # text and bytes one query returns to Python


def _bounded_rows(connection: sqlite3.Connection) -> None:
    """Rows as sqlite3.Row, failing the query once its rows exceed MAX_RESULT_CHARS."""
    used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def row(cursor, values):
        size = used.get(cursor, 0) + sum(len(v) for v in values if isinstance(v, (str, bytes)))
        if size > MAX_RESULT_CHARS:
            raise sqlite3.DataError(f"the result is larger than {MAX_RESULT_CHARS // 2**20} MB: "
                                    "ask for fewer rows or shorter columns")
        used[cursor] = size
        return sqlite3.Row(cursor, values)

    connection.row_factory = row


def _without_file_paths(action, table, column, database, trigger):
    """SQLite authorizer: `pragma_database_list` answers its `file` column as null, so
    that arbitrary SQL cannot read where the archive lives on the server."""
    if action == sqlite3.SQLITE_READ and table == "pragma_database_list" and column == "file":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.execute(f"PRAGMA hard_heap_limit = {MAX_HEAP_BYTES}")
    conn.set_authorizer(_without_file_paths)
    _bounded_rows(conn)


async def databases_without_paths(datasette, request):
    """Datasette's /-/databases, without the files' places on the server."""
    return Response.json([
        {"name": name, "route": db.route, "size": db.size, "is_mutable": db.is_mutable,
         "is_memory": db.is_memory, "hash": db.hash}
        for name, db in datasette.databases.items() if name != "_internal"])


@hookimpl
def register_routes():
    return [(r"^/-/databases(\.json)?$", databases_without_paths)]
