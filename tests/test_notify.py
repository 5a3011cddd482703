"""E-mail statements and expiry reminders (`loyalty notify`), against an SMTP server on 127.0.0.1 started
here (aiosmtpd), and to an --outbox of .eml files parsed back with the email package."""

from __future__ import annotations

import email
import re
import email.policy
import email.utils
import io
import socket
import stat

import pytest

PASSWORD = "Tr0ub4dor-&-3-horse"  # what the server accepts
WRONG = "s3cret-Wr0ng-Pa55word"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler: keeps every message, refuses the addresses in ``refuse`` with a 550."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # as text: a message sent as UTF-8 (SMTPUTF8) has its headers so; the rest is ASCII either way
        parsed = email.message_from_string(envelope.original_content.decode("utf-8"), policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp():
    """A mail server on 127.0.0.1 that wants AUTH (login 'cafe', PASSWORD) over a plain connection."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"cafe" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # refused: aiosmtpd answers 535

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def shop(cli, monkeypatch):
    """A Portuguese café with three customers: Ana (pt, e-mail offers yes), Ion (ro, yes), Bob (no)."""
    for key, value in [("country", "PT"), ("mail_from", "cafe@example.pt"), ("shop_name", "Café Aurora")]:
        assert cli("program", "set", key, value).exit_code == 0
    assert cli("enroll", "Ana Silva", "--email", "ana@example.pt", "--consent", "--lang", "pt",
               "--at", "2025-07-01T10:00:00+00:00").exit_code == 0
    assert cli("enroll", "Ion Popescu", "--email", "ion@example.ro", "--consent", "--lang", "ro").exit_code == 0
    assert cli("enroll", "Bob Byrne", "--email", "bob@example.com", "--no-consent").exit_code == 0
    assert cli("purchase", "C000001", "12.50", "--receipt", "R1").exit_code == 0
    assert cli("purchase", "C000002", "20.00", "--receipt", "R2").exit_code == 0
    assert cli("purchase", "C000003", "30.00", "--receipt", "R3").exit_code == 0
    monkeypatch.setenv("LOYALTY_SMTP_PASSWORD", PASSWORD)
    return cli


def use_server(cli, box, user="cafe"):
    for key, value in [("smtp_host", "127.0.0.1"), ("smtp_port", str(box.port)), ("smtp_security", "none"),
                       ("smtp_user", user)]:
        assert cli("program", "set", key, value).exit_code == 0


def plain(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_only_consenting_customers_receive_in_their_language_with_the_right_amounts(shop, smtp):
    use_server(shop, smtp)
    result = shop("notify", "statements")
    assert result.exit_code == 0, result.output + result.stderr
    assert "2 sent, 0 refused, 0 up to date" in result.stderr
    assert sorted(r for rcpt, _m in smtp.messages for r in rcpt) == ["ana@example.pt", "ion@example.ro"]
    assert smtp.to("bob@example.com") == []
    [ana], [ion] = smtp.to("ana@example.pt"), smtp.to("ion@example.ro")
    # Ana: 50 welcome + 12 points = 62 points worth 3,10 € (0.05 each); her sale in Portuguese words
    assert "62" in plain(ana) and "3,10\xa0€" in plain(ana)
    assert "12,50\xa0€ loja" in plain(ana) and "12,50\xa0€ loja" in html(ana)
    assert ana["Content-Language"] == "pt-PT" and 'lang="pt-PT"' in html(ana)
    # Ion: 50 + 20 = 70 points, 3,50 in the Romanian way; his sale's channel in Romanian
    assert "70" in plain(ion) and "3,50\xa0EUR" in plain(ion) and "magazin" in plain(ion)
    assert ion["Content-Language"] == "ro" and 'lang="ro"' in html(ion)
    assert ana["From"] == "Café Aurora <cafe@example.pt>" and ana["To"] == "Ana Silva <ana@example.pt>"


def test_a_second_run_sends_nothing_and_a_new_sale_sends_only_what_is_new(shop, smtp):
    use_server(shop, smtp)
    assert shop("notify", "statements").exit_code == 0
    again = shop("--json", "notify", "statements")
    assert again.exit_code == 0
    assert '"sent": 0' in again.stdout and '"up_to_date": 2' in again.stdout
    assert len(smtp.messages) == 2
    assert shop("purchase", "C000001", "4.00", "--receipt", "R9").exit_code == 0
    assert shop("notify", "statements").exit_code == 0
    assert len(smtp.messages) == 3
    latest = plain(smtp.to("ana@example.pt")[-1])
    assert "R9" in latest and "R1" not in latest  # only what happened since the last statement


def test_since_lists_the_rows_from_that_day_on(shop, tmp_path):
    out = tmp_path / "out"
    assert shop("notify", "statements", "--since", "2026-06-01", "--outbox", out).exit_code == 0
    ana = email.message_from_bytes(sorted(out.iterdir())[0].read_bytes(), policy=email.policy.default)
    assert "R1" in plain(ana) and "2025-07-01" not in plain(ana)  # not the welcome bonus of last July
    assert "2026-06-01" in plain(ana)
    bad = shop("notify", "statements", "--since", "June", "--outbox", out)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")


def test_withdrawn_consent_stops_at_once(shop, smtp):
    use_server(shop, smtp)
    assert shop("customer", "consent", "C000002", "--withdraw", "email").exit_code == 0
    assert shop("notify", "statements").exit_code == 0
    assert [rcpt for rcpt, _m in smtp.messages] == [["ana@example.pt"]]


def test_a_refused_address_is_reported_and_the_others_go_on(shop, smtp):
    use_server(shop, smtp)
    smtp.refuse.add("ana@example.pt")
    result = shop("notify", "statements")
    assert result.exit_code == 3
    assert "refused: C000001 <ana@example.pt>: 550 5.1.1" in result.stderr
    assert "1 sent, 1 refused" in result.stderr
    assert [rcpt for rcpt, _m in smtp.messages] == [["ion@example.ro"]]
    smtp.refuse.clear()  # the address works again: the next run gives Ana hers, and Ion nothing more
    assert shop("notify", "statements").exit_code == 0
    assert [rcpt for rcpt, _m in smtp.messages] == [["ion@example.ro"], ["ana@example.pt"]]


def test_a_message_left_sending_by_a_stopped_run_is_skipped_unless_retry(shop, smtp, database):
    """A crash after recording 'sending' (the message may have left): never given twice on its own."""
    from sqlalchemy import update

    from loyaltycli.store.models import Notice

    use_server(shop, smtp)
    assert shop("notify", "statements").exit_code == 0
    with database.session() as s:  # as if the run had stopped between sending and recording
        s.execute(update(Notice).values(status="sending", sent_at=None))
    skipped = shop("notify", "statements")
    assert skipped.exit_code == 0 and "2 left 'sending'" in skipped.stderr
    assert len(smtp.messages) == 2
    assert shop("notify", "statements", "--retry").exit_code == 0
    assert len(smtp.messages) == 4
    with database.session(write=False) as s:
        assert {n.status for n in s.query(Notice)} == {"sent"}


def test_the_password_never_appears_even_when_the_login_is_refused(shop, smtp, monkeypatch, tmp_path, caplog):
    use_server(shop, smtp)
    monkeypatch.setenv("LOYALTY_SMTP_PASSWORD", WRONG)
    refused = shop("notify", "statements")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: mail server 127.0.0.1:") and "535" in refused.stderr
    assert smtp.messages == []
    monkeypatch.setenv("LOYALTY_SMTP_PASSWORD", PASSWORD)
    sent = shop("notify", "statements")
    shown = shop("program", "show")
    dumped = shop("program", "dump")
    written = shop("notify", "expiring", "--outbox", tmp_path / "out")
    files = b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    mails = b"".join(m.as_bytes() for _r, m in smtp.messages)
    import base64

    for secret in (WRONG, PASSWORD):
        forms = [secret, base64.b64encode(f"\0cafe\0{secret}".encode()).decode()]
        for text in [refused.stdout, refused.stderr, sent.stdout, sent.stderr, shown.stdout, dumped.stdout,
                     written.stdout, written.stderr, caplog.text, files.decode(), mails.decode()]:
            assert not any(form in text for form in forms)


def test_a_server_that_cannot_be_reached_stops_the_run_and_the_next_run_gives_the_messages(shop, smtp, database):
    from loyaltycli.store.models import Notice

    use_server(shop, smtp)
    assert shop("program", "set", "smtp_port", str(free_port())).exit_code == 0  # nobody listens there
    result = shop("notify", "statements")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: mail server 127.0.0.1:") and result.stderr.count("\n") == 1
    with database.session(write=False) as s:
        assert [n.status for n in s.query(Notice)] == ["failed"]  # it never left: not 'sending'
    assert shop("program", "set", "smtp_port", str(smtp.port)).exit_code == 0
    assert shop("notify", "statements").exit_code == 0
    assert len(smtp.messages) == 2


def test_a_password_auth_cannot_carry_is_refused_without_showing_it(shop, smtp, monkeypatch):
    use_server(shop, smtp)
    monkeypatch.setenv("LOYALTY_SMTP_PASSWORD", "pässwörd-Ünicode")
    result = shop("notify", "statements")
    assert result.exit_code == 1 and "ASCII only" in result.stderr
    assert not any(ch in result.stderr for ch in "äöÜ")


def test_the_password_is_masked_in_a_server_reply_that_echoes_it(program):
    from loyaltycli.customer import notify

    from loyaltycli.store.program import Program

    program = Program({**program._values, "smtp_host": "127.0.0.1", "smtp_user": "cafe"})
    smtp = notify.Smtp(program, password=PASSWORD)
    assert PASSWORD not in smtp.mask(f"535 bad credentials {PASSWORD}")
    echoed = __import__("base64").b64encode(f"\0cafe\0{PASSWORD}".encode()).decode()
    assert smtp.mask(f"535 {echoed}") == "535 ***"


def test_outbox_writes_parseable_eml_files_with_the_card_qr_inline(shop, tmp_path):
    from PIL import Image
    import zxingcpp

    out = tmp_path / "out"
    result = shop("notify", "statements", "--outbox", out)
    assert result.exit_code == 0, result.stderr
    files = sorted(out.iterdir())
    assert [p.name for p in files] == ["20260615-C000001-statement.eml", "20260615-C000002-statement.eml"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    assert msg["List-Unsubscribe"] == "<mailto:cafe@example.pt?subject=unsubscribe%20C000001>"
    assert msg["List-Unsubscribe-Post"] is None
    assert msg["Message-ID"].endswith("@example.pt>")
    image = [p for p in msg.walk() if p.get_content_type() == "image/png"][0]
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html(msg)
    code = shop("pass", "show", "C000001", "--quiet").stdout.strip()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_content())))]
    assert found == [code] and code in plain(msg)
    assert msg["List-Unsubscribe"] and "mailto:" in msg["List-Unsubscribe"]
    # written once: a second run writes no file
    assert shop("notify", "statements", "--outbox", out).exit_code == 0
    assert len(list(out.iterdir())) == 2


@pytest.mark.parametrize("name, shop_name", [
    ("Zé <outro@evil.example>", "Café <Aurora>"),       # not ASCII, and an address in the name
    ("Ana \"Nini\" Silva", "Café \"Aurora\""),         # quotes
    ("Ana (Silva)", "Café (Aurora)"),                    # a comment's brackets
    ("Silva, Ana", "Padaria Silva, Lda."),               # a comma: two addresses when unquoted
])
def test_the_headers_name_the_shop_and_the_customer_whatever_their_names_hold(cli, tmp_path, name, shop_name):
    for key, value in [("mail_from", "loja@example.pt"), ("shop_name", shop_name)]:
        assert cli("program", "set", key, value).exit_code == 0
    assert cli("enroll", name, "--email", "ze@example.pt", "--consent").exit_code == 0
    assert cli("notify", "statements", "--outbox", tmp_path / "out").exit_code == 0
    [path] = (tmp_path / "out").iterdir()
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [(name, "ze@example.pt")]
    assert [(a.display_name, a.addr_spec) for a in msg["From"].addresses] == [(shop_name, "loja@example.pt")]
    assert email.utils.getaddresses([str(msg["To"])]) == [(name, "ze@example.pt")]  # as a mail program reads it


def test_addresses_with_letters_beyond_ascii_go_as_utf8_or_are_refused_one_by_one(shop, smtp, tmp_path):
    """josé@example.pt can only travel as UTF-8 (SMTPUTF8): sent so to a server that offers it, refused for
    that customer alone by one that does not (the next run gives it again: here to an outbox, as UTF-8). A
    domain of letters beyond ASCII is written in its ASCII form."""
    from aiosmtpd.controller import Controller

    assert shop("enroll", "Zé <outro@evil.example>", "--email", "josé@example.pt", "--consent").exit_code == 0
    assert shop("enroll", "Inês", "--email", "ines@café.pt", "--consent").exit_code == 0
    use_server(shop, smtp)  # aiosmtpd offers SMTPUTF8 unless told not to
    assert shop("notify", "statements").exit_code == 0
    sent = {rcpt[0]: [(a.display_name, a.addr_spec) for a in m["To"].addresses] for rcpt, m in smtp.messages}
    assert sent == {"ana@example.pt": [("Ana Silva", "ana@example.pt")],
                    "ion@example.ro": [("Ion Popescu", "ion@example.ro")],
                    "josé@example.pt": [("Zé <outro@evil.example>", "josé@example.pt")],
                    "ines@xn--caf-dma.pt": [("Inês", "ines@xn--caf-dma.pt")]}
    assert shop("enroll", "João", "--email", "joão@example.pt", "--consent").exit_code == 0
    plain = Mailbox()
    server = Controller(plain, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    server.start()
    try:
        assert shop("program", "set", "smtp_port", str(server.port)).exit_code == 0
        assert shop("program", "set", "smtp_user", "").exit_code == 0
        result = shop("notify", "statements")
    finally:
        server.stop()
    assert result.exit_code == 3
    assert ("refused: C000006 <joão@example.pt>: the mail server does not take addresses with letters beyond "
            "ASCII before the @ (SMTPUTF8)") in result.stderr
    assert plain.messages == []
    out = tmp_path / "out"
    assert shop("notify", "statements", "--outbox", out).exit_code == 0
    [path] = out.iterdir()
    msg = email.message_from_string(path.read_text("utf-8"), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [("João", "joão@example.pt")]


def test_one_click_unsubscribe_with_an_https_page(shop, tmp_path):
    assert shop("program", "set", "unsubscribe_url", "http://cafe.example.pt/stop").exit_code == 1
    assert shop("program", "set", "unsubscribe_url", "https://cafe.example.pt/stop").exit_code == 0
    assert shop("program", "set", "unsubscribe_mailto", "stop@example.pt").exit_code == 0
    assert shop("notify", "statements", "--outbox", tmp_path / "out").exit_code == 0
    path = sorted((tmp_path / "out").iterdir())[0]
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["List-Unsubscribe"] == ("<https://cafe.example.pt/stop?customer=C000001>, "
                                       "<mailto:stop@example.pt?subject=unsubscribe%20C000001>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert 'href="https://cafe.example.pt/stop?customer=C000001"' in html(msg)


def test_expiring_reminds_once_with_the_dates(shop, tmp_path):
    out = tmp_path / "out"
    result = shop("notify", "expiring", "--days", "30", "--outbox", out)
    assert result.exit_code == 0, result.stderr
    # Ana's welcome bonus of 2025-07-01 expires on 2026-07-01; Ion's points are a year away
    [path] = list(out.iterdir())
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "Ana Silva <ana@example.pt>"
    # in Ana's language (pt): the 50 points and the day they expire, whatever the words around them
    text = plain(msg)
    assert re.search(r"\b50\b", text) and re.search(r"2026-07-01|01[/.-]07[/.-]2026", text), text
    assert shop("notify", "expiring", "--days", "30", "--outbox", out).exit_code == 0
    assert len(list(out.iterdir())) == 1


def test_bad_settings_and_missing_server_are_refused(shop, tmp_path, monkeypatch):
    for key, value in [("mail_from", "not an address"), ("smtp_security", "tls"), ("smtp_port", "70000"),
                       ("smtp_host", "mail.example.pt:587")]:
        result = shop("program", "set", key, value)
        assert result.exit_code == 1 and result.stderr.startswith(f"error: {key}: ")
    result = shop("notify", "statements")
    assert result.exit_code == 1 and "smtp_host" in result.stderr
    (tmp_path / "file").write_text("x")
    result = shop("notify", "statements", "--outbox", tmp_path / "file")
    assert result.exit_code == 1 and "is not a folder" in result.stderr
    result = shop("notify", "statements", "--outbox", tmp_path / "no" / "out")
    assert result.exit_code == 1 and "parent folder does not exist" in result.stderr
    monkeypatch.chdir(tmp_path)
    for empty in ("", "  "):  # a script's unset variable: not the current folder
        result = shop("notify", "statements", "--outbox", empty)
        assert (result.exit_code, result.stderr) == (
            1, "error: --outbox is empty; give the folder to write the messages in\n")
    assert not list(tmp_path.glob("*.eml"))
    assert not (tmp_path / "no").exists()
    assert shop("program", "set", "smtp_host", "127.0.0.1").exit_code == 0
    assert shop("program", "set", "smtp_user", "cafe").exit_code == 0
    monkeypatch.delenv("LOYALTY_SMTP_PASSWORD")
    result = shop("notify", "statements")
    assert result.exit_code == 1 and "LOYALTY_SMTP_PASSWORD" in result.stderr
    assert shop("--json", "notify", "statements", "--outbox", tmp_path / "out").exit_code == 0


def test_statement_library_builds_the_message_in_the_customer_language(shop, database):
    from loyaltycli.customer import statements
    from loyaltycli.store.models import Customer
    from loyaltycli.store.program import load_program

    with database.session() as session:
        program = load_program(session)
        ion = session.query(Customer).filter_by(code="C000002").one()
        made = statements.build(session, program, ion, statements.STATEMENT)
        assert (made.balance, made.value, made.language) == (70, 350, "ro")
        assert [(r.points, r.balance) for r in made.rows] == [(50, 50), (20, 70)]
        later = statements.build(session, program, ion, statements.STATEMENT, after_row=made.rows[0].id)
        assert [r.points for r in later.rows] == [20]
        msg = statements.message(made, statements.Sender.of(program))
    assert msg["Subject"] and msg["Content-Language"] == "ro"
    assert "70" in plain(msg) and "3,50\xa0EUR" in html(msg)


def test_a_cashback_shop_tells_the_credit(cli, tmp_path):
    for args in [("program", "set", "country", "PT"), ("program", "set", "mail_from", "loja@example.pt"),
                 ("program", "preset", "cashback", "--percent", "5")]:
        assert cli(*args).exit_code == 0
    assert cli("enroll", "Rita", "--email", "rita@example.pt", "--email-offers").exit_code == 0
    assert cli("purchase", "C000001", "40.00", "--receipt", "R1").exit_code == 0
    assert cli("notify", "statements", "--outbox", tmp_path / "out").exit_code == 0
    [path] = list((tmp_path / "out").iterdir())
    text = plain(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    assert "Credit: 2,50\xa0€" in text  # the welcome bonus of 50 cents and 5% of 40,00 €
