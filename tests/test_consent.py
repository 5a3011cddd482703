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

    from loyaltycli.core.models import ConsentRecord

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
    assert rows == [(1, "2025-01-10 09:00:00.000000", 1,
                     "recorded before loyaltycli kept consent records (time: enrollment)")]
    shown = cli.json("--db", str(path), "customer", "show", "C000001")
    assert shown["consent_at"] == "2025-01-10T09:00:00+00:00"
