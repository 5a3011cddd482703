"""The customer's slip after a sale: `purchase --slip` and `slip RECEIPT`, as a terminal preview, as ESC/POS
bytes (read back: code page, text lines, QR payload) to a file or a TCP printer, and as JSON."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import socket

import pytest

from escpos_helpers import parse, tcp_printer as _tcp_printer

SLIP_KEYS = {"receipt_id", "at", "printed_at", "code", "name", "language", "currency", "amount", "points",
             "bonuses", "balance", "value", "tier", "next_tier", "missing_for_next_tier", "next_reward", "cards",
             "expiring_soon", "refunded", "points_refunded", "qr", "offers", "lines"}
CARD_KEYS = {"card", "stamps", "stamps_needed", "stamps_this_visit", "reward", "vouchers", "voucher_expires"}


@pytest.fixture
def shop(cli):
    """A Portuguese café: a coffee card of 10 stamps, a cake for 300 points, João (C000001) who agreed to
    offers, and his sale R-1 of 4 coffees and a cake (12.50: 12 points, 4 stamps)."""
    def run(*args):
        result = cli(*args)
        assert result.exit_code == 0, result.output + result.stderr
        return result

    run("program", "set", "country", "PT")
    run("card", "add", "Café", "--stamps", "10", "--reward", "Café grátis", "--sku", "COF-*", "--per", "item")
    run("reward", "add", "Bolo", "--cost", "300")
    run("enroll", "João Gonçalves", "--phone", "912345678", "--consent", "--no-input")
    run("purchase", "C000001", "12.50", "--receipt", "R-1", "--item", "COF-1:4:1.00", "--item", "BOL-1:1:8.50")
    return run


def test_purchase_slip_previews_the_customers_part_of_the_receipt(shop, cli):
    result = cli("purchase", "C000001", "3.00", "--receipt", "R-2", "--item", "COF-1:2:1.50", "--slip")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "C000001: +3 points for 3,00\xa0€ (receipt R-2); balance 65, tier Bronze; Café 6/10"
    assert [line.strip() for line in out[1:5]] == ["João Gonçalves", "Card C000001", "Receipt R-2", "2026-06-15 13:00"]
    body = "\n".join(out)
    assert "This visit: +3 points" in body
    assert "Balance: 65 points (3,25\xa0€)" in body
    assert "Café ●●●●●●○○○○ 6/10" in body
    assert "Next reward: Bolo (300 points)\n  235 points to go\n" in body
    assert "Next tier: Silver\n  484,50\xa0€ more to spend\n" in body
    assert "No more offers? Tell us at the" in body  # João agreed to offers: how to stop them


def test_the_preview_draws_the_card_qr_that_scans(shop, cli):
    from test_passes_cli import decode, image_of, terminal_modules

    out = cli("slip", "R-1").stdout
    blocks = [line for line in out.splitlines() if line.strip() and set(line.strip()) <= set("█▀▄ ")]
    code = next(line.strip() for line in out.splitlines() if line.strip().startswith("LC1."))
    assert code.startswith("LC1.") and _holder(code) == "C000001"
    assert decode(image_of(terminal_modules("\n".join(blocks)))) == [code]


def test_slip_prints_a_sale_again_with_its_own_points(shop, cli):
    assert cli("purchase", "C000001", "3.00", "--receipt", "R-2").exit_code == 0
    result = cli("slip", "R-1")
    assert result.exit_code == 0
    assert "This visit: +12 points" in result.stdout  # R-1's points, not R-2's
    assert "Balance: 65 points" in result.stdout  # the account as it stands now


def test_a_sale_moved_by_a_merge_keeps_its_own_points_on_the_slip(shop, cli):
    """Merge moves the duplicate's purchases to the customer kept and carries the points over; the sale's
    rows stay the duplicate's (append-only). The reprint names the customer kept and the sale's points."""
    shop("enroll", "João G.", "--email", "joao@example.pt", "--no-input")
    shop("purchase", "C000002", "20.00", "--receipt", "M-2")
    assert cli.json("slip", "M-2")["points"] == 20
    shop("customer", "merge", "C000001", "C000002", "--yes")
    moved = cli.json("slip", "M-2")
    assert (moved["code"], moved["points"], moved["balance"]) == ("C000001", 20, 62 + 50 + 20)
    assert "This visit: +20 points" in cli("slip", "M-2").stdout


@pytest.mark.parametrize("keep, duplicate", [("C000002", "C000003"), ("C000003", "C000002")])
def test_a_referrers_bonus_is_not_the_visit_when_referrer_and_referee_are_merged(shop, cli, keep, duplicate):
    """Someone enrols again with their own referral code: their first sale gives the referee bonus (theirs,
    the visit's) and the referrer bonus (the other account's). Merged either way, the slip of that sale
    shows the visit's points alone: the sale's points and the referee bonus."""
    shop("enroll", "Rita", "--email", "rita@example.pt", "--at", "2026-05-01")
    code = shop("referral", "code", "C000002", "-q").stdout.strip()
    shop("enroll", "Rita S.", "--email", "rita.s@example.pt", "--referral-code", code, "--at", "2026-05-02")
    shop("purchase", "C000003", "30.00", "--receipt", "K-1", "--at", "2026-05-03")
    before = cli.json("slip", "K-1")
    assert (before["points"], before["bonuses"]) == (130, [{"kind": "referral", "points": 100}])
    shop("customer", "merge", keep, duplicate, "--yes")
    after = cli.json("slip", "K-1")
    assert (after["code"], after["points"], after["bonuses"]) == (keep, 130, [{"kind": "referral", "points": 100}])


def test_a_reprint_after_refunds_says_what_they_gave_back(shop, cli):
    """R-1: 12.50, 12 points. Two partial refunds, then the rest: each reprint says what went back so far,
    under the visit's own points, in the customer's language; the balance is the account's now."""
    assert (cli.json("slip", "R-1")["refunded"], cli.json("slip", "R-1")["points_refunded"]) == ("0.00", 0)
    shop("refund", "R-1", "--amount", "2.50")
    shop("refund", "R-1", "--amount", "5.00")
    data = cli.json("slip", "R-1")
    assert (data["points"], data["refunded"], data["points_refunded"], data["balance"]) == (12, "7.50", -7, 55)
    at = data["lines"].index("This visit: +12 points")
    assert data["lines"][at + 1] == "  refunded 7,50\xa0€: -7 points"
    shop("refund", "R-1")
    data = cli.json("slip", "R-1")
    assert (data["refunded"], data["points_refunded"], data["balance"]) == ("12.50", -12, 50)
    shop("customer", "edit", "C000001", "--lang", "pt")
    assert "  devolvido 12,50\xa0€: -12 pontos" in cli("slip", "R-1").stdout


def test_slip_json_has_stable_keys_amounts_as_strings_and_points_as_integers(shop, cli):
    data = cli.json("slip", "R-1")
    assert set(data) == SLIP_KEYS
    assert (data["receipt_id"], data["code"], data["amount"], data["points"], data["balance"], data["value"]) == \
        ("R-1", "C000001", "12.50", 12, 62, "3.10")
    assert (data["currency"], data["tier"], data["next_tier"], data["missing_for_next_tier"]) == \
        ("EUR", "Bronze", "Silver", "487.50")
    assert data["next_reward"] == {"reward": "Bolo", "cost": 300, "missing": 238}
    assert [set(c) for c in data["cards"]] == [CARD_KEYS]
    assert data["cards"][0] == {"card": "Café", "stamps": 4, "stamps_needed": 10, "stamps_this_visit": 4,
                                     "reward": "Café grátis", "vouchers": 0, "voucher_expires": []}
    assert data["at"] == "2026-06-15T12:00:00+00:00"
    assert data["offers"] is True
    assert _holder(data["qr"]) == "C000001"  # the customer's card code
    assert "Café ●●●●○○○○○○ 4/10" in data["lines"]


def test_purchase_slip_json_carries_the_slip_beside_the_purchase(shop, cli):
    data = cli.json("purchase", "C000001", "3.00", "--receipt", "R-2", "--slip")
    assert {"receipt_id", "code", "amount", "points", "balance", "tier"} <= set(data)
    assert set(data["slip"]) == SLIP_KEYS
    assert (data["slip"]["points"], data["slip"]["balance"]) == (3, 65)


def test_vouchers_bonuses_and_points_expiring_soon_are_on_the_slip(shop, cli):
    assert cli("program", "set", "expiry_days", "30").exit_code == 0
    data = cli.json("purchase", "C000001", "9.00", "--receipt", "R-2", "--item", "COF-1:6:1.50", "--slip")
    slip = data["slip"]
    assert slip["cards"][0]["stamps"] == 0 and slip["cards"][0]["vouchers"] == 1
    assert "  1 voucher: Café grátis" in slip["lines"]
    assert slip["expiring_soon"] == [{"expires_at": "2026-07-15T12:00:00+00:00", "points": 9}]
    assert "9 points expire on 2026-07-15" in slip["lines"]


def test_a_milestone_bonus_of_the_visit_is_named(shop, cli):
    data = cli.json("purchase", "C000001", "500.00", "--receipt", "R-2", "--slip")
    assert data["slip"]["bonuses"] == [{"kind": "milestone", "points": 250}]
    assert data["slip"]["points"] == 750
    assert "  incl. milestone bonus +250" in data["slip"]["lines"]


def test_no_opt_out_line_for_a_customer_who_gets_no_offers(shop, cli):
    assert cli("enroll", "Ana Lima", "--no-consent", "--no-input").exit_code == 0
    data = cli.json("purchase", "C000002", "2.00", "--receipt", "R-2", "--slip")
    assert data["slip"]["offers"] is False
    assert not any("offers" in line for line in data["slip"]["lines"])


def test_without_a_catalogue_the_next_step_is_money_off(cli):
    assert cli("enroll", "Ann Walsh", "--no-input").exit_code == 0
    data = cli.json("purchase", "C000001", "5.00", "--receipt", "R-1", "--slip")["slip"]
    assert data["next_reward"] == {"reward": None, "cost": 100, "missing": 45}
    assert data["lines"][data["lines"].index("Money off from 100 points") + 1] == "  45 points to go"


def test_a_cashback_shop_speaks_of_credit(cli):
    for args in (("program", "set", "country", "ES"), ("program", "set", "earn_mode", "cashback"),
                 ("program", "set", "point_value", "0.01"), ("enroll", "Iñaki Muñoz", "--no-input")):
        assert cli(*args).exit_code == 0
    data = cli.json("purchase", "C000001", "20.00", "--receipt", "T-1", "--slip")["slip"]
    assert (data["points"], data["balance"], data["value"], data["next_reward"]) == (100, 150, "1.50", None)
    assert "This visit: +1,00\xa0€ credit" in data["lines"]
    assert "Credit: 1,50\xa0€" in data["lines"]


# ------------------------------------------------------------------ ESC/POS in each language

LANGUAGES = [
    # language, country, name, card, what prints of the name, money in the balance line, ESC t
    ("pt_PT", "PT", "João Gonçalves", "Café", "João Gonçalves", "(3,10 €)", 19),
    ("ro", "RO", "Ștefan Țurcanu", "Cafea", "Ştefan Ţurcanu", "(3,10 lei)", 18),
    ("it", "IT", "Niccolò Ferrà", "Caffè", "Niccolò Ferrà", "(3,10 €)", 19),
    ("es", "ES", "Iñaki Muñoz", "Café", "Iñaki Muñoz", "(3,10 €)", 19),
    ("en", "IE", "Aoife Ní Bhriain", "Coffee", "Aoife Ní Bhriain", "(€3.10)", 19),
]


@pytest.mark.parametrize("lang,country,name,card,printed_name,money,page", LANGUAGES,
                         ids=[row[0] for row in LANGUAGES])
def test_escpos_slip_in_each_language(cli, monkeypatch, tmp_path, lang, country, name, card, printed_name, money,
                                      page):
    from loyaltycli import i18n

    monkeypatch.setenv("LOYALTY_LANG", lang)
    i18n.reset()
    for args in (("program", "set", "country", country),
                 ("card", "add", card, "--stamps", "10", "--reward", "Free", "--sku", "COF-*", "--per", "item"),
                 ("enroll", name, "--consent", "--no-input"),
                 ("purchase", "C000001", "12.50", "--receipt", "R-1", "--item", "COF-1:4:1.00",
                  "--item", "X-1:1:8.50")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
    target = tmp_path / "slip.bin"
    result = cli("slip", "R-1", "--printer", str(target))
    assert result.exit_code == 0, result.stderr
    data = target.read_bytes()
    printed = parse(data)
    assert printed.page == page
    assert (printed.resets, printed.cuts) == (1, 1)
    assert printed.lines[0] == printed_name
    assert printed.styles[0] == (printed_name, True, "center", 1)
    assert "C000001" in printed.lines[1]
    dots = "■■■■······" if page == 19 else "■■■■------"
    assert f"{card} {dots} 4/10" in printed.lines
    balance = next(line for line in printed.lines if money in line)
    assert "62" in balance
    assert len(printed.qr) == 1 and _holder(printed.qr[0]) == "C000001"  # the card code, as the printer's QR
    assert printed.qr_settings == [{"model": 2, "module": 6, "correction": "M"}]
    assert printed.qr[0] in printed.lines  # and in letters under it
    # the same slip as JSON says the same lines, in Unicode
    as_json = cli.json("slip", "R-1")
    assert as_json["language"] == lang
    assert as_json["lines"][0] == name
    assert f"{card} ●●●●○○○○○○ 4/10" in as_json["lines"]


def _holder(code: str) -> str:
    """The customer code a card code names (through the card codes' own check)."""
    from loyaltycli.store.db import open_database
    from loyaltycli.services.passes import customer_for_code

    with open_database(None).session(write=False) as session:
        return customer_for_code(session, code).code


def test_the_slip_is_built_in_the_library_with_the_card_code_as_its_qr(shop, database):
    from loyaltycli.store.program import load_program
    from loyaltycli.services import passes
    from loyaltycli.customer import slip

    with database.session() as session:
        made = slip.for_receipt(session, load_program(session), "R-1")
        assert made.qr == passes.current_code(session, 1)
    assert (made.code, made.points, made.balance, made.value, made.tier) == ("C000001", 12, 62, 310, "Bronze")
    printed = parse(slip.escpos_bytes(made))
    assert printed.qr == [made.qr]
    assert parse(slip.escpos_bytes(dataclasses.replace(made, qr=None))).qr == []  # no code: no QR


def test_a_welcome_slip_names_the_invite_code_in_the_customers_language(shop, cli, database):
    from loyaltycli.customer import slip
    from loyaltycli.store.models import Customer
    from loyaltycli.store.program import load_program

    assert cli("program", "set", "referral_steps", "1:150,5:300").exit_code == 0
    assert cli("program", "set", "referral_min_purchase", "5.00").exit_code == 0
    with database.session() as session:
        customer = session.get(Customer, 1)
        made = slip.for_enrolment(session, load_program(session), customer)
        code = customer.referral_code
    assert (made.welcome, made.invite_code, made.invite_points, made.invite_min) == (True, code, 150, 500)
    text = " ".join(line.strip() for line in slip.as_json(made)["lines"])
    assert f"code {code} 150 points for you when a friend first spends 5,00\xa0€ or more" in text, text
    assert slip.as_json(made)["invite"] == {"referral_code": code, "points": 150, "min_purchase": "5.00"}
    assert "invite" not in cli.json("slip", "R-1")  # a sale's slip keeps its keys


def test_a_lost_card_revoked_gives_the_new_code_on_the_next_slip(shop, cli, database):
    from loyaltycli.services import passes

    first = cli.json("slip", "R-1")["qr"]
    assert cli.json("slip", "R-1")["qr"] == first  # issued once, then the same code
    with database.session() as session:
        new = passes.revoke(session, 1)
    assert new != first
    assert cli.json("slip", "R-1")["qr"] == new


def test_a_code_page_may_be_chosen_for_the_printer(shop, cli, tmp_path):
    target = tmp_path / "slip.bin"
    assert cli("slip", "R-1", "--printer", str(target), "--code-page", "cp1250", "--width", "48").exit_code == 0
    printed = parse(target.read_bytes())
    assert printed.page == 45
    assert "-" * 48 in printed.lines


# ------------------------------------------------------------------ printers

def test_a_slip_sent_to_a_tcp_printer_arrives_byte_for_byte(shop, cli, tmp_path):
    port, received, thread = _tcp_printer()
    result = cli("slip", "R-1", "--printer", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 0, result.stderr
    thread.join(10)
    expected = tmp_path / "slip.bin"
    assert cli("slip", "R-1", "--printer", str(expected)).exit_code == 0
    assert bytes(received) == expected.read_bytes()
    assert result.stdout == f"slip of receipt R-1 sent to tcp://127.0.0.1:{port} ({len(received)} bytes)\n"
    assert parse(bytes(received)).lines[0] == "João Gonçalves"


def test_purchase_slip_to_a_tcp_printer(shop, cli):
    port, received, thread = _tcp_printer()
    data = cli.json("purchase", "C000001", "3.00", "--receipt", "R-2", "--printer", f"tcp://127.0.0.1:{port}")
    thread.join(10)
    assert data["slip"]["bytes_sent"] == len(received) > 0
    assert "This visit: +3 points" in parse(bytes(received)).lines


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_an_unreachable_printer_is_one_clear_line(shop, cli):
    port = _closed_port()
    result = cli("slip", "R-1", "--printer", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: cannot reach the printer tcp://127.0.0.1:{port}: connection refused\n"


def test_purchase_with_an_unreachable_printer_records_nothing(shop, cli):
    port = _closed_port()
    result = cli("purchase", "C000001", "3.00", "--receipt", "R-2", "--printer", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach the printer tcp://127.0.0.1:{port}: ")
    assert len(result.stderr.splitlines()) == 1
    assert cli.json("balance", "C000001")["balance"] == 62
    assert cli("slip", "R-2").exit_code == 1  # no such sale


@pytest.mark.parametrize("args,message", [
    (("slip", "NOPE"), "error: unknown receipt 'NOPE'; see `loyalty history KEY` for receipt ids\n"),
    (("slip", "R-1", "--width", "10"), "error: --width must be 24 to 64 characters\n"),
    (("slip", "R-1", "--code-page", "cp999"), "error: unknown code page 'cp999'; known: cp1250, cp1252, cp437, "
                                               "cp850, cp852, cp858\n"),
    (("slip", "R-1", "--printer", "lpd://host"), "error: printer 'lpd://host': only tcp://HOST:PORT is understood"),
    (("slip", "R-1", "--printer", "tcp://host:99999"), "error: printer 'tcp://host:99999': the port must be"),
])
def test_bad_input_is_refused_in_one_line(shop, cli, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


def test_a_printer_file_in_a_missing_folder_is_refused_and_no_folder_is_made(shop, cli, tmp_path):
    target = tmp_path / "no" / "such" / "slip.bin"
    result = cli("slip", "R-1", "--printer", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"error: printer {target}: folder {target.parent} does not exist (it is not created)\n"
    assert not (tmp_path / "no").exists()


def test_a_sale_refused_leaves_the_printer_file_alone(shop, cli, tmp_path):
    target = tmp_path / "slip.bin"
    result = cli("purchase", "C000999", "3.00", "--slip", "--printer", str(target))
    assert result.exit_code == 1
    assert not target.exists()


def test_a_printer_file_never_overwrites_another_file(shop, cli, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("my notes")
    result = cli("slip", "R-1", "--printer", str(other))
    assert result.exit_code == 1
    assert "holds something else than a slip" in result.stderr
    assert other.read_text() == "my notes"
    # an earlier slip is replaced: the file holds the latest slip only
    target = tmp_path / "slip.bin"
    assert cli("slip", "R-1", "--printer", str(target)).exit_code == 0
    first = target.read_bytes()
    assert cli("slip", "R-1", "--printer", str(target)).exit_code == 0
    assert target.read_bytes() == first
    assert target.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    result = cli("slip", "R-1", "--printer", str(link))
    assert (result.exit_code, result.stderr) == (1, f"error: printer file {link} is a symbolic link; refusing "
                                                    "to write through it\n")


def test_loyalty_printer_is_the_default_printer_of_slip_not_a_slip_for_every_sale(shop, cli, tmp_path, monkeypatch):
    target = tmp_path / "slip.bin"
    monkeypatch.setenv("LOYALTY_PRINTER", str(target))
    assert cli("purchase", "C000001", "3.00", "--receipt", "R-2").exit_code == 0
    assert not target.exists()
    assert cli("purchase", "C000001", "3.00", "--receipt", "R-3", "--slip").exit_code == 0
    assert "This visit: +3 points" in parse(target.read_bytes()).lines


def test_a_slip_for_a_forgotten_customer_is_refused(shop, cli):
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    result = cli("slip", "R-1")
    assert result.exit_code == 1
    assert "no slip to print" in result.stderr


def test_the_slip_json_is_valid_json_with_no_currency_formatting(shop, cli):
    result = cli("slip", "R-1", "--json")
    data = json.loads(result.stdout)
    assert data["value"] == "3.10" and isinstance(data["balance"], int)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_device_is_written_as_it_is(shop, cli, tmp_path):
    """A printer device (/dev/usb/lp0) is opened for writing, never created nor replaced: a FIFO stands for it."""
    device = tmp_path / "lp0"
    os.mkfifo(device)
    # the printer is there (its end open) before the slip is sent, as a plugged-in device is; a slip fits
    # in the FIFO's buffer, read once the command is done (no thread racing the command's open)
    reader = os.open(device, os.O_RDONLY | os.O_NONBLOCK)
    try:
        result = cli("slip", "R-1", "--printer", str(device))
        received = bytearray()
        while True:
            try:
                chunk = os.read(reader, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            received.extend(chunk)
    finally:
        os.close(reader)
    assert result.exit_code == 0, result.stderr
    assert parse(bytes(received)).lines[0] == "João Gonçalves"
    assert stat.S_ISFIFO(device.stat().st_mode)  # still the device, not a file put in its place


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_device_nobody_reads_is_refused_at_once(shop, cli, tmp_path):
    device = tmp_path / "lp0"
    os.mkfifo(device)
    result = cli("slip", "R-1", "--printer", str(device))
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot use the printer {device}: no such device or address\n"


# ------------------------------------------------------------------ nothing wider than the paper

WIDTHS = [24, 32, 42, 48]


def _within(printed, width: int) -> None:
    too_wide = [line for line, _bold, _align, size in printed.styles if len(line) * size > width]
    assert not too_wide, (width, too_wide)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_of_a_printed_slip_is_wider_than_the_paper(shop, cli, tmp_path, width):
    """Every text line the printer gets fits ``--width``, as printed (a '€' the code page lacks prints as
    'EUR'): the 27-character card code is cut at its dots, long names and rewards wrap at spaces."""
    def run(*args):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr

    run("card", "add", "Pastelaria tradicional portuguesa", "--stamps", "12", "--per", "visit",
        "--reward", "Um pastel de nata e um galão à escolha do cliente")
    run("enroll", "Maria Fernanda Albuquerque de Sousa Magalhães", "--phone", "912345679", "--lang", "ro",
        "--consent", "--no-input")
    run("purchase", "C000002", "1234,56", "--receipt", "R-LONG-RECEIPT-2026-06-15-0001", "--item",
        "COF-1:4:1,00", "--item", "BOL-1:1:1230,56")
    for receipt in ("R-1", "R-LONG-RECEIPT-2026-06-15-0001"):
        target = tmp_path / f"{receipt}-{width}.bin"
        run("slip", receipt, "--printer", str(target), "--width", str(width))
        printed = parse(target.read_bytes())
        _within(printed, width)
        code = printed.qr[0]
        # the code in letters under the QR: whole when it fits, else in pieces cut after its dots
        start = next(i for i, line in enumerate(printed.lines) if code.startswith(line) and line)
        pieces = []
        while "".join(pieces) != code:
            pieces.append(printed.lines[start + len(pieces)])
        assert "".join(pieces) == code
        assert len(pieces) == (1 if width >= len(code) else 2), pieces
        if len(pieces) > 1:
            assert all(piece.endswith(".") for piece in pieces[:-1]), pieces
    if width == 24:
        text = "\n".join(printed.lines)
        assert "EUR" in text  # a Romanian slip (cp852) of a euro shop: '€' printed as EUR, and it still fits


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_of_a_welcome_or_a_preview_slip_is_wider_than_the_paper(shop, cli, database, width):
    from loyaltycli.customer import slip
    from loyaltycli.store.models import Customer
    from loyaltycli.store.program import load_program

    assert cli("program", "set", "shop_name", "Pastelaria e Padaria Tradicional do Bairro Alto").exit_code == 0
    with database.session() as session:
        made = slip.for_enrolment(session, load_program(session), session.get(Customer, 1))
        _within(parse(slip.escpos_bytes(made, width)), width)
        assert all(len(line) <= width for line in slip.as_json(made, width)["lines"])
    preview = cli("slip", "R-1", "--width", str(width)).stdout.splitlines()
    text_lines = [line for line in preview if not set(line.strip()) <= set("█▀▄ ")]
    assert all(len(line) <= width for line in text_lines), [line for line in text_lines if len(line) > width]


def test_a_code_is_cut_at_its_separators_else_evenly():
    from loyaltycli.customer.slip import cut_code

    code = "LC1.ABCDEFGH.12.MNOPQRSTUVWX"
    assert cut_code(code, 24) == ["LC1.ABCDEFGH.12.", "MNOPQRSTUVWX"]
    assert cut_code(code, 12) == ["LC1.", "ABCDEFGH.12.", "MNOPQRSTUVWX"]
    assert cut_code(code, 40) == [code]
    assert cut_code("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10) == ["ABCDEFGHI", "JKLMNOPQR", "STUVWXYZ"]  # evenly


def test_a_line_is_measured_as_printed_in_its_code_page():
    """'€' prints as 'EUR' in PC852 (Romanian): a line that fits in characters may not fit on paper."""
    from loyaltycli.customer.slip import fit

    text = "abcdefghijklmnop 1,50\u00a0€"  # 23 characters; 25 on paper in cp852
    assert fit(text, 24, "cp858") == [text]
    assert fit(text, 24, "cp852") == ["abcdefghijklmnop", "1,50\u00a0€"]  # the amount whole, on its line
    assert fit("  incl. welcome bonus +50", 12) == ["  incl.", "  welcome", "  bonus +50"]  # each line indented
    assert fit("  LC1.ABCDEFGH.12.MNOPQRSTUVWX", 20) == ["  LC1.ABCDEFGH.12.", "  MNOPQRSTUVWX"]
    assert fit("", 24) == [""]
