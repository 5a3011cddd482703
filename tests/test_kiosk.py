"""The kiosk's views through Flask's test client: self-enrolment with consent per channel, "my card" by a
signed card code only, and the safety defaults (Host allow-list, CSRF, no-store, size limits). The real
browser and real processes are in tests/test_kiosk_browser.py and tests/test_kiosk_server.py."""

from __future__ import annotations

import logging
import re

import pytest

from loyaltycli.customer.kiosk import allowed_hosts, create_app

HOST = "127.0.0.1:8765"


@pytest.fixture
def app(db_path):
    return create_app(db=str(db_path), hosts=allowed_hosts("127.0.0.1", 8765))


@pytest.fixture
def client(app):
    return app.test_client()


def token(client, lang="en", page="join") -> str:
    page_text = client.get(f"/{lang}/{page}", headers={"Host": HOST}).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def join(client, lang="en", **fields):
    data = {"csrf_token": token(client, lang), "language": lang, **fields}
    return client.post(f"/{lang}/join", data=data, headers={"Host": HOST})


def customers(session_factory):
    from sqlalchemy import select

    from loyaltycli.store.models import Customer

    with session_factory.session(write=False) as session:
        return session.execute(select(Customer).order_by(Customer.id)).scalars().all()


def consent_rows(database, customer_id):
    from loyaltycli.services import consent

    with database.session(write=False) as session:
        return consent.history(session, customer_id)


def test_start_screen_speaks_the_shops_language_and_nothing_is_cached(cli, client):
    assert cli("program", "set", "locale", "ro_RO").exit_code == 0
    home = client.get("/", headers={"Host": HOST})
    assert home.status_code == 302 and home.headers["Location"].endswith("/ro/")
    start = client.get("/ro/", headers={"Host": HOST})
    assert start.status_code == 200
    assert start.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in start.headers["Content-Security-Policy"]
    text = start.get_data(as_text=True)
    assert '<html lang="ro">' in text
    for lang in ("pt_PT", "ro", "it", "es", "en"):  # the language switch
        assert f'href="/{lang}/"' in text
    assert client.get("/fr/", headers={"Host": HOST}).status_code == 404


def test_lang_option_sets_the_start_screen(db_path):
    app = create_app(db=str(db_path), lang="it", hosts={"localhost"})
    assert app.test_client().get("/").headers["Location"].endswith("/it/")


def test_enrol_records_membership_and_only_the_ticked_offers(client, database):
    from loyaltycli.services.consent import WORDING_VERSION

    done = join(client, "pt_PT", name="Ana Sousa", phone="+351 912 345 678", email="ana@example.pt",
                birthday="1990-04-02", consent_membership="yes", consent_sms="yes")
    assert done.status_code == 200, done.get_data(as_text=True)
    page = done.get_data(as_text=True)
    assert "<svg" in page and "LC1." in page and "C000001" in page
    [ana] = customers(database)
    assert (ana.name, ana.email, ana.language, str(ana.birthday)) == ("Ana Sousa", "ana@example.pt", "pt_PT",
                                                                      "1990-04-02")
    assert ana.phone.endswith("912345678")
    rows = consent_rows(database, ana.id)
    assert {(r["channel"], r["given"], r["how"], r["version"]) for r in rows} == {
        ("membership", True, "kiosk", WORDING_VERSION), ("sms", True, "kiosk", WORDING_VERSION)}
    assert all(r["at"] is not None for r in rows)
    assert not ana.consent  # the e-mail box was not ticked: no e-mail consent
    # The QR on screen is the customer's card: scanning it back finds Ana.
    code = re.search(r'id="code">(LC1\.[A-Z0-9.]+)<', page).group(1)
    from loyaltycli.services import passes

    with database.session(write=False) as session:
        assert passes.customer_for_code(session, code).id == ana.id


def test_enrol_needs_the_membership_box_and_a_way_to_reach_the_customer(client, database):
    refused = join(client, name="Ann", phone="0851234567", email="ann@example.ie", consent_sms="yes")
    assert refused.status_code == 422
    assert "Tick the box to join the program" in refused.get_data(as_text=True)
    for fields, problem in (({}, "Give a phone number or an e-mail address"),
                            ({"phone": "0851234567", "consent_email": "yes"}, "Give an e-mail address to receive"),
                            ({"email": "ann@example.ie", "consent_sms": "yes"}, "Give a phone number to receive")):
        answer = join(client, name="Ann", consent_membership="yes", **fields)
        assert answer.status_code == 422 and problem in answer.get_data(as_text=True)
    assert customers(database) == []


def test_typed_values_are_kept_when_refused_and_a_bad_phone_is_explained(client, database):
    refused = join(client, name="Ann Walsh", phone="12", email="ann@example.ie", consent_membership="yes")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="Ann Walsh"' in page and 'value="ann@example.ie"' in page
    assert "phone" in page.lower() and 'role="alert"' in page
    assert customers(database) == []


def test_duplicate_phone_or_email_is_refused_without_saying_whose(client, database):
    assert join(client, name="Aoife Byrne", phone="0851234567", email="aoife@example.ie",
                consent_membership="yes").status_code == 200
    again = join(client, name="Someone", phone="085 123 4567", consent_membership="yes")
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "This phone number is already registered" in page
    assert "C000001" not in page and "Aoife" not in page
    mail = join(client, phone="0859999999", email="AOIFE@example.ie", consent_membership="yes")
    assert "This e-mail address is already registered" in mail.get_data(as_text=True)
    assert len(customers(database)) == 1


def test_a_referral_code_that_cannot_be_used_names_nobody(client, database):
    assert join(client, name="Aoife Byrne", phone="0851234567", consent_membership="yes").status_code == 200
    [aoife] = customers(database)
    own = join(client, phone="0851234567", referral_code=aoife.referral_code, consent_membership="yes")
    page = own.get_data(as_text=True)
    assert "This referral code cannot be used" in page and "C000001" not in page
    unknown = join(client, phone="0851111111", referral_code="NOSUCH12", consent_membership="yes")
    assert "This referral code cannot be used" in unknown.get_data(as_text=True)
    friend = join(client, phone="0852222222", referral_code=aoife.referral_code.lower(), consent_membership="yes")
    assert friend.status_code == 200
    assert len(customers(database)) == 2


def test_foreign_host_and_missing_csrf_change_nothing(client, database):
    good = token(client)
    form = {"csrf_token": good, "phone": "0851234567", "consent_membership": "yes", "language": "en"}
    assert client.get("/en/", headers={"Host": "evil.example:8765"}).status_code == 400
    assert client.post("/en/join", data=form, headers={"Host": "evil.example"}).status_code == 400
    assert client.post("/en/join", data={**form, "csrf_token": ""}, headers={"Host": HOST}).status_code == 403
    assert client.post("/en/join", data={**form, "csrf_token": good + "x"}, headers={"Host": HOST}).status_code == 403
    other_browser = client.application.test_client()  # no session cookie: its token is nobody's
    assert other_browser.post("/en/join", data=form, headers={"Host": HOST}).status_code == 403
    assert customers(database) == []
    assert client.post("/en/join", data=form, headers={"Host": HOST}).status_code == 200
    assert len(customers(database)) == 1


def test_a_stale_form_a_missing_page_and_a_large_form_answer_in_the_pages_language(client, database):
    stale = client.post("/pt_PT/join", data={"csrf_token": "from-before-a-restart", "phone": "912345678"},
                        headers={"Host": HOST})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 403 and '<html lang="pt-PT">' in page
    assert "Esta página esteve aberta demasiado tempo. Por favor, comece de novo." in page, page
    assert 'href="/pt_PT/"' in page  # the way back to the start
    missing = client.get("/ro/nothing-here", headers={"Host": HOST})
    assert missing.status_code == 404 and "Forbidden" not in missing.get_data(as_text=True)
    big = client.post("/es/join", data={"csrf_token": token(client, "es"), "name": "x" * 40_000},
                      headers={"Host": HOST})
    assert big.status_code == 413 and '<html lang="es">' in big.get_data(as_text=True)
    assert customers(database) == []


def test_large_requests_are_refused(client, database):
    form = {"csrf_token": token(client), "phone": "0851234567", "consent_membership": "yes", "name": "x" * 40_000}
    assert client.post("/en/join", data=form, headers={"Host": HOST}).status_code == 413
    assert customers(database) == []


def test_my_card_by_signed_code_only(cli, client, database):
    assert cli("program", "set", "locale", "pt_PT").exit_code == 0
    assert cli("reward", "add", "Free coffee", "--cost", "500").exit_code == 0
    assert join(client, "pt_PT", name="Rui Costa", phone="+351 912 345 678", consent_membership="yes").status_code == 200
    assert cli("purchase", "C000001", "123,40").exit_code == 0
    code = cli("pass", "show", "C000001", "--quiet").stdout.strip()

    def show(text):
        return client.post("/pt_PT/card", data={"csrf_token": token(client, "pt_PT", "card"), "code": text},
                           headers={"Host": HOST})

    with database.session(write=False) as session:
        from loyaltycli.services import customers as service
        from loyaltycli.store.program import load_program

        balance = service.find(session, "C000001", load_program(session))
        from loyaltycli.store import ledger

        points = ledger.balance(session, balance.id)
    seen = show(code.lower() + "  ")  # a scanner may type lower case or a space
    page = seen.get_data(as_text=True)
    assert seen.status_code == 200
    assert f'id="points">{points}<' in page and "Rui Costa" in page
    assert re.search(r'id="value">[0-9]+,[0-9]{2}\xa0€<', page), page  # the locale's way
    assert "Free coffee" in page  # the next reward (or one ready)
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    answers = [show(text) for text in (tampered, "LC1.AAAAAAAA.1.AAAAAAAAAAAA", "+351912345678", "Rui Costa",
                                        "C000001")]
    assert {a.status_code for a in answers} == {404}
    problems = {re.search(r'id="problem">([^<]+)<', a.get_data(as_text=True)).group(1) for a in answers}
    assert len(problems) == 1  # the same answer for unknown and tampered codes, and for a phone or a name
    # A code in a query string is never read.
    assert 'id="points"' not in client.get(f"/pt_PT/card?code={code}", headers={"Host": HOST}).get_data(as_text=True)


def test_no_personal_data_in_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        join(client, name="Ann Walsh", phone="0851234567", email="ann@example.ie", consent_membership="yes")
        join(client, name="Ann Walsh", phone="0851234567", email="ann@example.ie", consent_membership="yes")
    assert "0851234567" not in caplog.text and "ann@example.ie" not in caplog.text


def test_an_unexpected_error_shows_nothing_of_it_and_logs_its_type_only(client, monkeypatch, caplog):
    from loyaltycli.customer.kiosk import views

    def broken(session, customer):
        raise RuntimeError("secret 0851234567")

    monkeypatch.setattr(views, "card_summary", broken)
    joined = join(client, phone="0851234567", consent_membership="yes").get_data(as_text=True)
    code = re.search(r'id="code">(LC1\.[A-Z0-9.]+)<', joined).group(1)
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/ro/card", data={"csrf_token": token(client, "ro", "card"), "code": code},
                             headers={"Host": HOST})
    assert answer.status_code == 500
    text = answer.get_data(as_text=True)
    assert '<html lang="ro">' in text and "0851234567" not in text and "RuntimeError" not in text
    assert "RuntimeError" in caplog.text and "0851234567" not in caplog.text


def test_kiosk_command_refuses_bad_options(cli):
    bad_lang = cli("kiosk", "--lang", "fr")
    assert bad_lang.exit_code == 1 and "unknown language 'fr'" in bad_lang.stderr
    bad_listen = cli("kiosk", "--listen", "shop.example")
    assert bad_listen.exit_code == 1 and "is not an IP address" in bad_listen.stderr
    assert "chromium --kiosk" in cli("kiosk", "--help").stdout


@pytest.mark.sqlite_only
def test_a_till_holding_the_database_past_the_busy_timeout_gets_a_polite_refusal(client, database, db_path,
                                                                                 monkeypatch):
    import sqlite3

    from loyaltycli.store import db as dbmod

    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_SECONDS", 0.2)
    database.engine.dispose()  # new connections take the short timeout
    till = sqlite3.connect(str(db_path), isolation_level=None)
    till.execute("BEGIN IMMEDIATE")  # another till's long write
    try:
        answer = join(client, phone="0851234567", consent_membership="yes")
    finally:
        till.execute("ROLLBACK")
        till.close()
    assert answer.status_code == 422
    assert "The till is busy; please try again in a moment." in answer.get_data(as_text=True)
    assert customers(database) == []
    assert join(client, phone="0851234567", consent_membership="yes").status_code == 200


def my_card(cli, client, key="C000001") -> str:
    """The My card page of ``key``'s card code, as a scan types it."""
    code = cli("pass", "show", key, "--quiet").stdout.strip()
    seen = client.post("/en/card", data={"csrf_token": token(client, "en", "card"), "code": code},
                       headers={"Host": HOST})
    assert seen.status_code == 200
    return seen.get_data(as_text=True)


def test_my_card_shows_stamps_and_vouchers(cafe, client):
    for receipt in ("R-1", "R-2", "R-3", "R-4"):
        assert cafe("purchase", "C000001", "7.50", "--receipt", receipt, "--item", "COF-1:3:2.50").exit_code == 0
    page = my_card(cafe, client)
    # 12 stamps: a full card of 10 became a voucher, 2 stamps on the next
    assert re.search(r'id="stamps"><span class="stamp-card">Coffee: 2/10 · vouchers: 1 \(Free coffee\)<', page), page
    assert 'id="progress"' not in page  # no goal in this shop


def test_my_card_shows_a_goals_progress_as_balance_says_it(cafe, client):
    assert cafe("goal", "add", "Pastries", "--spend", "30.00", "--sku", "PAS-*", "--reward", "Free cake").exit_code == 0
    assert cafe("purchase", "C000001", "18.40", "--item", "PAS-1:2:9.20").exit_code == 0
    page = my_card(cafe, client)
    assert re.search(r'<dt>Goals</dt>\s*<dd id="progress"><span class="goal">Pastries €18.40 of €30.00</span>', page), page


# ------------------------------------------------------------------ the welcome slip

def test_a_printer_set_prints_a_welcome_slip_with_the_cards_qr(cli, db_path, database):
    from escpos_helpers import parse, tcp_printer

    assert cli("program", "set", "shop_name", "Café Aurora").exit_code == 0
    port, received, thread = tcp_printer()
    target = f"tcp://127.0.0.1:{port}"
    client = create_app(db=str(db_path), hosts=allowed_hosts("127.0.0.1", 8765), printer=target).test_client()
    done = join(client, "en", name="Ann Walsh", phone="0851234567", consent_membership="yes")
    thread.join(10)
    page = done.get_data(as_text=True)
    assert done.status_code == 200
    assert 'id="slip" role="status">Your card is also printed on a slip' in page
    code = re.search(r'id="code">(LC1\.[A-Z0-9.]+)<', page).group(1)
    printed = parse(bytes(received))
    assert printed.qr == [code]  # the card on screen, on paper
    assert printed.lines[:4] == ["Café Aurora", "Welcome to our loyalty program!", "Ann Walsh", "Card C000001"]
    assert "On joining: +50 points" in printed.lines  # the welcome bonus
    assert "  incl. welcome bonus +50" in printed.lines
    assert "Balance: 50 points (€2.50)" in printed.lines
    assert not any(line.startswith("Receipt") for line in printed.lines)
    [customer] = customers(database)  # the customer's own invite code, and what a friend brings them
    text = " ".join(line.strip() for line in printed.lines)  # 32 columns: long lines wrap
    assert (f"Invite friends with your code {customer.referral_code} "
            "200 points for you when a friend first spends €10.00 or more") in text
    assert printed.cuts == 1


def test_a_welcome_slip_has_no_invite_when_referring_earns_nothing(cli, db_path, database):
    from escpos_helpers import parse

    assert cli("program", "set", "referral_steps", "1:0").exit_code == 0
    target = db_path.parent / "slips.bin"
    client = create_app(db=str(db_path), hosts=allowed_hosts("127.0.0.1", 8765), printer=str(target)).test_client()
    assert join(client, "en", phone="0851234567", consent_membership="yes").status_code == 200
    printed = parse(target.read_bytes())
    assert printed.qr and not any("Invite" in line or "friend" in line for line in printed.lines)


def test_a_printer_that_fails_leaves_the_card_made_and_says_so(client, db_path, database):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(db=str(db_path), hosts=allowed_hosts("127.0.0.1", 8765), printer=f"tcp://127.0.0.1:{port}")
    done = join(app.test_client(), "en", phone="0851234567", consent_membership="yes")
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and 'id="qr"' in page  # the card on screen all the same
    assert "Your card is ready, but its slip could not be printed." in page
    assert [c.phone.endswith("851234567") for c in customers(database)] == [True]


def test_a_printer_file_gets_the_slip_in_the_customers_language(cli, db_path, tmp_path):
    from escpos_helpers import parse

    assert cli("program", "set", "country", "PT").exit_code == 0
    target = tmp_path / "slips.bin"
    client = create_app(db=str(db_path), hosts=allowed_hosts("127.0.0.1", 8765), printer=str(target)).test_client()
    assert join(client, "pt_PT", phone="912345678", consent_membership="yes").status_code == 200
    printed = parse(target.read_bytes())
    assert printed.page == 19  # cp858, the Portuguese slip's code page
    assert any(line.startswith("Cartão C000001") for line in printed.lines), printed.lines
    assert any("2,50" in line for line in printed.lines)  # the balance's worth, the locale's way
    text = " ".join(line.strip() for line in printed.lines)
    assert "Convide amigos com o seu código" in text and "200 pontos para si" in text, text


def test_kiosk_refuses_a_printer_it_cannot_name(cli):
    bad = cli("kiosk", "--printer", "lpd://host")
    assert bad.exit_code == 1 and "only tcp://HOST:PORT is understood" in bad.stderr


@pytest.mark.parametrize("lang,country,typed,example", [
    ("pt_PT", "PT", "02/04/1990", "31/12/1990"), ("ro", "RO", "2.4.1990", "31.12.1990"),
    ("it", "IT", "02/04/1990", "31/12/1990"), ("es", "ES", "02-04-1990", "31/12/1990")])
def test_the_birthday_is_written_day_first_the_pages_way(cli, client, database, lang, country, typed, example):
    assert cli("program", "set", "country", country).exit_code == 0
    form = client.get(f"/{lang}/join", headers={"Host": HOST}).get_data(as_text=True)
    assert 'type="date"' not in form  # the browser's own locale would order it (mm/dd/yyyy in en-US)
    assert f'placeholder="{example}"' in form and example in re.search(r'id="birthday-hint">([^<]+)<', form).group(1)
    phone = {"PT": "912345678", "RO": "0712345678", "IT": "3123456789", "ES": "612345678"}[country]
    refused = join(client, lang, phone=phone, birthday="31.02.1990", consent_membership="yes")
    assert refused.status_code == 422
    problem = re.search(r'id="problem">([^<]+)<', refused.get_data(as_text=True)).group(1)
    assert "31.02.1990" in problem.replace("&#39;", "'") and example in problem
    assert 'value="31.02.1990"' in refused.get_data(as_text=True)  # kept as typed, to be mended
    assert customers(database) == []
    assert join(client, lang, phone=phone, birthday=typed, consent_membership="yes").status_code == 200
    [customer] = customers(database)
    assert str(customer.birthday) == "1990-04-02"


def test_kiosk_takes_its_printer_from_loyalty_printer_or_the_option(cli, monkeypatch, tmp_path):
    from loyaltycli.customer import kiosk

    seen = []

    class Server:
        def run(self):
            pass

        def close(self):
            pass

    real = kiosk.create_app
    monkeypatch.setattr(kiosk, "create_app", lambda **kw: seen.append(kw["printer"]) or real(**kw))
    monkeypatch.setattr(kiosk, "make_server", lambda app, **kw: Server())
    monkeypatch.setenv("LOYALTY_PRINTER", "tcp://192.0.2.7:9100")
    assert cli("kiosk").exit_code == 0
    assert cli("kiosk", "--printer", str(tmp_path / "slips.bin")).exit_code == 0
    monkeypatch.setenv("LOYALTY_PRINTER", "")
    assert cli("kiosk").exit_code == 0
    assert seen == ["tcp://192.0.2.7:9100", str(tmp_path / "slips.bin"), None]
