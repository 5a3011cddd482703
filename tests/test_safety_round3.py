"""Data safety, third round (issue 27): temporary copies, bounded memory, paths that are paths, and every
refusal clean. One section per finding; real processes and signals where the finding needed them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loyalty(*args: str, db=None, env: dict | None = None, timeout: float = 120, **kwargs):
    """`python -m loyaltycli ARGS` as a real process (the test's environment: LOYALTY_DB, LOYALTY_NOW...)."""
    full = dict(os.environ, **(env or {}))
    if db is not None:
        full["LOYALTY_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "loyaltycli", *map(str, args)], capture_output=True,
                          text=True, env=full, cwd=str(ROOT), timeout=timeout, **kwargs)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def killed_at_fault(fault: str, *args: str, db=None) -> int:
    """Run `python -m loyaltycli ARGS` with the fault point ``fault`` set: it stops itself (SIGSTOP) there;
    then it is killed with SIGKILL. Returns its pid."""
    env = dict(os.environ, **{fault: "1"})
    if db is not None:
        env["LOYALTY_DB"] = str(db)
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", *map(str, args)], env=env, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 120
    while _state(proc.pid) != "T":
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < end
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return proc.pid


def dispose_all() -> None:
    from loyaltycli.store import db as dbmod

    for database in dbmod._databases.values():
        database.engine.dispose()
    dbmod._databases.clear()


# -- 3. a --db value without scheme:// is a path, byte for byte ---------------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", ["shop?branch=1.db", "x%41.db", "a#b.db"])
def test_db_path_is_a_path_byte_for_byte(cli, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    assert cli("--db", name, "init").exit_code == 0
    assert cli("--db", name, "enroll", "Ana", "--phone", "0851234567").exit_code == 0
    assert (tmp_path / name).is_file()
    assert not (tmp_path / "shop").exists() and not (tmp_path / "xA.db").exists() and not (tmp_path / "a").exists()


@pytest.mark.sqlite_only
def test_two_branches_with_query_like_names_are_two_files(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for branch in ("1", "2"):
        assert cli("--db", f"shop?branch={branch}.db", "init").exit_code == 0
    assert cli("--db", "shop?branch=1.db", "enroll", "Ana", "--phone", "0851234567").exit_code == 0
    assert cli.json("--db", "shop?branch=2.db", "customer", "list") == []
    assert not (tmp_path / "shop").exists()


# -- 4. customer list --search with 100,000 characters -------------------------------------------------------
def test_huge_search_is_refused_in_one_line(cli):
    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    result = cli("customer", "list", "--search", "a" * 100_000)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: --search text of 100000 characters is too long; give at most 200")
    assert cli.json("customer", "list", "--search", "an")[0]["name"] == "Ana"


def test_huge_key_prefix_finds_no_one(session):
    from loyaltycli.services.lookup import customers_starting_with

    assert customers_starting_with(session, "a" * 100_000) == []


# -- 5. a killed restore's staged copy: backup and export sweep it too ---------------------------------------
@pytest.mark.sqlite_only
@pytest.mark.parametrize("sweeper", ["backup", "export"])
def test_a_killed_restores_copy_is_swept_by_backup_and_export(cli, db_path, tmp_path, sweeper):
    assert cli("enroll", "Orla Secret", "--email", "orla.secret@example.ie").exit_code == 0
    assert cli("backup", tmp_path / "good.db").exit_code == 0
    dispose_all()
    pid = killed_at_fault("LOYALTY_FAULT_IN_RESTORE", "restore", tmp_path / "good.db", "--yes", db=db_path)
    staged = db_path.parent / f".{db_path.name}.restore-{pid}.tmp"
    assert b"orla.secret@example.ie" in staged.read_bytes()  # what the finding saw
    target = tmp_path / ("again.db" if sweeper == "backup" else "csv")
    result = loyalty(sweeper, target, db=db_path)
    assert result.returncode == 0, result.stderr
    assert not staged.exists()
    assert [p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")] == []


# -- 1. temporary copies: beside the database, 0600, removed on every way out, swept after a kill -----------
SECRET = "orla.secret@example.ie"


def _unsorted_till(folder: Path, rows: int) -> Path:
    """A till file newest first (so the import sets every receipt aside in its spill file first)."""
    folder.mkdir(exist_ok=True)
    path = folder / "till.csv"
    with path.open("w") as fh:
        fh.write("receipt_id,timestamp,customer,amount\n")
        for n in range(rows, 0, -1):
            who = SECRET if n % 3 == 0 else f"c{n % 500}@example.ie"
            fh.write(f"R{n},2026-05-{1 + n % 28:02d}T{8 + n % 10:02d}:{n % 60:02d}:00,{who},{5 + n % 40}.00\n")
    return path


def _files_beside(db_path: Path) -> list[str]:
    return sorted(p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp"))


def _wait_for(path_glob, folder: Path, proc, min_bytes: int = 1):
    end = time.time() + 120
    while True:
        found = [p for p in folder.glob(path_glob) if p.stat().st_size >= min_bytes]
        if found:
            return found[0]
        assert proc.poll() is None, "the import ended before it could be killed"
        assert time.time() < end
        time.sleep(0.005)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("after", ["db check", "customer forget", "balance"])
def test_a_killed_unsorted_import_leaves_its_spill_file_for_the_next_run_to_remove(cli, db_path, tmp_path, after):
    assert cli("enroll", "Orla Secret", "--email", SECRET, "--at", "2026-01-01T09:00:00+00:00").exit_code == 0
    till = _unsorted_till(tmp_path / "in", 60_000)
    dispose_all()
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", "import", till, "--enroll-unknown"],
                            env=dict(os.environ, LOYALTY_DB=str(db_path)), cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spill = _wait_for(f".{db_path.name}.spill-{proc.pid}.tmp", db_path.parent, proc, 64 * 1024)
    assert spill.stat().st_mode & 0o777 == 0o600
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert SECRET.encode() in spill.read_bytes()  # what the finding saw: the killed run's copy
    if after == "db check":
        result = cli("db", "check", "--json")
        assert result.exit_code == 0, result.stderr
        notes = json.loads(result.stdout)["leftovers"]
        assert [(n["file"], n["state"]) for n in notes] == [(str(spill), "removed")]
        assert "an import's receipts set aside left by a run that was killed" in notes[0]["detail"]
    elif after == "customer forget":
        assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
        dispose_all()
        for path in db_path.parent.iterdir():  # no file the program wrote still holds the person's e-mail
            if path.is_file() and path.parent != till.parent:
                assert SECRET.encode() not in path.read_bytes(), path
    else:
        assert cli("balance", "C000001").exit_code == 0
    assert not spill.exists()
    assert _files_beside(db_path) == []


def _saft(invoices: int, *, customer_nif: str = "215876342", extra: str = "", line: str | None = None,
          head: str = "<?xml version='1.0' encoding='UTF-8'?>", tail: str = "") -> bytes:
    line = line or ("<Line><ProductCode>PAO</ProductCode><Quantity>2</Quantity><UnitPrice>1.50</UnitPrice>"
                    "<CreditAmount>3.00</CreditAmount><Tax><TaxPercentage>0</TaxPercentage></Tax></Line>")
    invoice = ("<Invoice><InvoiceNo>FS A/{n}</InvoiceNo><DocumentStatus><InvoiceStatus>N</InvoiceStatus>"
               "</DocumentStatus><InvoiceDate>2026-05-04</InvoiceDate><InvoiceType>FS</InvoiceType>"
               "<SystemEntryDate>2026-05-04T10:{m:02d}:{s:02d}</SystemEntryDate>"
               "<CustomerID>C1</CustomerID>" + line + "</Invoice>")
    return (head + "<AuditFile xmlns='urn:OECD:StandardAuditFile-Tax:PT_1.04_01'><Header><CurrencyCode>EUR"
            "</CurrencyCode></Header><MasterFiles><Customer><CustomerID>C1</CustomerID><CustomerTaxID>"
            + customer_nif + "</CustomerTaxID><CompanyName>Orla Secret</CompanyName></Customer></MasterFiles>"
            + extra + "<SourceDocuments><SalesInvoices>"
            + "".join(invoice.format(n=n, m=n // 60 % 60, s=n % 60) for n in range(invoices))
            + "</SalesInvoices></SourceDocuments>" + tail + "</AuditFile>").encode()


@pytest.mark.sqlite_only
def test_a_refused_saft_import_leaves_no_copy_anywhere(cli, db_path, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    tempfile.tempdir = None
    try:
        bad = tmp_path / "in" / "bad.xml"
        bad.parent.mkdir()
        bad.write_bytes(_saft(50)[:-40])  # cut short: not well-formed at its end
        result = cli("import", bad, "--preset", "saft-pt", "--enroll-unknown")
        assert result.exit_code == 1 and "not well-formed XML" in result.stderr
        assert _files_beside(db_path) == [] and list((tmp_path / "tmp").iterdir()) == []
    finally:
        tempfile.tempdir = None


@pytest.mark.sqlite_only
def test_a_killed_saft_import_leaves_its_rows_for_the_next_run_to_remove(cli, db_path, tmp_path):
    xml = tmp_path / "in" / "saft.xml"
    xml.parent.mkdir()
    xml.write_bytes(_saft(150_000))
    dispose_all()
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", "import", xml, "--preset", "saft-pt",
                             "--enroll-unknown"], env=dict(os.environ, LOYALTY_DB=str(db_path)), cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = _wait_for(f".{db_path.name}.saft-{proc.pid}.tmp", db_path.parent, proc, 64 * 1024)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert rows.stat().st_mode & 0o777 == 0o600 and b"215876342" in rows.read_bytes()
    result = cli("db", "check", "--json")
    assert [n["state"] for n in json.loads(result.stdout)["leftovers"]] == ["removed"]
    assert not rows.exists() and _files_beside(db_path) == []


# -- 2. SAF-T memory flat in the file's size ----------------------------------------------------------------
# the child's peak resident memory: VmHWM (ru_maxrss would carry the forking parent's peak over exec)
_PEAK = """
import sys
from loyaltycli.tillcsv import saft
with open(sys.argv[1], "rb") as xml, open("/dev/null", "w") as out:
    saft.to_csv(xml, out, "x.xml")
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024)
"""


def _saft_with_sections(path: Path, invoices: int) -> int:
    """A SAF-T file of ``invoices`` invoices and, after them, ten payments per invoice (a section the
    import does not read) and as many stock movements; returns its size."""
    payment = ("<Payment><PaymentRefNo>RG {n}</PaymentRefNo><TransactionDate>2026-05-04</TransactionDate>"
               "<PaymentType>RG</PaymentType><CustomerID>C1</CustomerID><Line><SourceDocumentID><OriginatingON>"
               "FS A/{n}</OriginatingON></SourceDocumentID><CreditAmount>3.00</CreditAmount></Line></Payment>")
    movement = ("<StockMovement><DocumentNumber>GT {n}</DocumentNumber><Line><ProductCode>PAO</ProductCode>"
                "<Quantity>1</Quantity></Line></StockMovement>")
    extra = ("<SourceDocuments><Payments>" + "".join(payment.format(n=n) for n in range(invoices * 10))
             + "</Payments><MovementOfGoods>" + "".join(movement.format(n=n) for n in range(invoices * 10))
             + "</MovementOfGoods></SourceDocuments>")
    data = _saft(invoices, tail=extra)
    path.write_bytes(data)
    return len(data)


def _peak(path: Path) -> int:
    result = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True,
                            cwd=str(ROOT), timeout=600)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_saft_memory_stays_flat_in_the_files_size(tmp_path):
    # today's largest SAF-T test file (2,000 invoices, ~0.6 MB) and one ten times its size, same shape
    small = _saft_with_sections(tmp_path / "small.xml", 400)
    big = _saft_with_sections(tmp_path / "big.xml", 4000)
    assert big >= 10 * 600_000
    baseline, peak = _peak(tmp_path / "small.xml"), _peak(tmp_path / "big.xml")
    # kept in memory, the file's elements take more than its size; streamed, the growth is noise
    assert peak - baseline < (big - small) / 4, (baseline, peak, small, big)


def test_a_document_of_too_many_lines_is_refused(cli, tmp_path):
    from loyaltycli.tillcsv.saft import MAX_DOCUMENT_LINES

    line = ("<Line><ProductCode>PAO</ProductCode><Quantity>1</Quantity><UnitPrice>1.00</UnitPrice>"
            "<CreditAmount>1.00</CreditAmount></Line>")
    xml = tmp_path / "long.xml"
    xml.write_bytes(_saft(1, line=line * (MAX_DOCUMENT_LINES + 1)))
    result = cli("import", xml, "--preset", "saft-pt", "--enroll-unknown")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: {xml}: FS A/0 has more than 10000 lines; no till receipt is that "
                                     "long (is the file damaged?)")
    assert cli.json("customer", "list") == []


# -- 7. SAF-T with NaN, Infinity, huge exponents, quantity 0, unknown encodings: a rejected document -------
def _bad_line(quantity="2", price="1.50", tax="23", amount="3.00") -> str:
    return ("<Line><ProductCode>PAO</ProductCode>" + (f"<Quantity>{quantity}</Quantity>" if quantity else "")
            + (f"<UnitPrice>{price}</UnitPrice>" if price else "") + f"<CreditAmount>{amount}</CreditAmount>"
            + f"<Tax><TaxPercentage>{tax}</TaxPercentage></Tax></Line>")


@pytest.mark.parametrize("line, reason", [
    (_bad_line(quantity="NaN"), "quantity 'NaN' must be a number"),
    (_bad_line(quantity="sNaN"), "quantity 'sNaN' must be a number"),
    (_bad_line(price="Infinity"), "unit price 'Infinity +23% VAT' is not a number"),
    (_bad_line(price="-Infinity"), "unit price '-Infinity +23% VAT' is not a number"),
    (_bad_line(quantity="1E+999999"), "quantity '1E+999999' must be a number"),
    (_bad_line(price="1E-999999999"), "unit price '1E-999999999 +23% VAT' is not a number"),
    (_bad_line(tax="NaN"), "unit price '1.50 +NaN% VAT' is not a number"),
    (_bad_line(quantity="0", price=""), "quantity '0' must be a number"),
    (_bad_line(price="", amount="sNaN"), "unit price 'sNaN +23% VAT' is not a number"),
])
def test_saft_values_that_are_no_numbers_reject_their_document(cli, tmp_path, line, reason):
    bad = ("<Invoice><InvoiceNo>FS B/1</InvoiceNo><DocumentStatus><InvoiceStatus>N</InvoiceStatus>"
           "</DocumentStatus><InvoiceType>FS</InvoiceType><SystemEntryDate>2026-05-04T11:00:00</SystemEntryDate>"
           "<CustomerID>C1</CustomerID>" + line + "</Invoice>")
    xml = tmp_path / "saft.xml"
    xml.write_bytes(_saft(1).replace(b"</SalesInvoices>", bad.encode() + b"</SalesInvoices>"))
    result = cli("import", xml, "--preset", "saft-pt", "--enroll-unknown", "--json")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"]) == (1, 1)
    rejects = (tmp_path / "saft.xml.rejects.csv").read_text()
    assert "FS B/1" in rejects and reason in rejects, rejects


@pytest.mark.parametrize("encoding", ["x-unknown", "rot13", "base64", "hex", "zlib"])
def test_saft_of_an_unknown_or_binary_encoding_is_refused(cli, tmp_path, encoding):
    xml = tmp_path / "saft.xml"
    xml.write_bytes(_saft(1, head=f"<?xml version='1.0' encoding='{encoding}'?>"))
    result = cli("import", xml, "--preset", "saft-pt", "--enroll-unknown")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {xml}: cannot read its encoding (")
    assert result.stderr.strip().endswith("a SAF-T (PT) file is UTF-8 or Windows-1252")
    assert cli.json("customer", "list") == []


# -- 9. only text encodings; preset values of the wrong type -------------------------------------------------
@pytest.mark.parametrize("encoding, message", [
    ("rot13", "--encoding 'rot13' is not a text encoding; give the one the till wrote text in"),
    ("base64", "--encoding 'base64' is not a text encoding"),
    ("hex", "--encoding 'hex' is not a text encoding"),
    ("zlib", "--encoding 'zlib' is not a text encoding"),
    ("punycode", "--encoding 'punycode' does not write ASCII letters and digits as single bytes"),
    ("utf-16", "--encoding 'utf-16' does not write ASCII letters and digits as single bytes"),
    ("idna", "--encoding 'idna' does not write ASCII letters and digits as single bytes"),
    ("no-such-thing", "--encoding 'no-such-thing' is not an encoding Python knows"),
])
def test_import_takes_only_text_encodings(cli, tmp_path, encoding, message):
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-05-04T10:00:00,0851234567,5.00\n")
    result = cli("import", till, "--encoding", encoding, "--enroll-unknown")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: " + message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli.json("customer", "list") == []


def test_import_in_a_legacy_text_encoding_still_works(cli, tmp_path):
    till = tmp_path / "till.csv"
    till.write_bytes("receipt_id,timestamp,customer,amount,description\nR1,2026-05-04T10:00:00,0851234567,5.00,"
                     "Pâine\n".encode("cp1250"))
    data = cli.json("import", till, "--encoding", "cp1250", "--enroll-unknown")
    assert data["imported"] == 1


@pytest.mark.parametrize("toml, problem", [
    ('columns = 5', "columns must be a table of texts, e.g. [columns] then \"Column\" = \"field\" (it is 5)"),
    ('date_formats = "%d/%m/%Y"', "date_formats must be a list of texts, e.g. date_formats = [\"...\"] (it is '%d/%m/%Y')"),
    ('default_channel = 7', "default_channel must be text in quotes, e.g. default_channel = \"...\" (it is 7)"),
    ('encoding = 1252', "encoding must be text in quotes, e.g. encoding = \"...\" (it is 1252)"),
    ('encoding = "rot13"', "encoding 'rot13' is not a text encoding"),
    ('anonymous_values = [1, 2]', "anonymous_values must be a list of texts"),
    ('customer_kind = ["card"]', "customer_kind must be text in quotes"),
    ('[negate_when]\nType = 1', "negate_when must be a table of texts"),
    ('decimal = true', "decimal must be text in quotes, e.g. decimal = \"...\" (it is True)"),
])
def test_preset_values_of_the_wrong_type_are_refused_clearly(cli, tmp_path, toml, problem):
    preset = tmp_path / "mine.toml"
    preset.write_text(toml + "\n")
    till = tmp_path / "till.csv"
    till.write_text("receipt_id,timestamp,customer,amount\nR1,2026-05-04T10:00:00,0851234567,5.00\n")
    result = cli("import", till, "--preset", preset, "--enroll-unknown")
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith(f"error: preset mine ({preset}) is broken: "), result.stderr
    assert problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- 10. purchase on a read-only database file: exit 4, as forget ---------------------------------------------
@contextmanager
def read_only_file(path: Path):
    """``path`` made read-only for this process: chmod 0444, or for root (who writes anyway) the immutable
    attribute (chattr +i); undone afterwards."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield path
        finally:
            path.chmod(0o600)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: no way to make the file read-only")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.sqlite_only
def test_purchase_on_a_read_only_database_exits_4(cli, db_path):
    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    dispose_all()
    with read_only_file(db_path):
        for args in (["purchase", "C000001", "10.00"], ["purchase", "C000001", "10.00", "--item", "A:1:10.00"],
                     ["award", "C000001", "5", "--reason", "x"], ["customer", "forget", "C000001", "--yes"]):
            result = loyalty(*args, db=db_path)
            assert result.returncode == 4, (args, result.stderr)
            assert result.stderr.strip() == "error: the database cannot be used: attempt to write a readonly database"
    assert cli.json("balance", "C000001")["balance"] == 50


# -- 6. a NUL character in a KEY (PostgreSQL text cannot hold one): a clean refusal on every backend -------
def test_a_nul_in_a_key_is_refused_cleanly(cli, db_path, database):
    from loyaltycli.services import customers
    from loyaltycli.base.errors import InvalidInput, UnknownCustomer

    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    with database.session(write=False) as session, pytest.raises(UnknownCustomer, match="holds a NUL character"):
        customers.find(session, "C0\x00001")
    with pytest.raises(InvalidInput, match="holds a NUL character"):
        customers.search_conditions("a\x00b")
    dispose_all()
    # at the counter (the only way a NUL reaches a command: argv cannot hold one), as a real process
    lines = "balance C0\x00001\ncustomer list --search a\x00b\nhistory \x00\nbalance C000001\n"
    result = subprocess.run([sys.executable, "-m", "loyaltycli", "counter"], input=lines, capture_output=True,
                            text=True, env=dict(os.environ, LOYALTY_DB=str(db_path)), cwd=str(ROOT), timeout=120)
    assert "internal error" not in result.stdout + result.stderr
    assert (result.stdout + result.stderr).count("holds a NUL character (\\x00); type it again") == 3
    assert "C000001 Ana: 50 points" in result.stdout


def test_a_nul_in_a_key_never_reaches_the_database(session):
    from loyaltycli.services import customers
    from loyaltycli.base.errors import UnknownCustomer
    from loyaltycli.services.lookup import customers_starting_with

    assert customers_starting_with(session, "C0\x00") == []
    for key in ("\x00", "ana\x00@example.ie", "0851\x00234567"):
        with pytest.raises(UnknownCustomer):
            customers.find(session, key)


# -- 8. terminal escapes refused at entry; stored ones never printed raw by --csv ------------------------------
ESC = "\x1b]0;pwned\x07\x1b[2J"


@pytest.mark.parametrize("args", [
    ["enroll", "Ana", "--consent", "--consent-how", f"paper form{ESC}"],
    ["program", "rule", "add", f"Croissant{ESC}", "--sku", "CRO-*", "--points", "5"],
    ["program", "rule", "add", "Croissant", "--sku", f"CRO-{ESC}", "--points", "5"],
    ["program", "set", "survey_nps_question", f"Would you recommend us?{ESC}"],
    ["program", "set", "survey_csat_question", "How was it?\u202e"],
])
def test_terminal_escapes_are_refused_at_entry(cli, db_path, args):
    from safety_helpers import dump

    before = dump(db_path)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "contains a control character" in result.stderr and "type plain text" in result.stderr
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout
    assert dump(db_path) == before


def test_consent_how_is_checked_on_edit_too(cli):
    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    result = cli("customer", "edit", "C000001", "--consent", "--consent-how", f"x{ESC}")
    assert result.exit_code == 1 and "contains a control character" in result.stderr


@pytest.mark.shop_zone("UTC")
def test_csv_outputs_never_print_stored_escapes_raw(cli, db_path):
    from safety_helpers import execute

    assert cli("enroll", "Ana", "--phone", "0851234567", "--consent", "--at", "2026-01-01T09:00:00+00:00").exit_code == 0
    assert cli("purchase", "C000001", "20.00", "--at", "2026-02-01T10:00:00+00:00").exit_code == 0
    assert cli("award", "C000001", "5", "--reason", "goodwill").exit_code == 0
    # rows written before the entry checks, or by another program
    execute(db_path, f"UPDATE customer SET name = 'Ana{ESC}' WHERE code = 'C000001'",
            f"UPDATE consent_record SET how = 'form{ESC}'",
            f"UPDATE ledger SET note = 'goodwill{ESC}' WHERE kind = 'award'")
    for args in (["report", "segments", "--all"], ["customer", "show", "C000001"], ["history", "C000001"]):
        result = cli(*args, "--csv")
        assert result.exit_code == 0, (args, result.stderr)
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, args
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in result.stdout, (args, result.stdout)


# -- 12. forget scrubs the counter's history ------------------------------------------------------------------
def test_forget_drops_the_customers_lines_from_the_counter_history(cli, tmp_path):
    from loyaltycli.cli.counter import private_history

    assert cli("enroll", "Orla", "--card", "SECRET001").exit_code == 0
    assert cli("enroll", "Other", "--card", "OTHER002").exit_code == 0
    data_home = tmp_path / "data-home"
    path = data_home / "loyaltycli" / "counter_history"
    path.parent.mkdir(parents=True)
    history = private_history(path)  # what a counter session writes, line by line
    for line in ("customer show SECRET001", "purchase SECRET001 12.50", "balance OTHER002",
                 "balance C000001", "purchase secret001 3.00", "report summary"):
        history.store_string(line)
    assert "SECRET001" in path.read_text()
    result = loyalty("customer", "forget", "SECRET001", "--yes", env={"XDG_DATA_HOME": str(data_home)})
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert "SECRET001" not in text.upper()
    assert [line for line in private_history(path).load_history_strings()] == [
        "report summary", "balance C000001", "balance OTHER002"]
    assert path.stat().st_mode & 0o777 == 0o600


# -- 13. a full disk during an import says what was committed; a failed export takes its folder away --------
from test_safety_files import _unshare_works  # noqa: E402  (the probe of the other full-disk test)


@pytest.mark.sqlite_only
@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -rm` to mount a small tmpfs")
def test_a_full_disk_stops_an_import_saying_what_was_committed(cli, db_path, tmp_path):
    dispose_all()
    till = tmp_path / "till.csv"
    with till.open("w") as fh:
        fh.write("receipt_id,timestamp,customer,amount\n")
        for n in range(30_000):
            fh.write(f"R{n},2026-05-{1 + n * 27 // 30_000:02d}T{8 + n % 10:02d}:{n % 60:02d}:00,"
                     f"c{n % 3000}@example.ie,{5 + n % 40}.00\n")
    mnt = tmp_path / "small"
    mnt.mkdir()
    script = f"""
mount -t tmpfs -o size=5m none {mnt}
cp {db_path} {mnt}/loyalty.db
L="{sys.executable} -m loyaltycli --db {mnt}/loyalty.db"
$L import {till} --enroll-unknown --batch-rows 2500 --rejects {tmp_path}/rejects.csv >/dev/null 2>{tmp_path}/err1
echo "first|$?"
$L export {mnt}/csv/today >/dev/null 2>{tmp_path}/err2
echo "export|$?|$(ls {mnt})"
mount -o remount,size=64m {mnt}
$L import {till} --enroll-unknown --json --rejects {tmp_path}/rejects.csv >{tmp_path}/out3 2>{tmp_path}/err3
echo "again|$?"
$L db check >/dev/null 2>&1; echo "check|$?"
"""
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600,
                            cwd=str(ROOT))
    outcomes = {line.split("|")[0]: line.split("|")[1:] for line in result.stdout.splitlines() if "|" in line}
    first = (tmp_path / "err1").read_text().strip()
    assert outcomes["first"] == ["4"], (result.stdout, result.stderr, first)
    import re

    found = re.fullmatch(rf"error: disk full: the import of {re.escape(str(till))} stopped after (\d+) receipts "
                         r"were committed \(whole batches; the batch in progress was rolled back\); free some "
                         r"space and run the same command again: it skips what was imported and finishes the "
                         r"file", first)
    assert found, first
    committed = int(found[1])
    assert 0 < committed < 30_000 and committed % 2500 == 0
    # the export found no room either: it says so and leaves no empty folder behind
    code, listing = outcomes["export"]
    assert code == "4" and "csv" not in listing.split(), outcomes
    assert (tmp_path / "err2").read_text().startswith("error: disk full: ")
    # with room again, the same command finishes the file: the receipts kept are skipped, not counted twice
    assert outcomes["again"] == ["0"], (tmp_path / "err3").read_text()
    again = json.loads((tmp_path / "out3").read_text())
    assert (again["imported"], again["skipped"]) == (30_000 - committed, committed)
    assert outcomes["check"] == ["0"]


# -- 14. receipt ids that differ only in case are one receipt -------------------------------------------------
def _till(path: Path, *rows: str) -> Path:
    path.write_text("receipt_id,timestamp,customer,amount\n" + "".join(row + "\n" for row in rows))
    return path


def test_an_import_skips_a_receipt_already_imported_in_another_case(cli, db_path, tmp_path):
    from safety_helpers import balance_of

    assert cli("enroll", "Ana", "--phone", "0851234567", "--at", "2026-01-01T09:00:00+00:00").exit_code == 0
    first = _till(tmp_path / "monday.csv", "AB-1,2026-05-04T10:00:00,C000001,30.00")
    assert cli.json("import", first)["imported"] == 1
    balance = balance_of(db_path, "C000001")
    again = _till(tmp_path / "tuesday.csv", "ab-1,2026-05-04T10:00:00,C000001,30.00",
                  "AB-2,2026-05-05T10:00:00,C000001,10.00")
    data = cli.json("import", again)
    assert (data["imported"], data["skipped"]) == (1, 1)  # the finding: +30 points
    assert balance_of(db_path, "C000001") == balance + 10


def test_ids_differing_in_case_within_one_file_are_one_receipt_twice(cli, tmp_path):
    assert cli("enroll", "Ana", "--phone", "0851234567", "--at", "2026-01-01T09:00:00+00:00").exit_code == 0
    till = _till(tmp_path / "till.csv", "AB-1,2026-05-04T10:00:00,C000001,30.00",
                 "AB-3,2026-05-04T11:00:00,C000001,5.00", "ab-1,2026-05-04T12:00:00,C000001,30.00")
    result = cli("import", till, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["imported"] == 2
    assert "receipt ab-1 appears twice in the file (first at line 2)" in (tmp_path / "till.csv.rejects.csv").read_text()


def test_the_counter_refuses_a_receipt_id_in_another_case(cli):
    assert cli("enroll", "Ana", "--phone", "0851234567").exit_code == 0
    assert cli("purchase", "C000001", "30.00", "--receipt", "AB-1").exit_code == 0
    result = cli("purchase", "C000001", "30.00", "--receipt", "ab-1")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: receipt ab-1 was already recorded (source counter); nothing changed"
    assert cli.json("balance", "C000001")["balance"] == 80


# -- 15. the same till's receipts under another --source ----------------------------------------------------
def test_receipts_already_imported_under_another_source_are_refused_as_duplicates(cli, db_path, tmp_path):
    from safety_helpers import balance_of, query

    assert cli("enroll", "Ana", "--phone", "0851234567", "--at", "2026-01-01T09:00:00+00:00").exit_code == 0
    old = [f"R{n},2026-05-0{1 + n % 5}T1{n}:00:00,C000001,{10 + n}.00" for n in range(8)]
    assert cli.json("import", _till(tmp_path / "week1.csv", *old), "--source", "shop1")["imported"] == 8
    balance = balance_of(db_path, "C000001")
    # an overlapping export that starts with new receipts (the first-receipts sample sees nothing known),
    # imported under a new --source: the old receipts are refused, the new ones imported
    new = [f"N{n:04d},2026-05-06T{8 + n // 60:02d}:{n % 60:02d}:00,C000001,1.00" for n in range(600)]
    changed = "R7,2026-05-03T17:00:00,C000001,99.00"  # same id, another amount: another sale, imported
    result = cli("import", _till(tmp_path / "week2.csv", *new, *old[:7], changed), "--source", "shop1-new", "--json")
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)
    assert (data["imported"], data["rejected"]) == (601, 7)
    rejects = (tmp_path / "week2.csv.rejects.csv").read_text()
    assert ("receipt R0 was already imported under source shop1 (same customer, time and amount): the same till "
            "under another --source? Add --again if it is another sale") in rejects
    assert balance_of(db_path, "C000001") - balance == data["points_awarded"]
    assert query(db_path, "SELECT count(*) FROM purchase WHERE source = 'shop1-new' AND receipt_id LIKE 'R%'") == (1,)
    # --again imports them anyway (the owner says they are other sales)
    again = cli.json("import", tmp_path / "week2.csv", "--source", "shop1-new", "--again")
    assert (again["imported"], again["skipped"], again["rejected"]) == (7, 601, 0)
