"""Consent to offers: when and how it was given is kept (consent_record), and the campaign export lists
consented customers only (issue 17)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_enroll_and_edit_keep_when_and_how(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--consent", "--consent-how", "signed paper form",
        "--no-input")
    ann = cli.json("customer", "show", "C000001")
    assert (ann["consent"], ann["consent_at"], ann["consent_how"]) == (
        True, "2026-06-15T12:00:00+00:00", "signed paper form")
    cli("enroll", "Bob", "--email", "bob@example.ie", "--no-input")
    bob = cli.json("customer", "show", "C000002")
    assert (bob["consent"], bob["consent_at"], bob["consent_how"]) == (False, None, None)
    assert cli("customer", "edit", "C000002", "--consent").exit_code == 0
    assert cli.json("customer", "show", "C000002")["consent_how"] == "loyalty customer edit --consent"
    show = cli("customer", "show", "C000002").stdout
    assert "agreed 2026-06-15 12:00, loyalty customer edit --consent" in show
    assert cli("customer", "edit", "C000001", "--no-consent").exit_code == 0
    assert cli.json("customer", "show", "C000001")["consent_at"] is None
    assert "no consent: not in campaign exports" in cli("customer", "show", "C000001").stdout


def test_every_change_is_a_record(cli, database):
    from sqlalchemy import select

    from loyaltycli.store.models import ConsentRecord

    cli("enroll", "Ann", "--email", "ann@example.ie", "--consent", "--no-input")
    cli("customer", "edit", "C000001", "--no-consent")
    cli("customer", "edit", "C000001", "--no-consent")  # no change, no record
    cli("customer", "edit", "C000001", "--consent", "--consent-how", "web form")
    with database.session(write=False) as s:
        rows = [(r.channel, r.given, r.how) for r in s.execute(select(ConsentRecord).order_by(ConsentRecord.id))
                .scalars()]
    # enrolling is joining (membership); --consent is the e-mail offers answer
    assert rows == [("membership", True, "loyalty enroll --consent"), ("email", True, "loyalty enroll --consent"),
                    ("email", False, "loyalty customer edit --no-consent"), ("email", True, "web form")]


def test_campaign_export_lists_consented_customers_only_unless_all(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--consent", "--no-input")
    cli("enroll", "Bob", "--email", "bob@example.ie", "--no-input")
    lines = cli("report", "segments", "--csv").stdout.splitlines()
    assert lines[0].endswith(",consent_at,consent_how")
    assert [line.split(",")[0] for line in lines[1:]] == ["C000001"]
    everyone = cli("report", "segments", "--csv", "--all").stdout.splitlines()
    assert [line.split(",")[0] for line in everyone[1:]] == ["C000001", "C000002"]
    members = cli.json("report", "segments", "--members")["members"]
    assert [m["code"] for m in members] == ["C000001"]


@pytest.mark.sqlite_only
def test_migration_backfills_consent_given_before_records(tmp_path, cli):
    from test_migrate import OLD_ROWS, migrated_db

    path = tmp_path / "old.db"
    migrated_db(path, "0001")
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_ROWS)
        conn.commit()
    assert cli("--db", str(path), "db", "upgrade").exit_code == 0
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT customer_id, at, given, how FROM consent_record").fetchall()
    assert rows == [(1, 1736499600_000000, 1,  # 2025-01-10 09:00 UTC in microseconds (0011_instants)
                     "recorded before loyaltycli kept consent records (time: enrollment)")]
    shown = cli.json("--db", str(path), "customer", "show", "C000001")
    assert shown["consent_at"] == "2025-01-10T09:00:00+00:00"


# -- consent per channel (issue 23): membership, e-mail offers, SMS offers ------------------------------------
def _answers(cli, key="C000001"):
    return {channel: (answer or {}).get("given") for channel, answer in
            cli.json("customer", "show", key)["consents"].items()}


def test_offers_are_no_unless_the_customer_says_yes(cli, database):
    from loyaltycli.services import consent
    from loyaltycli.store.models import Customer

    cli("enroll", "Ann", "--email", "ann@example.ie", "--phone", "0851234567", "--no-input")
    assert _answers(cli) == {"membership": True, "email": None, "sms": None}  # enrolling is joining
    with database.session(write=False) as s:
        ann = s.get(Customer, 1)
        assert not consent.may_send(s, ann, "email") and not consent.may_send(s, ann, "sms")
        assert consent.consenting(s, "email") == set() == consent.consenting(s, "sms")


@pytest.mark.shop_zone("UTC")
def test_each_channel_is_recorded_with_its_time_how_and_wording(cli, database):
    from loyaltycli.services import consent
    from loyaltycli.store.models import Customer

    assert cli("enroll", "Ann", "--email", "ann@example.ie", "--phone", "0851234567", "--email-offers",
               "--sms-offers", "--consent-how", "counter", "--consent-version", "form 2026-03").exit_code == 0
    shown = cli.json("customer", "show", "C000001")
    assert shown["consents"]["sms"] == {"given": True, "at": "2026-06-15T12:00:00+00:00", "how": "counter",
                                        "version": "form 2026-03"}
    assert (shown["consent"], shown["consent_how"]) == (True, "counter")  # the older keys: e-mail offers
    history = cli.json("customer", "consent", "C000001")
    assert [(r["channel"], r["given"], r["how"], r["version"], r["at"]) for r in history] == [
        (channel, True, "counter", "form 2026-03", "2026-06-15T12:00:00+00:00")
        for channel in ("membership", "email", "sms")]
    with database.session(write=False) as s:
        ann = s.get(Customer, 1)
        assert consent.may_send(s, ann, "email") and consent.may_send(s, ann, "sms")
        assert consent.consenting(s, "email") == {1}
    table = cli("customer", "show", "C000001").stdout
    assert "SMS offers" in table and "agreed 2026-06-15 12:00, counter (wording form 2026-03)" in table


def test_withdrawing_takes_effect_at_once_on_every_channel(cli, database):
    from loyaltycli.services import consent
    from loyaltycli.store.models import Customer

    cli("enroll", "Ann", "--email", "ann@example.ie", "--phone", "0851234567", "--email-offers", "--sms-offers")
    result = cli("customer", "consent", "C000001", "--withdraw", "all", "--how", "asked by phone")
    assert result.exit_code == 0
    assert result.stdout.strip() == "C000001: membership no, e-mail offers no, SMS offers no"
    assert _answers(cli) == {"membership": False, "email": False, "sms": False}
    with database.session(write=False) as s:
        ann = s.get(Customer, 1)
        assert not consent.may_send(s, ann, "email") and not consent.may_send(s, ann, "sms")
    rows = cli.json("customer", "consent", "C000001")
    assert [(r["channel"], r["given"], r["how"]) for r in rows[-3:]] == [
        ("membership", False, "asked by phone"), ("email", False, "asked by phone"), ("sms", False, "asked by phone")]
    assert cli.json("report", "segments", "--members")["members"] == []  # out of campaign exports at once
    # a yes again, on one channel: that channel only
    assert cli("customer", "consent", "C000001", "--grant", "sms").exit_code == 0
    assert _answers(cli) == {"membership": False, "email": False, "sms": True}
    assert cli.json("customer", "consent", "C000001")[-1]["how"] == "loyalty customer consent --grant sms"


def test_leaving_the_program_withdraws_its_offers(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--email-offers")
    assert cli("customer", "consent", "C000001", "--withdraw", "membership").exit_code == 0
    assert _answers(cli) == {"membership": False, "email": False, "sms": None}


def test_edit_flags_and_the_older_consent_flag_answer_the_email_channel(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--phone", "0851234567", "--consent")
    assert _answers(cli) == {"membership": True, "email": True, "sms": None}
    assert cli("customer", "edit", "C000001", "--sms-offers", "--no-email-offers").exit_code == 0
    assert _answers(cli) == {"membership": True, "email": False, "sms": True}
    assert cli.json("customer", "show", "C000001")["consents"]["sms"]["how"] == (
        "loyalty customer edit --no-email-offers --sms-offers")


def test_bad_consent_answers_are_refused_and_change_nothing(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie")
    before = cli.json("customer", "consent", "C000001")
    for args, message in [
        (("--grant", "fax"), "error: unknown consent channel 'fax'; give email, sms, membership or all"),
        (("--grant", "email", "--withdraw", "all"),
         "error: --grant and --withdraw both name email; give one answer per channel"),
        (("--grant", "email", "--how", "counter\x1b[2J"),
         "error: how consent was given contains a control character (\\x1b); type plain text"),
        (("--grant", "email", "--wording", "v\u202e1"),
         "error: consent wording version contains a control character (\\u202e); type plain text"),
        (("--withdraw", "sms", "--wording", "v2"),
         "error: --wording is the version of the wording agreed to: give it with --grant"),
    ]:
        result = cli("customer", "consent", "C000001", *args)
        assert (result.exit_code, result.stderr.strip()) == (1, message), args
    assert cli("enroll", "Bob", "--email-offers", "--consent-how", "x\x07").exit_code == 1
    assert cli.json("customer", "consent", "C000001") == before
    assert len(cli.json("customer", "list")) == 1


def test_forget_withdraws_and_merge_carries_the_later_answers(cli, database):
    from loyaltycli.services import consent

    cli("enroll", "Ann", "--email", "ann@example.ie", "--email-offers", "--at", "2026-06-01T09:00:00+00:00")
    cli("enroll", "Ann W", "--phone", "0851234567", "--sms-offers")
    assert cli("customer", "merge", "C000001", "C000002", "--yes").exit_code == 0
    assert _answers(cli) == {"membership": True, "email": True, "sms": True}
    assert cli.json("customer", "show", "C000001")["consents"]["sms"]["how"] == (
        "loyalty enroll --sms-offers (answered as C000002, merged)")
    assert cli("customer", "forget", "C000001", "--yes").exit_code == 0
    assert _answers(cli) == {"membership": False, "email": False, "sms": False}
    with database.session(write=False) as s:
        assert consent.consenting(s, "email") == set() == consent.consenting(s, "sms")


def test_library_answers_and_may_send(session, program):
    from loyaltycli.services import consent
    from loyaltycli.services import customers

    kiosk = customers.enroll(session, program, "Rita", email="rita@example.pt", consent_how="kiosk",
                             consents={"membership": True, "email": True, "sms": False},
                             consent_version="kiosk-1", language="pt")
    assert kiosk.language == "pt_PT"
    assert consent.may_send(session, kiosk, "email") and not consent.may_send(session, kiosk, "sms")
    assert [(r["channel"], r["given"], r["version"]) for r in consent.history(session, kiosk.id)] == [
        ("membership", True, "kiosk-1"), ("email", True, "kiosk-1")]  # a no never asked before: no row
    assert consent.grant(session, kiosk, ["email"], how="kiosk", version="kiosk-1") == []  # the same yes
    assert len(consent.grant(session, kiosk, ["email"], how="kiosk", version="kiosk-2")) == 1  # new wording
    consent.withdraw(session, kiosk, how="e-mail link")
    assert not consent.may_send(session, kiosk, "email")
    no_address = customers.enroll(session, program, "Sam", consents={"email": True}, consent_how="import")
    assert not consent.may_send(session, no_address, "email")  # nowhere to send it
    with pytest.raises(ValueError):
        consent.may_send(session, kiosk, "membership")


def test_how_loyaltycli_recorded_an_answer_is_shown_in_the_readers_language(cli, monkeypatch):
    cli("enroll", "Ana", "--email", "ana@example.pt")
    assert cli("customer", "consent", "C000001", "--grant", "sms", "--how", "kiosk").exit_code == 0
    assert cli("customer", "consent", "C000001", "--grant", "email", "--how", "papel assinado").exit_code == 0
    monkeypatch.setenv("LOYALTY_LANG", "pt_PT")
    shown = cli("customer", "show", "C000001").stdout
    assert "quiosque" in shown and "papel assinado" in shown  # ours translated; what staff typed, as typed
    assert cli.json("customer", "show", "C000001")["consents"]["sms"]["how"] == "kiosk"  # stored as recorded
