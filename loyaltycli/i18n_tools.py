"""Maintainer's tool for the message catalogs (Babel): extract, init, update, compile.

    python -m loyaltycli.i18n_tools extract        # loyaltycli/locale/loyaltycli.pot from the code
    python -m loyaltycli.i18n_tools init LANG      # a new empty catalog (e.g. fr)
    python -m loyaltycli.i18n_tools update         # every .po takes the new and changed msgids
    python -m loyaltycli.i18n_tools compile        # every .po -> .mo (committed, shipped in the package)

Extraction reads three sources: the ``_()``/``ngettext()``/``N_()`` calls in the code (Babel's Python
extractor), the descriptions of the built-in import presets (``presets/*.toml``), and the help texts of
every command and option as Typer builds them (docstrings and ``help=``), which are translated when
help is drawn (``cli/language.py``).
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

from loyaltycli.i18n import DOMAIN, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
POT = Path(LOCALE_DIR) / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Nn_": (1, 2),
            "help_gettext": None, "help_ngettext": (1, 2)}
COPYRIGHT = "loyaltycli contributors"


def code_messages():
    """(filename, lineno, message, comments) for every marked string in the package's code."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**/migrations/**.py", "ignore"), ("**.py", "python")]
    for filename, lineno, message, comments, _context in extract_from_dir(
            str(PACKAGE), method_map=method_map, keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True):
        yield f"loyaltycli/{filename}", lineno, message, comments


def preset_messages():
    """(where, text) for the description of every built-in import preset (loyaltycli/presets/*.toml),
    which `import-presets` shows translated; the export's own column names (``headers``) are not."""
    from loyaltycli.base.files import read_toml

    for path in sorted((PACKAGE / "presets").glob("*.toml")):
        description = read_toml(path, f"preset {path}").get("description")
        if description:
            yield f"loyaltycli/presets/{path.name}", description


def help_messages():
    """(where, text) for the help of every command, group and option, as `--help` shows it (msgid)."""
    import typer

    from loyaltycli.cli import app

    root = typer.main.get_command(app)

    def walk(command, path):
        if command.help:
            yield path, inspect.cleandoc(command.help)
        if getattr(command, "short_help", None):
            yield path, inspect.cleandoc(command.short_help)
        for param in command.params:
            if getattr(param, "help", None):
                yield f"{path} {param.name}", inspect.cleandoc(param.help)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, f"{path} {name}")

    yield from walk(root, "loyalty")


def build_catalog():
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="loyaltycli", copyright_holder=COPYRIGHT, msgid_bugs_address="",
                      charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments in code_messages():
        flags = ("python-brace-format",) if _has_braces(message) else ()
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, flags=flags)
    for where, text in preset_messages():
        catalog.add(text, None, [(where, 0)])
    for where, text in help_messages():
        flags = ("python-brace-format",) if _has_braces(text) else ()
        catalog.add(text, None, [(f"help: {where}", 0)], flags=flags)
    return _brace_only(catalog)


def _has_braces(message) -> bool:
    texts = message if isinstance(message, (tuple, list)) else (message,)
    return any("{" in t and "}" in t for t in texts)


def extract() -> Path:
    from babel.messages.pofile import write_po

    catalog = build_catalog()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with open(POT, "wb") as fh:
        write_po(fh, catalog, width=100, sort_output=False, omit_header=False, include_lineno=False,
                 ignore_obsolete=True)
    print(f"{POT.relative_to(PACKAGE.parent)}: {len(catalog)} messages")
    return POT


def po_path(lang: str) -> Path:
    return Path(LOCALE_DIR) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in Path(LOCALE_DIR).iterdir() if po_path(p.name).is_file())


def read(path: Path, locale: str | None = None):
    from babel.messages.pofile import read_po

    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def _brace_only(catalog):
    """Our messages use braces only: Babel reads '100% scale' as a '% s' directive and flags it
    python-format (at every read), which makes ``msgfmt -c`` refuse a translation ending in '100%'."""
    for message in catalog:
        message.flags.discard("python-format")
    return catalog


def write(path: Path, catalog) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    _brace_only(catalog)
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=100, include_lineno=False, ignore_obsolete=True)


def init(lang: str) -> None:
    from babel import Locale

    template = read(POT)
    template.locale = Locale.parse(lang)
    template.fuzzy = False
    template.revision_date = template.creation_date
    write(po_path(lang), template)
    print(f"{po_path(lang)}: created")


def update() -> None:
    template = read(POT)
    for lang in languages():
        catalog = read(po_path(lang), locale=lang)
        catalog.update(template, update_header_comment=False)
        write(po_path(lang), catalog)
        print(f"{po_path(lang)}: updated")


def mo_bytes(catalog) -> bytes:
    """A catalog compiled to .mo, in memory (fuzzy entries left out, as gettext would)."""
    import io

    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_all() -> None:
    for lang in languages():
        catalog = read(po_path(lang), locale=lang)
        mo = po_path(lang).with_suffix(".mo")
        mo.write_bytes(mo_bytes(catalog))
        done = sum(1 for m in catalog if m.id and m.string and not m.fuzzy
                   and (all(m.string) if isinstance(m.string, (tuple, list)) else True))
        print(f"{mo}: {done}/{len([m for m in catalog if m.id])} translated")


def main(argv: list[str]) -> int:
    os.environ["LOYALTY_LANG"] = "en"  # extraction reads English help texts
    if not argv or argv[0] not in ("extract", "init", "update", "compile"):
        print(__doc__)
        return 2
    if argv[0] == "extract":
        extract()
    elif argv[0] == "init":
        for lang in argv[1:]:
            init(lang)
    elif argv[0] == "update":
        update()
    else:
        compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
