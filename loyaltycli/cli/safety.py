"""Data safety: backup, restore, export, db check, customer merge and customer forget."""

from __future__ import annotations

from pathlib import Path

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, plural


def backup(file: Path = typer.Argument(..., help="Backup file to write (replaced atomically), or a folder to "
                                                 "put loyalty-YYYYMMDD-HHMMSS.db in.")) -> None:
    """Write a consistent copy of the database while tills keep working (SQLite online backup).

    Example: loyalty backup /var/backups/loyalty-$(date +%a).db
    """
    from loyaltycli.core.backup import backup as run_backup

    info = run_backup(options.database(), file)
    emit(info, message=f"backed up {plural(info['customers'], 'customer')} and {plural(info['ledger_rows'], 'ledger row')} "
                       f"to {info['file']} ({info['bytes']} bytes)")


def restore(file: Path = typer.Argument(..., help="A backup written by `loyalty backup`.")) -> None:
    """Replace the database with a checked backup; the replaced one is kept as <db>.before-restore-<time>.

    Example: loyalty restore /var/backups/loyalty-Mon.db
    """
    from loyaltycli.core.backup import restore as run_restore

    info = run_restore(options.database(), file)
    kept = f"; the previous database is kept as {info['kept_aside']}" if info["kept_aside"] else ""
    emit(info, message=f"restored {plural(info['customers'], 'customer')} and {plural(info['ledger_rows'], 'ledger row')} "
                       f"from {info['file']}{kept}")


def export(folder: Path = typer.Argument(..., help="Folder for the CSV files (created if missing).")) -> None:
    """Write every table as <table>.csv (values as stored: cents, UTC times) from one consistent snapshot.

    Example: loyalty export exports/2026-06-15
    """
    from loyaltycli.core.backup import export as run_export

    info = run_export(options.database(), folder)
    rows = sum(info["tables"].values())
    emit(info, message=f"exported {len(info['tables'])} tables ({rows} rows) to {info['folder']}")


def db_check() -> None:
    """Recompute what can be recomputed (ledger links, expiry, bonuses, redemptions, refunds, merges,
    forgotten customers, SQLite integrity) and list every difference; exit 1 if any.

    Example: loyalty db check
    """
    from loyaltycli.core.check import CHECKS, run_checks

    problems = run_checks(options.database())
    data = {"ok": not problems, "checks": [name for name, _ in CHECKS],
            "problems": [{"check": p.check, "detail": p.detail} for p in problems]}
    if options.current.json:
        emit(data)
    elif problems:
        emit(data["problems"], columns=["check", "detail"], title=f"{len(problems)} problems")
    else:
        emit(data, message=f"database OK: {len(CHECKS)} checks passed")
    if problems:
        from loyaltycli.cli import fail

        fail(f"db check found {len(problems)} problems (listed above); restore a good backup or correct them "
             "with new ledger rows")


def customer_merge(keep: str = typer.Argument(..., help="The customer to keep (code, card, e-mail or phone)."),
                   duplicate: str = typer.Argument(..., help="The duplicate to fold into KEEP.")) -> None:
    """Fold a duplicate customer into another: points (with their expiry dates), purchases, surveys,
    referrals, redemptions, donations and memberships; the duplicate can no longer be used.

    Example: loyalty customer merge C000001 C000007
    """
    from loyaltycli.core import customers
    from loyaltycli.core.merge import merge_customers
    from loyaltycli.core.program import load_program

    with options.database().session() as session:
        program = load_program(session)
        kept = customers.find(session, keep, program)
        dup = customers.find(session, duplicate, program)
        result = merge_customers(session, kept, dup)
    data = {"code": result.keep, "merged": result.duplicate, "points": result.points,
            "lots": result.lots, "moved": result.moved, "filled": result.filled, "balance": result.balance}
    emit(data, message=f"merged {result.duplicate} into {result.keep}: {plural(result.points, 'point')}, "
                       f"{plural(result.moved['purchases'], 'purchase')} moved; balance {result.balance}")


def customer_forget(key: str = typer.Argument(..., help="Code, card, e-mail or phone.")) -> None:
    """Erase a customer's personal data (name, phone, e-mail, card, birthday, survey comments) from the
    database file; the anonymous ledger stays so totals still add up; remaining points are forfeited.

    Example: loyalty customer forget C000007
    """
    from loyaltycli.core import customers
    from loyaltycli.core.merge import forget_customer, scrub_file
    from loyaltycli.core.program import load_program

    db = options.database()
    with db.session() as session:
        customer = customers.find(session, key, load_program(session))
        result = forget_customer(session, customer)
    scrubbed = scrub_file(db)
    if not scrubbed:
        import sys

        sys.stderr.write("note: another process is using the database: the erased values are overwritten, "
                         "but the file is compacted only by the next `customer forget`\n")
    data = {"code": result.code, "erased": result.erased, "comments": result.comments,
            "reasons": result.reasons, "forfeited": result.forfeited, "file_scrubbed": scrubbed}
    also = ([f"{result.comments} survey comments"] if result.comments else []) + (
        [f"{result.reasons} award reasons"] if result.reasons else [])
    emit(data, message=f"forgot {result.code}: erased {', '.join(result.erased) or 'nothing'}"
                       f"{''.join(f' and {part}' for part in also)}; {result.forfeited} points forfeited")


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.customers import customer_app
    from loyaltycli.cli.setup import db_app

    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("export")(export)
    db_app.command("check")(db_check)
    customer_app.command("merge")(customer_merge)
    customer_app.command("forget")(customer_forget)
