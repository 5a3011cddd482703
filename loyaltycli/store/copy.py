"""Copy a whole database to another, empty one: a shop's SQLite file onto the chain's PostgreSQL server.

The target is brought to the newest schema first, then every table is bulk-inserted in foreign-key
order, ids kept, in one transaction: either everything arrives or nothing does.
"""

from __future__ import annotations

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from loyaltycli.store.db import Database, _unavailable, resolve_url
from loyaltycli.base.errors import InvalidInput, LoyaltyError
from loyaltycli.i18n import _

BATCH_ROWS = 5000
# Rows `init` makes in an empty database, replaced by the source's: its card-signing keys, so the cards
# printed for the shop keep working on the target (a target with only these is still empty).
REPLACED_BY_THE_COPY = {"pass_key"}


class TargetNotEmpty(LoyaltyError):
    """The target database already holds data (or other tables); nothing was copied."""


def tables() -> list[Table]:
    """Every table of the program, parents before children."""
    from sqlmodel import SQLModel

    from loyaltycli.store import models  # noqa: F401  (registers the tables)

    return list(SQLModel.metadata.sorted_tables)


def copy_database(source: Database, target_url: str) -> dict:
    """Copy every row of ``source`` into the empty database at ``target_url``; returns rows per table."""
    if not (target_url or "").strip():  # bad input for --to, not a database that cannot be used (exit 4)
        raise InvalidInput(_('--to is blank; give the target database: a file or a URL'))
    target_url = resolve_url(target_url)
    if target_url == source.url:
        raise TargetNotEmpty(_('the target is the database being copied; give another --to URL'))
    source.ensure_schema()
    target = Database(target_url)
    try:
        _check_target_schema(target)
        target.ensure_schema()
        with source.engine.connect() as src:
            # One read transaction on the source: a consistent snapshot even while tills write.
            src = src.execution_options(loyalty_write=False)
            with src.begin():
                with target.engine.connect() as dst:
                    with dst.begin():
                        _refuse_rows(target, dst)
                        for table in tables():
                            if table.name in REPLACED_BY_THE_COPY:
                                dst.execute(table.delete())
                        counts = {table.name: _copy_table(src, dst, table) for table in tables()}
                        if dst.dialect.name == "postgresql":
                            _reset_sequences(dst)
                        _verify(dst, counts)
    except DBAPIError as exc:
        raise _unavailable(exc) from exc
    finally:
        target.engine.dispose()
    return {"source": source.safe_url, "target": target.safe_url,
            "tables": [{"table": name, "rows": rows} for name, rows in counts.items()],
            "rows": sum(counts.values())}


def _check_target_schema(target: Database) -> None:
    """Refuse a target holding tables of something else (schema_version raises on those)."""
    from loyaltycli.base.errors import DatabaseUnavailable

    try:
        target.schema_version()
    except DatabaseUnavailable as exc:
        if "not a loyaltycli database" in str(exc):
            raise TargetNotEmpty(_('{safe_url} already has tables of another program; copy into a new, empty database').format(safe_url=target.safe_url)) from None
        raise


def _refuse_rows(target: Database, dst: Connection) -> None:
    for table in tables():
        if table.name not in REPLACED_BY_THE_COPY and dst.execute(select(func.count()).select_from(table)).scalar_one():
            raise TargetNotEmpty(_('{safe_url} is not empty (table {name} has rows); copy into a new, empty database').format(safe_url=target.safe_url, name=table.name))


def _self_references(table: Table) -> list[str]:
    """Columns of ``table`` that point at rows of the same table (a customer merged into another...)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(src: Connection, dst: Connection, table: Table) -> int:
    """Insert every row of ``table`` in batches, ids kept; returns the number of rows."""
    pk = list(table.primary_key.columns)
    self_refs = _self_references(table)
    pending: list[dict] = []  # self-references to rows not inserted yet, set once all rows are in
    copied = 0
    result = src.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
        select(table).order_by(*pk))
    for batch in result.mappings().partitions(BATCH_ROWS):
        rows = [dict(row) for row in batch]
        for row in rows:
            for column in self_refs:
                if row[column] is not None and row[column] >= row["id"]:
                    pending.append({"b_id": row["id"], "b_column": column, "b_value": row[column]})
                    row[column] = None
        _insert(dst, table, rows)
        copied += len(rows)
    for column in self_refs:
        fixes = [{"b_id": p["b_id"], "b_value": p["b_value"]} for p in pending if p["b_column"] == column]
        if fixes:
            dst.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values({column: bindparam("b_value")}), fixes)
    return copied


def _insert(dst: Connection, table: Table, rows: list[dict]) -> None:
    """Bulk insert: PostgreSQL's COPY with psycopg (tens of times faster than INSERTs), else executemany."""
    if not (dst.dialect.name == "postgresql" and dst.dialect.driver == "psycopg"):
        dst.execute(table.insert(), rows)
        return
    columns = list(table.columns)
    processors = [column.type.bind_processor(dst.dialect) for column in columns]
    quote = dst.dialect.identifier_preparer.quote
    sql = (f"COPY {quote(table.name)} ({', '.join(quote(column.name) for column in columns)}) "
           "FROM STDIN")
    cursor = dst.connection.driver_connection.cursor()
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([value if process is None or value is None else process(value)
                            for value, process in
                            ((row[column.name], process) for column, process in zip(columns, processors))])


def _reset_sequences(dst: Connection) -> None:
    """After inserts with explicit ids, make PostgreSQL's next id follow the highest copied one."""
    for table in tables():
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        dst.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:name, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {dst.dialect.identifier_preparer.quote(table.name)}), 0) + 1, false)"),
            {"name": dst.dialect.identifier_preparer.quote(table.name)})


def _verify(dst: Connection, counts: dict[str, int]) -> None:
    for table in tables():
        found = dst.execute(select(func.count()).select_from(table)).scalar_one()
        if found != counts[table.name]:
            raise LoyaltyError(_('copy check failed: table {name} has {found} rows in the target, {counts} in the source; nothing was copied').format(name=table.name, found=found, counts=counts[table.name]))
