"""`loyalty import`: the nightly till export, streamed, idempotent, with a rejects file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit

SUMMARY_KEYS = ("read", "imported", "skipped", "rejected", "points_awarded", "sales", "refunds",
                "customers_enrolled")


def import_(
    file: Path = typer.Argument(..., metavar="FILE", help="CSV export of the till (UTF-8 or Latin-1; , or ;)."),
    source: str = typer.Option("till", "--source", help="Name of the till or shop; receipts are unique per source."),
    preset: Optional[str] = typer.Option(None, "--preset", help="Column layout of a known export "
                                                                "(uci-online-retail, loyverse)."),
    map_: Optional[List[str]] = typer.Option(None, "--map", metavar="COLUMN=FIELD",
                                             help="Read the file's COLUMN as our FIELD (repeatable)."),
    enroll_unknown: bool = typer.Option(False, "--enroll-unknown", help="Enroll customers seen for the first "
                                                                        "time (card, phone or e-mail)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would happen; write nothing."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE",
                                           help="Where rejected rows go (default: FILE.rejects.csv); created "
                                                "0600, never through a link."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --rejects FILE."),
    batch_rows: int = typer.Option(100_000, "--batch-rows", hidden=True, min=1,
                                   help="Rows per transaction (whole receipts)."),
) -> None:
    """Import a till's CSV export: sales, line items and refunds, with the counter's points rules.

    Safe to run twice (receipts already imported from the source are skipped) and safe to kill (each
    batch of whole receipts is one transaction). Rejected rows go to the rejects file with the reason
    and file:line; the exit code is 3 when any row was rejected.

    Example: loyalty import till.csv --source shop1 --enroll-unknown
    """
    from loyaltycli.core import importer

    mapping = importer.parse_map(map_ or [])
    rejects_path = rejects or importer.default_rejects_path(file)
    show_bar = sys.stderr.isatty() and not options.current.json and not options.current.csv
    database = options.database()
    database.ensure_schema()
    engine = importer.Importer(file, source=source, preset=preset, mapping=mapping, enroll_unknown=enroll_unknown,
                               dry_run=dry_run, rejects=rejects_path, batch_rows=batch_rows)
    engine.reader.force_rejects, engine.reader.default_rejects = force, rejects is None
    if show_bar:
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        with Progress(TextColumn("importing {task.description}"), BarColumn(), DownloadColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), transient=True,
                      console=_stderr_console()) as bar:
            task = bar.add_task(file.name, total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            engine.progress = progress
            summary = _run(engine, database, file)
    else:
        summary = _run(engine, database, file)
    data = summary.as_dict()
    _report(data)
    if summary.rejected:
        where = f"see {summary.rejects_file}" if summary.rejects_file else "; ".join(summary.first_rejects[:3])
        typer.echo(f"{summary.rejected} row(s) rejected: {where}", err=True)
        raise typer.Exit(3)


def _run(engine, database, file: Path):
    """The import; Ctrl-C says what was kept (whole batches are committed) and how to finish."""
    from loyaltycli.cli import fail
    from loyaltycli.cli.render import plural

    try:
        return engine.run(database)
    except KeyboardInterrupt:
        if engine.dry_run:
            fail("interrupted; a dry run writes nothing", 130)
        if not engine.kept_receipts:
            fail(f"interrupted; nothing of {file} was imported yet (the batch in progress was rolled back)", 130)
        kept = engine.kept_receipts
        fail(f"interrupted; {plural(kept, 'receipt')} of {file} {'was' if kept == 1 else 'were'} kept (committed "
             "in whole batches; the batch in progress was rolled back). Run the same command again to finish "
             "the job: it skips the receipts already kept", 130)


def _stderr_console():
    from loyaltycli.cli.render import console

    return console(stderr=True)


def _report(data: dict) -> None:
    from loyaltycli.cli.render import plural

    what = "would import" if data["dry_run"] else "imported"
    line = (f"{data['file']}: read {data['read']}, {what} {data['imported']}, skipped {data['skipped']}, "
            f"rejected {data['rejected']}; {plural(data['sales'], 'sale')}, {plural(data['refunds'], 'refund')}, "
            f"{plural(data['customers_enrolled'], 'customer')} enrolled, {plural(data['points_awarded'], 'point')}")
    if options.current.json or options.current.csv:
        emit(data, columns=["file", "source", "dry_run", *SUMMARY_KEYS, "rejects_file", "run_id"])
    elif sys.stdout.isatty():
        shown = {k: data[k] for k in ("file", "source", *SUMMARY_KEYS, "rejects_file")}
        emit(shown, title="Import (dry run: nothing written)" if data["dry_run"] else "Import")
    else:
        emit(data, message=line)  # a cron job's mail: one line


def presets() -> None:
    """List the import presets (column layouts of known till exports).

    Example: loyalty import-presets
    """
    from loyaltycli.core import importer

    rows = [{"preset": p.name, "columns": ", ".join(f"{k}={v}" for k, v in p.columns.items()),
             "description": p.description} for p in importer.list_presets()]
    emit(rows, columns=["preset", "description", "columns"], title="Import presets")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("import-presets")(presets)
