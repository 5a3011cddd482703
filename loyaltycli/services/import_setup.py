"""What an import does before its first block and after its last: the shop's locale (its date order), the
file's encoding, the digest checked against earlier runs, a SAF-T (PT) file turned into canonical rows in a
temporary file beside the database (removed on every way out), and a full disk said as one message.
services/importer.py reads the blocks and applies them.
"""

from __future__ import annotations

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.services import import_runs as runs


class ImportSetUp:
    """The set-up half of services.importer.Importer (its attributes: path, label, reader, summary...)."""

    def _disk_full(self, exc: Exception):
        """A full disk (the database, the spill file, the rejects file...) as one message that says what
        was committed before it and that a re-run finishes the file; None for any other error."""
        from loyaltycli.base import files

        if not (getattr(exc, "disk_full", False) or files.disk_full(exc)):
            return None
        kept = 0 if self.dry_run else self.kept_receipts
        if not kept:
            return exc if getattr(exc, "disk_full", False) else files.disk_full_error(f"cannot import {self.label}")
        from loyaltycli.base.errors import DatabaseUnavailable
        from loyaltycli.i18n import ngettext

        error = DatabaseUnavailable(ngettext(
            "disk full: the import of {file} stopped after {count} receipt was committed (whole batches; the batch "
            "in progress was rolled back); free some space and run the same command again: it skips what was "
            "imported and finishes the file",
            "disk full: the import of {file} stopped after {count} receipts were committed (whole batches; the "
            "batch in progress was rolled back); free some space and run the same command again: it skips what "
            "was imported and finishes the file", kept).format(file=self.label, count=kept))
        error.disk_full = True
        return error

    def _drop_temp(self) -> None:
        """The SAF-T file's canonical rows (personal data) removed on every way out."""
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def _prepare(self, database=None) -> None:
        """Before anything is read: the file's digest checked against earlier runs (unless --again); a
        SAF-T (PT) file turned into canonical rows in a temporary file (tillcsv/saft.py)."""
        try:
            is_file = self.path.is_file()
        except OSError:  # a name too long for the system, and the like: open() says why
            is_file = False
        if not is_file:
            self.reader.open().close()  # its one-line message for a folder, a missing file, a name too long
        self._use_shop_locale(database)
        if self.preset.format == "csv" and not self.reader.options.encoding and is_file:
            # a file that is not UTF-8: the encoding `import inspect` finds too (tillcsv/detect.py); Windows-1252
            # is read line by line anyway, Windows-1250 (a Romanian till) must be said
            from loyaltycli.tillcsv import detect

            try:
                found = detect.file_encoding(self.path)
            except OSError:
                found = "utf-8"
            self.summary.encoding = self.reader.file_encoding = found
            if found == "cp1250":
                self._options.encoding = self.reader.options.encoding = found
        self.summary.encoding = self.summary.encoding or self.reader.options.encoding
        if database is not None:
            self._digest = runs.digest(self.path)
            if not self.again:
                with database.session() as session:
                    runs.check_not_imported(session, *self._digest, self.label, self.source)
        if self.preset.format == "saft-pt":
            import io

            from loyaltycli.store.db import temp_path
            from loyaltycli.base.files import create_private
            from loyaltycli.tillcsv import saft

            # beside the database (0600), where the next run finds it should this one be killed
            self._temp = temp_path(self._url, "saft")
            with create_private(self._temp) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out, \
                    self.path.open("rb") as xml:
                saft.to_csv(xml, out, self.label)
            self.reader.path = self._temp

    def _use_shop_locale(self, database) -> None:
        """The shop's place in force, as a command has it after loading the program (a library caller too):
        its zone reads times written without an offset; its locale's date order reads a file whose dates
        read both ways (pt/ro/it/es: DMY)."""
        from loyaltycli.base import place
        from loyaltycli.shop import clock
        from loyaltycli.store.program import load_program

        locale = None
        if database is not None:
            try:
                with database.session(write=False) as session:
                    load_program(session)  # puts the shop's place (zone, locale) in force
                locale = place.get("locale")
            except LoyaltyError:
                locale = None
            self._zone = clock.local_zone()
        locale = locale or place.get("locale")
        self._options.shop_locale = self.reader.options.shop_locale = locale or None
        self.summary.shop_locale = locale or None
