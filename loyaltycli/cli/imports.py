"""`loyalty import`: the nightly till export, streamed, idempotent, with a rejects file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit
from loyaltycli.i18n import N_, _, ngettext

SUMMARY_KEYS = ("read", "imported", "skipped", "anonymous", "returns_without_sale", "rejected", "points_awarded",
                "sales", "refunds", "customers_enrolled")


def import_(
    file: Path = typer.Argument(..., metavar="FILE", help="CSV export of the till (UTF-8 or Latin-1; , or ;), "
                                                          "or a SAF-T (PT) XML file with --preset saft-pt."),
    source: str = typer.Option("till", "--source", help="Name of the till or shop; receipts are unique per source."),
    preset: Optional[str] = typer.Option(None, "--preset", metavar="NAME|PATH.toml",
                                         help="Column layout of a known export (see `loyalty import-presets`), "
                                              "or a preset file."),
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
    date_order: Optional[str] = typer.Option(None, "--date-order", metavar="DMY|MDY|YMD",
                                             help="How the file writes dates (default: what the file shows; "
                                                  "a file readable two ways is refused)."),
    decimal_comma: bool = typer.Option(False, "--decimal-comma", help="Amounts like 1.234,56 and 0,750."),
    encoding: Optional[str] = typer.Option(None, "--encoding", metavar="NAME",
                                           help="The file's encoding (cp1250, iso-8859-2...; default UTF-8, "
                                                "else Windows-1252 line by line)."),
    anonymous: Optional[List[str]] = typer.Option(None, "--anonymous", metavar="VALUE",
                                                  help="A customer value meaning no customer (repeatable); such "
                                                       "rows and empty ones are skipped and counted."),
    customer_kind: Optional[str] = typer.Option(None, "--customer-kind", metavar="card|phone|email|code|tax_id",
                                                help="What the customer column holds (default: e-mail if it has "
                                                     "@, phone if valid for the shop's region, else card; tax_id: "
                                                     "a NIF, CNP... that an unknown customer is enrolled "
                                                     "with)."),
    again: bool = typer.Option(False, "--again", help="Import a file even if it was imported before."),
    skip_when: Optional[List[str]] = typer.Option(None, "--skip-when", metavar="COLUMN=VALUE",
                                                  help="Leave out rows whose COLUMN is VALUE (any case; repeatable), "
                                                       "e.g. annulled documents: --skip-when Estado=A."),
) -> None:
    """Import a till's CSV export: sales, line items and refunds, with the counter's points rules.

    Safe to run twice (receipts already imported from the source are skipped) and safe to kill (each
    batch of whole receipts is one transaction). Rejected rows go to the rejects file with the reason
    and file:line; the exit code is 3 when any row was rejected.

    `loyalty import inspect FILE [--save NAME]` reads the first rows of FILE and prints its delimiter,
    encoding, decimal style, date order and header, and a preset to start from.

    Example: loyalty import till.csv --source shop1 --enroll-unknown
    """
    from loyaltycli.services import importer
    from loyaltycli.tillcsv.translate import ReadOptions

    read_options = ReadOptions(date_order=date_order, decimal_comma=decimal_comma, encoding=encoding,
                               anonymous=list(anonymous or []), customer_kind=customer_kind)
    mapping = importer.parse_map(map_ or [])
    skipping = importer.parse_skip_when(skip_when or [])
    rejects_path = rejects or importer.default_rejects_path(file)
    show_bar = sys.stderr.isatty() and not options.current.json and not options.current.csv
    database = options.database()
    database.ensure_schema()
    engine = importer.Importer(file, source=source, preset=preset, mapping=mapping, enroll_unknown=enroll_unknown,
                               dry_run=dry_run, rejects=rejects_path, batch_rows=batch_rows,
                               options=read_options, again=again, skip_when=skipping)
    engine.reader.force_rejects, engine.reader.default_rejects = force, rejects is None
    if show_bar:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with Progress(TextColumn(_("importing {file}").replace("{file}", "{task.description}")), BarColumn(), _size_column(),
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
        where = (_("see {file}").format(file=summary.rejects_file) if summary.rejects_file
                 else "; ".join(summary.first_rejects[:3]))
        typer.echo(ngettext("{count} row rejected: {where}", "{count} rows rejected: {where}", summary.rejected)
                   .format(count=summary.rejected, where=where), err=True)
        raise typer.Exit(3)


def _run(engine, database, file: Path):
    """The import; Ctrl-C says what was kept (whole batches are committed) and how to finish."""
    from loyaltycli.cli.exits import fail
    try:
        return engine.run(database)
    except KeyboardInterrupt:
        if engine.dry_run:
            fail(_("interrupted; a dry run writes nothing"), 130)
        if not engine.kept_receipts:
            fail(_("interrupted; nothing of {file} was imported yet (the batch in progress was rolled back)").format(
                file=file), 130)
        kept = engine.kept_receipts
        fail(ngettext("interrupted; {count} receipt of {file} was kept (committed in whole batches; the batch in "
                      "progress was rolled back). Run the same command again to finish the job: it skips the "
                      "receipts already kept",
                      "interrupted; {count} receipts of {file} were kept (committed in whole batches; the batch in "
                      "progress was rolled back). Run the same command again to finish the job: it skips the "
                      "receipts already kept", kept).format(count=kept, file=file), 130)


def _size_column():
    """The progress bar's 'read of total' in unit symbols (B, kB, MB, GB) and the shop's decimals, not
    Rich's English 'bytes'."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    from loyaltycli.base.money import format_number

    def size(n) -> str:
        n = float(n or 0)
        for unit in ("B", "kB", "MB"):
            if n < 1000:
                return f"{int(n)} {unit}" if unit == "B" else f"{format_number(n, decimals=1)} {unit}"
            n /= 1000
        return f"{format_number(n, decimals=1)} GB"

    class SizeColumn(ProgressColumn):
        def render(self, task):
            done = size(task.completed)
            return Text(f"{done}/{size(task.total)}" if task.total else done, style="progress.download")

    return SizeColumn()


def _stderr_console():
    from loyaltycli.cli.render import console

    return console(stderr=True)


def _report(data: dict) -> None:
    counts = {
        "sales": ngettext("{count} sale", "{count} sales", data["sales"]).format(count=data["sales"]),
        "refunds": ngettext("{count} refund", "{count} refunds", data["refunds"]).format(count=data["refunds"]),
        "enrolled": ngettext("{count} customer enrolled", "{count} customers enrolled",
                             data["customers_enrolled"]).format(count=data["customers_enrolled"]),
        "points": ngettext("{count} point", "{count} points", abs(data["points_awarded"])).format(
            count=data["points_awarded"])}
    # every row read is counted once: imported, skipped, anonymous, a return without sale, or rejected
    line = (_("{file}: read {read}, would import {imported}, skipped {skipped}, anonymous {anonymous}, rejected "
              "{rejected}; {sales}, {refunds}, {enrolled}, {points}") if data["dry_run"] else
            _("{file}: read {read}, imported {imported}, skipped {skipped}, anonymous {anonymous}, rejected "
              "{rejected}; {sales}, {refunds}, {enrolled}, {points}")).format(
        file=data["file"], read=data["read"], imported=data["imported"], skipped=data["skipped"],
        anonymous=data["anonymous"], rejected=data["rejected"], **counts)
    if data.get("returns_without_sale"):
        line += ngettext("; {count} return without sale skipped", "; {count} returns without sale skipped",
                         data["returns_without_sale"]).format(count=data["returns_without_sale"])
    if data.get("date_order_source") == "shop":
        line += "; " + _date_order_note(data)
    if options.current.json or options.current.csv:
        emit(data, columns=["file", "source", "dry_run", *SUMMARY_KEYS, "rejects_file", "run_id"])
    elif sys.stdout.isatty():
        shown = {k: data[k] for k in ("file", "source", *SUMMARY_KEYS, "rejects_file")}
        if data.get("date_order_source") == "shop":
            shown["date_order"] = _date_order_note(data)
        emit(shown, title=_("Import (dry run: nothing written)") if data["dry_run"] else _("Import"))
    else:
        emit(data, message=line)  # a cron job's mail: one line
        sys.stdout.flush()  # before the rejects line on stderr: the mail reads them in this order


def _date_order_note(data: dict) -> str:
    """'dates read day-first (the shop's locale ro_RO; --date-order overrides)'."""
    order = _("day-first") if data["date_order"] == "DMY" else _("month-first")
    return _("dates read {order} (the shop's locale {locale}; --date-order overrides)").format(
        order=order, locale=data.get("shop_locale") or "")


def presets() -> None:
    """List the import presets (column layouts of known till exports).

    Example: loyalty import-presets
    """
    from loyaltycli.tillcsv.presets import list_presets

    machine = options.current.json or options.current.csv
    rows = [{"preset": p.name, "from": p.origin, "columns": ", ".join(f"{k}={v}" for k, v in p.columns.items()),
             "description": p.described(translated=not machine)} for p in list_presets()]
    emit(rows, columns=["preset", "from", "description", *(["columns"] if machine else [])], title=_("Import presets"))


# What inspect may say of a file's date order besides DMY, MDY or YMD (tillcsv/inspect.py), translated.
DATE_ORDER_WORDS = (N_("unknown (dates read both ways: give --date-order)"), N_("mixed"))


def _show_inspected(report: dict) -> None:
    shown = {k: report[k] for k in ("file", "delimiter", "encoding", "decimal", "date_order", "header")}
    shown["header"] = ", ".join(report["header"])
    if shown["date_order"] in DATE_ORDER_WORDS:
        shown["date_order"] = _(shown["date_order"])
    emit(shown, title=_("Inspect"))


def _inspect(path: Path, save: Optional[str], encoding: Optional[str]) -> None:
    from loyaltycli.base import place
    from loyaltycli.tillcsv import inspect as inspecting

    report = inspecting.inspect_file(path, encoding=encoding, country=place.get("country") or None,
                                     locale=place.get("locale") or None)
    machine = options.current.json or options.current.csv
    if not machine and options.current.interactive:
        _walk_mapping(report, save)  # on a terminal: the mapping walked through, then saved
        return
    if save:
        report["saved_to"] = str(inspecting.save_preset(report, save))
    if machine:
        emit(report)
        return
    _show_inspected(report)
    typer.echo(_("# a preset to start from (--save NAME keeps it):"))
    typer.echo(report["preset_toml"])
    if save:
        typer.echo(_("saved to {file}; use it with --preset {name}").format(file=report["saved_to"], name=save),
                   err=True)


def _walk_mapping(report: dict, save: Optional[str]) -> None:
    """`import inspect` on a terminal: what was found, then each column's field asked (questionary; the
    guess is the default), the preset printed and saved (--save NAME, or a name asked for)."""
    from loyaltycli.cli import prompts
    from loyaltycli.tillcsv import inspect as inspecting
    from loyaltycli.tillcsv.presets import CANONICAL

    _show_inspected(report)
    columns = prompts.mapping_flow(report["header"], report["columns"], CANONICAL)
    if columns is not None:
        report = inspecting.with_columns(report, columns)
        missing = inspecting.missing_fields(columns)
        if missing:
            typer.echo(ngettext("note: no column is {fields}; an import with this preset needs it (add --map "
                                "COLUMN=FIELD)",
                                "note: no column is {fields}; an import with this preset needs them (add --map "
                                "COLUMN=FIELD)", len(missing)).format(fields=", ".join(missing)), err=True)
    typer.echo(_("# a preset to start from (--save NAME keeps it):"))
    typer.echo(report["preset_toml"])
    name = save or (prompts.ask_name(_("Save as preset (name; empty: do not save):")) if columns is not None
                    else None)
    if name:
        target = inspecting.save_preset(report, name)
        typer.echo(_("saved to {file}; use it with --preset {name}").format(file=target, name=name.strip().lower()),
                   err=True)


def inspect(
    file: Path = typer.Argument(..., metavar="FILE", help="The till's export to look at (CSV or SAF-T XML)."),
    save: Optional[str] = typer.Option(None, "--save", metavar="NAME",
                                       help="Save the preset under NAME, in the user's config folder."),
    encoding: Optional[str] = typer.Option(None, "--encoding", metavar="NAME",
                                           help="The file's encoding (default: what the file shows)."),
) -> None:
    """Look at a till's export before importing it: delimiter, encoding, decimal style, date order, header,
    and a preset to start from (on a terminal, a walk through the column mapping).

    --save NAME keeps the preset in the user's config folder (e.g. ~/.config/loyaltycli/presets/NAME.toml),
    to use with `loyalty import FILE --preset NAME`.

    Example: loyalty import inspect till.csv --save mytill
    """
    _inspect(file, save, encoding)


# `import inspect FILE` is a command of its own (its own help and usage line); the words are joined
# into this name before Click reads the line (cli/__init__.py).
INSPECT_NAME = "import inspect"


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command(INSPECT_NAME, hidden=True)(inspect)
    app.command("import-presets")(presets)
