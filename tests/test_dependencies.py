"""Which package may import what, checked in a fresh interpreter (``sys.modules`` after one import)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.dialect_free("which modules import which: no database")


def loaded(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("module", ["loyaltycli.engine.earning", "loyaltycli.engine.account"])
def test_the_rules_engine_needs_no_database_and_no_clock(module):
    modules = loaded(module)
    assert not tops(modules) & {"sqlalchemy", "sqlmodel", "typer", "rich", "pydantic"}
    assert "loyaltycli.shop.clock" not in modules and "loyaltycli.store.db" not in modules


@pytest.mark.parametrize("module", ["loyaltycli.tillcsv.reader", "loyaltycli.tillcsv.presets",
                                    "loyaltycli.tillcsv.lines", "loyaltycli.tillcsv.records"])
def test_the_till_reader_needs_no_database(module):
    modules = loaded(module)
    assert not tops(modules) & {"sqlalchemy", "sqlmodel", "typer", "rich", "pydantic"}
    assert not {m for m in modules if m.startswith("loyaltycli.")} & {
        "loyaltycli.store.db", "loyaltycli.store.models", "loyaltycli.store.storage", "loyaltycli.services.importer"}


def test_the_cli_does_not_import_the_entry_point_that_imports_it():
    modules = loaded("loyaltycli.cli")
    assert "loyaltycli.startup" not in modules
    assert not tops(modules) & {"sqlalchemy", "sqlmodel"}  # commands import the library when they run
