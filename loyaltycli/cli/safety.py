"""Data safety: backup, restore, export, db check, customer merge and customer forget."""

from __future__ import annotations

from pathlib import Path

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit, label
from loyaltycli.i18n import _, ngettext


def confirmed(yes: bool, what: str, details: list[str]) -> None:
    """Irreversible commands: go on with --yes; on a terminal show ``details`` and ask; else refuse."""
    from loyaltycli.base.errors import Cancelled

    if yes:
        return
    if not options.current.interactive:
        raise Cancelled(_("{what} cannot be undone; add --yes to confirm (there is no terminal to ask on)").format(
            what=what))
    for line in details:
        typer.echo(line, err=True)
    from loyaltycli.cli import prompts

    if not prompts.confirm(_("{what}: this cannot be undone. Go ahead?").format(what=what)):
        raise Cancelled(_("{what} cancelled; nothing was changed").format(what=what))


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
    from loyaltycli.services.backup import backup as run_backup

    info = run_backup(options.database(), file, force=force)
    emit(info, message=_("backed up {customers} and {rows} to {file} ({bytes} bytes)").format(
        customers=ngettext("{count} customer", "{count} customers", info["customers"]).format(count=info["customers"]),
        rows=ngettext("{count} ledger row", "{count} ledger rows", info["ledger_rows"]).format(count=info["ledger_rows"]),
        file=info["file"], bytes=info["bytes"]))


def restore(file: Path = typer.Argument(..., help="A backup written by `loyalty backup`."), yes: bool = YES) -> None:
    """Replace the database with a checked backup; the replaced one is kept as <db>.before-restore-<time>.

    Tills wait (they are not lost) while the database is copied aside and replaced. On a terminal it shows
    the backup's date and counts and asks first; --yes for scripts.

    Example: loyalty restore /var/backups/loyalty-Mon.db --yes
    """
    from loyaltycli.store import ledger
    from loyaltycli.services.backup import restore as run_restore

    def ask(facts: dict) -> bool:
        _fault_point("LOYALTY_FAULT_IN_RESTORE")  # the kill tests: the staged copy is there now
        confirmed(yes, _("restore"), [
            _("restore {file}: written {time}, {customers}, {rows}, schema {schema}").format(
                file=file, time=facts["backup_time"],
                customers=ngettext("{count} customer", "{count} customers", facts["customers"]).format(
                    count=facts["customers"]),
                rows=ngettext("{count} ledger row", "{count} ledger rows", facts["ledger_rows"]).format(
                    count=facts["ledger_rows"]), schema=facts["schema"]),
            _("the current database is replaced (and kept aside)")])
        return True

    info = run_restore(options.database(), file, confirm=ask)
    info["operator"] = ledger.operator_name(options.current.by)
    customers = ngettext("{count} customer", "{count} customers", info["customers"]).format(count=info["customers"])
    rows = ngettext("{count} ledger row", "{count} ledger rows", info["ledger_rows"]).format(count=info["ledger_rows"])
    if info["kept_aside"]:
        message = _("restored {customers} and {rows} from {file}; the previous database is kept as {kept}").format(
            customers=customers, rows=rows, file=info["file"], kept=info["kept_aside"])
    else:
        message = _("restored {customers} and {rows} from {file}").format(customers=customers, rows=rows,
                                                                        file=info["file"])
    emit(info, message=message)


def export(folder: Path = typer.Argument(..., help="Folder for the CSV files (created if missing).")) -> None:
    """Write every table as <table>.csv (values as stored: cents, UTC times) from one consistent snapshot.

    Example: loyalty export exports/2026-06-15
    """
    from loyaltycli.services.backup import export as run_export

    info = run_export(options.database(), folder)
    rows = sum(info["tables"].values())
    emit(info, message=_("exported {tables} tables ({rows} rows) to {folder}").format(
        tables=len(info["tables"]), rows=rows, folder=info["folder"]))


def db_check() -> None:
    """Recompute what can be recomputed (ledger links, expiry, bonuses, redemptions, refunds, merges,
    forgotten customers, SQLite integrity) and list every difference; exit 1 if any.

    Example: loyalty db check
    """
    from loyaltycli.services.check import CHECKS, run_checks
    from loyaltycli.services.check import leftover_notes, unfinished_imports

    database = options.database()
    problems = run_checks(database)
    notes = leftover_notes(database)
    unfinished = unfinished_imports(database) if not any(p.check == "integrity" for p in problems) else []
    data = {"ok": not problems, "checks": [name for name, _ in CHECKS],
            "problems": [{"check": p.check, "detail": p.detail} for p in problems], "leftovers": notes,
            "unfinished_imports": unfinished}
    if not options.current.json:
        for note in [*notes, *unfinished]:
            typer.echo(_("note: {detail}").format(detail=note["detail"]), err=True)
    if options.current.json:
        emit(data)
    elif problems:
        emit(data["problems"], columns=["check", "detail"], title=ngettext("{count} problem", "{count} problems", len(problems)).format(count=len(problems)))
    else:
        emit(data, message=_("database OK: {count} checks passed").format(count=len(CHECKS)))
    if problems:
        from loyaltycli.cli.exits import fail

        fail(_("db check found {count} problems (listed above); restore a good backup or correct them with new "
               "ledger rows").format(count=len(problems)))


def _fault_point(name: str) -> None:
    """Fault injection for the kill tests: with ``name`` set in the environment the process stops itself
    here (SIGSTOP) so a test can kill it at exactly this point."""
    import os

    if os.environ.get(name):
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


def _describe(session, customer) -> str:
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger

    return _("{code} {name}, {contact}, balance {balance} points").format(
        code=customer.code, name=customer.name or _("(no name)"),
        contact=customer.email or customer.phone or customer.card or _("no contact"),
        balance=ledger.spendable(session, customer.id, clock.now()))


def customer_merge(keep: str = typer.Argument(..., help="The customer to keep (code, card, e-mail or phone)."),
                   duplicate: str = typer.Argument(..., help="The duplicate to fold into KEEP."),
                   yes: bool = YES) -> None:
    """Fold a duplicate customer into another: points (with their expiry dates), purchases, surveys,
    referrals, redemptions, donations and memberships; the duplicate can no longer be used.

    On a terminal it shows both customers (names, balances) and asks first; --yes for scripts.

    Example: loyalty customer merge C000001 C000007 --yes
    """
    from loyaltycli.services import customers
    from loyaltycli.base.errors import RuleNotMet
    from loyaltycli.services.merge import merge_customers
    from loyaltycli.store.program import load_program

    db = options.database()
    if not yes:
        with db.session(write=False) as session:
            program = load_program(session)
            kept, dup = customers.find(session, keep, program), customers.find(session, duplicate, program)
            shown = {"keep": kept.id, "duplicate": dup.id}
            details = [_("keep:      {customer}").format(customer=_describe(session, kept)),
                       _("duplicate: {customer}").format(customer=_describe(session, dup))]
        confirmed(yes, _("merge {duplicate} into {keep}").format(duplicate=dup.code, keep=kept.code), details)
    with db.session() as session, options.by_hand():
        program = load_program(session)
        kept = customers.find(session, keep, program)
        dup = customers.find(session, duplicate, program)
        if not yes and shown != {"keep": kept.id, "duplicate": dup.id}:
            raise RuleNotMet(_("the customers changed while you were deciding; nothing was merged, run it again"))
        result = merge_customers(session, kept, dup)
    data = {"code": result.keep, "merged": result.duplicate, "points": result.points,
            "lots": result.lots, "moved": result.moved, "filled": result.filled, "balance": result.balance}
    emit(data, message=_("merged {duplicate} into {keep}: {points}, {purchases} moved; balance {balance}").format(
        duplicate=result.duplicate, keep=result.keep,
        points=ngettext("{count} point", "{count} points", abs(result.points)).format(count=result.points),
        purchases=ngettext("{count} purchase", "{count} purchases", result.moved["purchases"]).format(
            count=result.moved["purchases"]),
        balance=result.balance))


def customer_forget(key: str = typer.Argument(..., help="Code, card, e-mail or phone."), yes: bool = YES) -> None:
    """Erase a customer's personal data (name, phone, e-mail, card, birthday, survey comments, award
    reasons; also on duplicates merged into it) from the database file; the anonymous ledger stays so
    totals still add up; remaining points are forfeited. Run it again on a forgotten customer to finish
    an erasure that was interrupted.

    On a terminal it shows the customer and asks first; --yes for scripts.

    Example: loyalty customer forget C000007 --yes
    """
    from loyaltycli.services import customers
    from loyaltycli.base.errors import RuleNotMet
    from loyaltycli.services.merge import forget_customer, scrub_file
    from loyaltycli.store.program import load_program

    db = options.database()
    if not yes:
        with db.session(write=False) as session:
            program = load_program(session)
            customer = customers.find(session, key, program, usable=False)
            if customer.status == "merged":
                customers.find(session, key, program)  # says which customer it was merged into
            shown, details = customer.id, [_("forget: {customer}").format(customer=_describe(session, customer))]
        confirmed(yes, _("forget {code}").format(code=customer.code), details)
    with db.session() as session, options.by_hand():
        program = load_program(session)
        customer = customers.find(session, key, program, usable=False)
        if customer.status == "merged":
            customers.find(session, key, program)  # says which customer it was merged into
        if not yes and customer.id != shown:
            raise RuleNotMet(_("the customer changed while you were deciding; nothing was erased, run it again"))
        keys = {customer.card, customer.tax_id, customer.phone, customer.email}  # before they are erased
        result = forget_customer(session, customer)
    from loyaltycli.cli.counter import forget_in_history

    forget_in_history({key for key in keys if key})  # `customer show CARD` typed at the counter
    _fault_point("LOYALTY_FAULT_BEFORE_SCRUB")
    scrubbed = scrub_file(db)
    if not scrubbed:
        import sys

        sys.stderr.write(_("note: another process is using the database: the erased values are overwritten, but "
                           "the file is compacted only when it is free; run `loyalty customer forget {code}` again "
                           "later to finish").format(code=result.code) + "\n")
    data = {"code": result.code, "erased": result.erased, "comments": result.comments,
            "reasons": result.reasons, "forfeited": result.forfeited, "file_scrubbed": scrubbed,
            "duplicates": result.duplicates}
    also = ([ngettext("{count} survey comment", "{count} survey comments", result.comments).format(
        count=result.comments)] if result.comments else []) + (
        [ngettext("{count} award reason", "{count} award reasons", result.reasons).format(count=result.reasons)]
        if result.reasons else []) + (
        [ngettext("{count} merged duplicate", "{count} merged duplicates", len(result.duplicates)).format(
            count=len(result.duplicates))] if result.duplicates else [])
    if result.again:
        message = _("{code} was already forgotten; erased what was left and compacted the file").format(
            code=result.code)
    else:
        erased = ", ".join(label(field) for field in result.erased) or _("nothing")
        erased += "".join(_(" and {part}").format(part=part) for part in also)
        message = ngettext("forgot {code}: erased {erased}; {points} point forfeited",
                           "forgot {code}: erased {erased}; {points} points forfeited", abs(result.forfeited)).format(
            code=result.code, erased=erased, points=result.forfeited)
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
