"""Reading query results from real databases (PostgreSQL/Redshift, MySQL/MariaDB).

One job: a connection URL, credentials and a SQL query in, the result's column names
and kinds plus an iterator of row batches out. Rows are streamed (a server-side
cursor for PostgreSQL, an unbuffered cursor for MySQL; SQLAlchemy's
``stream_results``), so a large table is never copied into memory at once. No HTTP, no
S3, no AWS: the Amazon ML data sources build on it.

The drivers (SQLAlchemy, psycopg, PyMySQL) are the optional extra ``databases``;
without them :class:`DatabaseError` names the extra to install.
"""

from __future__ import annotations

import decimal
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

EXTRA = "databases"

# URL schemes users write -> SQLAlchemy driver names (Redshift speaks PostgreSQL's protocol)
DRIVERS = {
    "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "redshift": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "mysql+pymysql": "mysql+pymysql",
}
CONNECT_TIMEOUT_SECONDS = 10
# the query runs in a read-only transaction: a data source never changes the database
READ_ONLY = {"postgresql": "SET TRANSACTION READ ONLY", "mysql": "SET SESSION TRANSACTION READ ONLY"}


class DatabaseError(Exception):
    """The database (or its driver) refused: the message is the database's own."""


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise DatabaseError(f"Reading databases needs the optional extra '{EXTRA}': "
                            f"pip install 'aws-ml-emulator[{EXTRA}]'") from None
    return sqlalchemy


def database_url(base: str, username: str | None = None, password: str | None = None,
                 database: str | None = None) -> Any:
    """``base`` (e.g. ``mysql://user@127.0.0.1:3306``) as a SQLAlchemy URL with the
    driver chosen and the given user, password and database name filled in."""
    sqlalchemy = _sqlalchemy()
    try:
        url = sqlalchemy.engine.make_url(base)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad URL
        raise DatabaseError(f"Invalid database URL {base!r}: {exc}") from None
    driver = DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseError(f"Unsupported database URL scheme '{url.drivername}' (use postgresql:// or mysql://)")
    changes: dict[str, Any] = {"drivername": driver}
    if username:
        changes["username"] = username
    if password is not None:
        changes["password"] = password
    if database:
        changes["database"] = database
    return url.set(**changes)


@dataclass
class QueryResult:
    """Column names, and batches of rows (tuples) to iterate once.

    ``kinds`` ("number", "boolean" or "text" per column) start from the driver's column
    types and are refined by the values seen, so they are final once ``batches`` is exhausted.
    """

    columns: list[str]
    batches: Iterator[Sequence[tuple[Any, ...]]]
    kinds: list[str] = field(default_factory=list)


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, decimal.Decimal)):
        return "number"
    return "text"


def _type_kind(dbapi: Any, type_code: Any) -> str:
    if type_code == 16 and getattr(dbapi, "__name__", "") == "psycopg":  # PostgreSQL's bool OID
        return "boolean"
    number = getattr(dbapi, "NUMBER", None)
    return "number" if number is not None and number == type_code else "text"


def _refining(batches: Iterator[Sequence[tuple[Any, ...]]], declared: list[str],
              result: QueryResult) -> Iterator[Sequence[tuple[Any, ...]]]:
    """Yield the batches; a column's kind becomes that of its first non-null value (a
    PostgreSQL or MySQL column has one Python type, e.g. MySQL's NEWDECIMAL -> Decimal)."""
    kinds = list(declared)
    pending = set(range(len(declared)))
    for batch in batches:
        if pending:
            for row in batch:
                for i in [i for i in pending if row[i] is not None]:
                    kinds[i] = _value_kind(row[i])
                    pending.discard(i)
                if not pending:
                    break
        yield batch
    result.kinds = kinds


def _message(exc: Exception) -> str:
    """The database's own words for a DBAPI error."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int):  # PyMySQL: (code, message)
        return f"{args[1]} (error {args[0]})"
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__  # psycopg adds LINE/caret context


@contextmanager
def query_rows(url: Any, query: str, batch_rows: int = 1000) -> Iterator[QueryResult]:
    """Connect to ``url`` (from :func:`database_url`), run ``query`` (a SELECT, in a read-only
    transaction) and stream its rows.

    Raises :class:`DatabaseError` with the database's message for a refused connection,
    an unknown database, a SQL error or a missing driver, also while iterating.
    """
    sqlalchemy = _sqlalchemy()
    try:
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                          connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    except ImportError as exc:
        raise DatabaseError(f"The database driver is missing ({exc}); install the optional extra "
                            f"'{EXTRA}': pip install 'aws-ml-emulator[{EXTRA}]'") from None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(READ_ONLY[engine.dialect.name])
            try:
                result = conn.execution_options(stream_results=True, max_row_buffer=batch_rows,
                                                no_parameters=True).exec_driver_sql(query)
            except sqlalchemy.exc.ResourceClosedError:
                raise DatabaseError("The query returned no rows (it is not a SELECT)") from None
            if not result.returns_rows:
                raise DatabaseError("The query returned no rows (it is not a SELECT)")
            description = result.cursor.description or []
            dbapi = engine.dialect.dbapi
            declared = [_type_kind(dbapi, d[1]) for d in description]
            out = QueryResult(columns=[str(d[0]) for d in description], batches=iter(()), kinds=list(declared))
            out.batches = _refining(result.partitions(batch_rows), declared, out)
            yield out
    except sqlalchemy.exc.DBAPIError as exc:
        raise DatabaseError(_message(exc)) from None
    except sqlalchemy.exc.ArgumentError as exc:
        raise DatabaseError(str(exc)) from None
    finally:
        engine.dispose()
