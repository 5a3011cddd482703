"""Data safety: backup, restore, export, db check, customer merge and customer forget."""

from __future__ import annotations

from pathlib import Path

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, plural


def confirmed(yes: bool, what: str, details: list[str]) -> None:
    """Irreversible commands: go on with --yes; on a terminal show ``details`` and ask; else refuse."""
    from loyaltycli.core.errors import Cancelled

    if yes:
        return
    if not options.current.interactive:
        raise Cancelled(f"{what} cannot be undone; add --yes to confirm (there is no terminal to ask on)")
    for line in details:
        typer.echo(line, err=True)
    from loyaltycli.cli import prompts

    if not prompts.confirm(f"{what}: this cannot be undone. Go ahead?"):
        raise Cancelled(f"{what} cancelled; nothing was changed")


YES = typer.Option(False, "--yes", "-y", help="Do it without asking (scripts); without it a terminal asks and "
                                              "--no-input refuses.")


def backup(file: Path = typer.Argument(..., help="Backup file to write (0600, via a temporary file and an "
                                                 "atomic rename), or a folder to put loyalty-YYYYMMDD-HHMMSS.db in."),
           force: bool = typer.Option(False, "--force", help="Replace an existing loyalty backup (never any "
                                                             "other file).")) -> None:
    """Write a consistent copy of the database while tills keep working (SQLite online backup).

    An existing file is replaced only when it is a loyalty backup and --force is given; links, devices,
    pipes and the database's own files are refused.

    Example: loyalty backup /var/backups/loyalty-$(date +%a).db --force
    """
    from loyaltycli.core.backup import backup as run_backup

    info = run_backup(options.database(), file, force=force)
    emit(info, message=f"backed up {plural(info['customers'], 'customer')} and {plural(info['ledger_rows'], 'ledger row')} "
                       f"to {info['file']} ({info['bytes']} bytes)")


def restore(file: Path = typer.Argument(..., help="A backup written by `loyalty backup`."), yes: bool = YES) -> None:
    """Replace the database with a checked backup; the replaced one is kept as <db>.before-restore-<time>.

    Tills wait (they are not lost) while the database is copied aside and replaced. On a terminal it shows
    the backup's date and counts and asks first; --yes for scripts.

    Example: loyalty restore /var/backups/loyalty-Mon.db --yes
    """
    from loyaltycli.core import ledger
    from loyaltycli.core.backup import restore as run_restore

    def ask(facts: dict) -> bool:
        confirmed(yes, "restore", [f"restore {file}: written {facts['backup_time']}, {facts['customers']} "
                                   f"customers, {facts['ledger_rows']} ledger rows, schema {facts['schema']}",
                                   "the current database is replaced (and kept aside)"])
        return True

    info = run_restore(options.database(), file, confirm=ask)
    info["operator"] = ledger.operator_name(options.current.by)
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


def _fault_point(name: str) -> None:
    """Fault injection for the kill tests: with ``name`` set in the environment the process stops itself
    here (SIGSTOP) so a test can kill it at exactly this point."""
    import os

    if os.environ.get(name):
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


def _describe(session, customer) -> str:
    from loyaltycli.core import ledger

    return (f"{customer.code} {customer.name or '(no name)'}, {customer.email or customer.phone or customer.card or 'no contact'}"
            f", balance {ledger.balance(session, customer.id)} points")


def customer_merge(keep: str = typer.Argument(..., help="The customer to keep (code, card, e-mail or phone)."),
                   duplicate: str = typer.Argument(..., help="The duplicate to fold into KEEP."),
                   yes: bool = YES) -> None:
    """Fold a duplicate customer into another: points (with their expiry dates), purchases, surveys,
    referrals, redemptions, donations and memberships; the duplicate can no longer be used.

    On a terminal it shows both customers (names, balances) and asks first; --yes for scripts.

    Example: loyalty customer merge C000001 C000007 --yes
    """
    from loyaltycli.core import customers
    from loyaltycli.core.errors import RuleNotMet
    from loyaltycli.core.merge import merge_customers
    from loyaltycli.core.program import load_program

    db = options.database()
    if not yes:
        with db.session(write=False) as session:
            program = load_program(session)
            kept, dup = customers.find(session, keep, program), customers.find(session, duplicate, program)
            shown = {"keep": kept.id, "duplicate": dup.id}
            details = [f"keep:      {_describe(session, kept)}", f"duplicate: {_describe(session, dup)}"]
        confirmed(yes, f"merge {dup.code} into {kept.code}", details)
    with db.session() as session, options.by_hand():
        program = load_program(session)
        kept = customers.find(session, keep, program)
        dup = customers.find(session, duplicate, program)
        if not yes and shown != {"keep": kept.id, "duplicate": dup.id}:
            raise RuleNotMet("the customers changed while you were deciding; nothing was merged, run it again")
        result = merge_customers(session, kept, dup)
    data = {"code": result.keep, "merged": result.duplicate, "points": result.points,
            "lots": result.lots, "moved": result.moved, "filled": result.filled, "balance": result.balance}
    emit(data, message=f"merged {result.duplicate} into {result.keep}: {plural(result.points, 'point')}, "
                       f"{plural(result.moved['purchases'], 'purchase')} moved; balance {result.balance}")


def customer_forget(key: str = typer.Argument(..., help="Code, card, e-mail or phone."), yes: bool = YES) -> None:
    """Erase a customer's personal data (name, phone, e-mail, card, birthday, survey comments, award
    reasons; also on duplicates merged into it) from the database file; the anonymous ledger stays so
    totals still add up; remaining points are forfeited. Run it again on a forgotten customer to finish
    an erasure that was interrupted.

    On a terminal it shows the customer and asks first; --yes for scripts.

    Example: loyalty customer forget C000007 --yes
    """
    from loyaltycli.core import customers
    from loyaltycli.core.errors import RuleNotMet
    from loyaltycli.core.merge import forget_customer, scrub_file
    from loyaltycli.core.program import load_program

    db = options.database()
    if not yes:
        with db.session(write=False) as session:
            program = load_program(session)
            customer = customers.find(session, key, program, usable=False)
            if customer.status == "merged":
                customers.find(session, key, program)  # says which customer it was merged into
            shown, details = customer.id, [f"forget: {_describe(session, customer)}"]
        confirmed(yes, f"forget {customer.code}", details)
    with db.session() as session, options.by_hand():
        program = load_program(session)
        customer = customers.find(session, key, program, usable=False)
        if customer.status == "merged":
            customers.find(session, key, program)  # says which customer it was merged into
        if not yes and customer.id != shown:
            raise RuleNotMet("the customer changed while you were deciding; nothing was erased, run it again")
        result = forget_customer(session, customer)
    _fault_point("LOYALTY_FAULT_BEFORE_SCRUB")
    scrubbed = scrub_file(db)
    if not scrubbed:
        import sys

        sys.stderr.write("note: another process is using the database: the erased values are overwritten, "
                         "but the file is compacted only when it is free; run `loyalty customer forget "
                         f"{result.code}` again later to finish\n")
    data = {"code": result.code, "erased": result.erased, "comments": result.comments,
            "reasons": result.reasons, "forfeited": result.forfeited, "file_scrubbed": scrubbed,
            "duplicates": result.duplicates}
    also = ([f"{result.comments} survey comments"] if result.comments else []) + (
        [f"{result.reasons} award reasons"] if result.reasons else []) + (
        [f"{len(result.duplicates)} merged duplicates"] if result.duplicates else [])
    if result.again:
        message = f"{result.code} was already forgotten; erased what was left and compacted the file"
    else:
        message = (f"forgot {result.code}: erased {', '.join(result.erased) or 'nothing'}"
                   f"{''.join(f' and {part}' for part in also)}; {result.forfeited} points forfeited")
    emit(data, message=message)


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.customers import customer_app
    from loyaltycli.cli.setup import db_app

    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("export")(export)
    db_app.command("check")(db_check)
    customer_app.command("merge")(customer_merge)
    customer_app.command("forget")(customer_forget)
