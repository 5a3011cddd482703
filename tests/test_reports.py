"""Reports: figures computed by hand on small shops, through the CLI (JSON keys as in SPEC) and the core."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from loyaltycli.reports import sql as report_sql, aggregates as reports


def enroll(cli, name, at):
    result = cli("enroll", name, "--at", at, "--email", f"{name.split()[0].lower()}@example.ie", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["code"]


def buy(cli, code, amount, at, *items, channel="store", receipt=None):
    args = ["purchase", code, amount, "--at", at, "--channel", channel]
    for item in items:
        args += ["--item", item]
    if receipt:
        args += ["--receipt", receipt]
    result = cli(*args)
    assert result.exit_code == 0, result.output + result.stderr


# ---------------------------------------------------------------- period

@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_period_defaults_to_the_last_365_days_up_to_now():
    period = report_sql.make_period()
    # up to now, now included
    assert period.end == datetime(2026, 6, 15, 12, 0, 0, 1, tzinfo=timezone.utc)
    assert period.start == datetime(2025, 6, 15, 12, 0, 0, 1, tzinfo=timezone.utc)
    period = report_sql.make_period(date(2026, 1, 1), date(2026, 2, 1))
    assert (period.start.isoformat(), period.end.isoformat(), period.days) == (
        "2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00", 31)
    assert report_sql.make_period(end=date(2026, 1, 1)).start == datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-03-01", "--to", "2026-03-01"], "--from must be before --to (the period is [from, to))"),
    (["--from", "2026-13-01"], "--from '2026-13-01' is not a date like 2026-03-01"),
])
def test_bad_periods_are_refused(cli, args, message):
    for report in ("tiers", "retention", "summary"):
        result = cli("report", report, *args)
        assert result.exit_code == 1
        assert result.stderr.strip() == f"error: {message}"


# ---------------------------------------------------------------- retention

@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_retention_by_hand(cli):
    # Period [2026-01-01, 2026-06-01). A customer counts at D when enrolled before D and enrolled or
    # bought within the 365 days before D.
    a = enroll(cli, "Ann Gone", "2024-01-10T09:00")        # bought 2025-03-01: counts at start, not at end
    buy(cli, a, "10.00", "2025-03-01T10:00")
    b = enroll(cli, "Bob Stays", "2024-05-01T09:00")       # bought 2025-12-01 and 2026-03-01: both
    buy(cli, b, "10.00", "2025-12-01T10:00")
    buy(cli, b, "10.00", "2026-03-01T10:00")
    enroll(cli, "Cara Quiet", "2025-08-01T09:00")          # enrolled within 365 days of both dates
    d = enroll(cli, "Dan Old", "2023-01-01T09:00")         # last bought 2024-06-01: neither
    buy(cli, d, "10.00", "2024-06-01T10:00")
    e = enroll(cli, "Eve New", "2026-02-01T09:00")         # new in the period, counts at end
    buy(cli, e, "10.00", "2026-02-05T10:00")
    enroll(cli, "Fin New", "2026-05-31T09:00")             # new in the period, counts at end
    enroll(cli, "Gus Later", "2026-06-05T09:00")           # after the period: nowhere
    data = cli.json("report", "retention", "--from", "2026-01-01", "--to", "2026-06-01")
    assert data == cli.json("report", "retention", "--from", "2026-01-01T00:00", "--to", "2026-06-01T00:00:00Z")
    # S = 3 (A, B, C), E = 4 (B, C, E, F), N = 2 (E, F)
    # CRR = (4 - 2) / 3 x 100 = 66.7; churn = (3 + 2 - 4) / (3 + 2) x 100 = 20
    assert {k: data[k] for k in ("start_count", "end_count", "new", "crr", "churn")} == {
        "start_count": 3, "end_count": 4, "new": 2, "crr": 66.7, "churn": 20.0}
    lines = cli("report", "retention", "--from", "2026-01-01", "--to", "2026-06-01", "--csv").stdout.splitlines()
    assert lines == ["from,to,start_count,end_count,new,crr,churn",
                     "2026-01-01 00:00,2026-06-01 00:00,3,4,2,66.7,20.0"]


def test_retention_core_with_no_customers(session, program):
    data = reports.retention_report(session, program, report_sql.make_period())
    assert (data["start_count"], data["end_count"], data["new"], data["crr"], data["churn"]) == (0, 0, 0, None, None)


# ---------------------------------------------------------------- CLV

def test_clv_by_hand(cli):
    x = enroll(cli, "Xena First", "2024-06-01T09:00")
    buy(cli, x, "20.00", "2024-06-15T12:00")                # before the period: only sets her first purchase
    buy(cli, x, "100.00", "2025-07-01T12:00")
    buy(cli, x, "50.00", "2025-09-01T12:00")                # lifespan 2024-06-15 .. 2025-09-01 = 443 days
    y = enroll(cli, "Yuri Brief", "2026-01-01T09:00")
    buy(cli, y, "30.00", "2026-01-10T12:00", receipt="Y-1")
    buy(cli, y, "20.00", "2026-02-10T12:00")                # lifespan 31 days -> one period (365 days)
    assert cli("refund", "Y-1", "--amount", "10.00", "--at", "2026-03-01T12:00").exit_code == 0
    data = cli.json("report", "clv", "--from", "2025-06-15", "--to", "2026-06-15")
    # AOV = (150 + 50 - 10) / 4 sales = 47.50; purchases per customer per year = 4 / 2 / 1 = 2
    # lifespan = (443 + 365) / 2 / 365 = 1.1068 years; CLV = 47.50 x 2 x 1.1068 = 105.15
    assert data["customers"] == 2 and data["orders"] == 4
    assert (data["spend"], data["aov"], data["purchases_per_year"], data["lifespan_years"], data["clv"]) == (
        "190.00", "47.50", 2.0, 1.11, "105.15")
    bronze = data["by_tier"][0]
    assert bronze["tier"] == "Bronze" and bronze["clv"] == "105.15"
    assert data["by_tier"][1] == {"tier": "Silver", "customers": 0, "orders": 0, "spend": "0.00", "aov": None,
                                  "purchases_per_year": None, "lifespan_years": None, "clv": None,
                                  "currency": "EUR"}


# ---------------------------------------------------------------- upsell

def test_upsell_ratio_by_hand(cli):
    a = enroll(cli, "Ann Multi", "2025-01-01T09:00")
    buy(cli, a, "15.00", "2026-03-01T10:00", "COF-250:1:10.00", "MUG-001:1:5.00")      # 2 products: multi
    b = enroll(cli, "Bob Single", "2025-01-01T09:00")
    buy(cli, b, "10.00", "2026-03-01T10:00", "COF-250:1:10.00")
    buy(cli, b, "20.00", "2026-04-01T10:00", "COF-250:2:10.00")                         # same product: single
    c = enroll(cli, "Cara Multi", "2025-01-01T09:00")
    buy(cli, c, "10.00", "2026-03-01T10:00", "COF-250:1:10.00")
    buy(cli, c, "4.00", "2026-03-02T10:00", "TEA-100:1:4.00")                           # across sales: multi
    d = enroll(cli, "Dan NoItems", "2025-01-01T09:00")
    buy(cli, d, "12.00", "2026-03-01T10:00")                                            # no line items: not counted
    e = enroll(cli, "Eve Single", "2025-01-01T09:00")
    buy(cli, e, "8.00", "2026-03-01T10:00", "SCN-001:4:2.00")                           # single
    f = enroll(cli, "Fin Multi", "2025-01-01T09:00")
    buy(cli, f, "9.00", "2026-03-01T10:00", "SCN-001:1:2.00", "JAM-001:1:7.00")         # multi
    buy(cli, f, "7.00", "2025-01-05T10:00", "HON-001:1:7.00")                           # outside the period
    data = cli.json("report", "upsell", "--from", "2026-01-01")
    # multi: A, C, F = 3; single: B, E = 2 -> 1.5
    assert (data["customers_multi"], data["customers_single"], data["customers"], data["ratio"]) == (3, 2, 5, 1.5)


# ---------------------------------------------------------------- redemption

def test_redemption_rate_and_baskets_by_hand(cli):
    a = enroll(cli, "Ann Redeemer", "2026-01-01T09:00")                  # welcome 50
    buy(cli, a, "100.00", "2026-02-01T10:00")                            # +100 points
    assert cli("redeem", a, "100", "--at", "2026-02-01T10:05").exit_code == 0   # 100 points = 5.00
    buy(cli, a, "20.00", "2026-02-03T10:00")                             # +20
    b = enroll(cli, "Bob Saver", "2025-01-01T09:00")                     # welcome before the period
    buy(cli, b, "30.00", "2026-03-03T10:00")                             # +30
    data = cli.json("report", "redemption", "--from", "2026-01-01", "--to", "2026-06-01")
    # earned = 50 + 100 + 20 + 30 = 200; redeemed 100 -> rate 0.5
    assert (data["points_earned"], data["points_redeemed"], data["rate"]) == (200, 100, 0.5)
    assert (data["redemptions"], data["value"]) == (1, "5.00")
    # with a redemption the same day: the 100.00 sale; without: 20.00 and 30.00 -> 25.00
    assert (data["sales_with_redemption"], data["avg_basket_with"]) == (1, "100.00")
    assert (data["sales_without_redemption"], data["avg_basket_without"]) == (2, "25.00")


# ---------------------------------------------------------------- tiers and channels

def test_tiers_by_hand(cli):
    a = enroll(cli, "Ann Silver", "2025-01-01T09:00")
    buy(cli, a, "600.00", "2026-01-10T10:00")
    b = enroll(cli, "Bob Gold", "2025-01-01T09:00")
    buy(cli, b, "1000.00", "2026-01-10T10:00")
    buy(cli, b, "600.00", "2026-02-10T10:00", receipt="B-2")
    c = enroll(cli, "Cara Close", "2025-01-01T09:00")                   # 450 of 500: close to Silver
    buy(cli, c, "450.00", "2026-03-10T10:00")
    enroll(cli, "Dan Nothing", "2025-01-01T09:00")
    e = enroll(cli, "Eve Refunded", "2025-01-01T09:00")                 # 520 - 100 refunded = 420: close too
    buy(cli, e, "520.00", "2026-03-10T10:00", receipt="E-1")
    assert cli("refund", "E-1", "--amount", "100.00", "--at", "2026-04-01T10:00").exit_code == 0
    data = cli.json("report", "tiers")
    assert [{k: r[k] for k in ("tier", "customers", "spend")} for r in data] == [
        {"tier": "Bronze", "customers": 3, "spend": "870.00"},
        {"tier": "Silver", "customers": 1, "spend": "600.00"},
        {"tier": "Gold", "customers": 1, "spend": "1600.00"}]
    assert [r["close_to_next"] for r in data] == [2, 0, 0]
    assert [r["share"] for r in data] == [28.3, 19.5, 52.1]   # of 3070.00: 870, 600, 1600
    table = cli("report", "tiers").stdout
    assert "Close to the next tier" in table and "Cara Close" in table and "50.00" in table
    csv_lines = cli("report", "tiers", "--csv").stdout.splitlines()
    assert csv_lines[0] == "tier,customers,spend,share,close_to_next"
    assert csv_lines[3] == "Gold,1,1600.00,52.1,0"


def test_tiers_core_lists_who_is_close(cli, database):
    from loyaltycli.store.program import load_program

    a = enroll(cli, "Ann Almost", "2025-01-01T09:00")
    buy(cli, a, "1300.00", "2026-01-10T10:00")                          # Silver, 200 short of Gold (1200+)
    with database.session(write=False) as s:
        program = load_program(s)
        data = reports.tiers_report(s, program, report_sql.make_period(), close_list=5)
    assert data["close_to_next"] == [{"code": a, "name": "Ann Almost", "phone": None, "tier": "Silver",
                                      "qualifying_spend": 130000, "next_tier": "Gold", "missing": 20000}]


def test_a_nameless_customer_is_named_by_the_phone_even_in_a_narrow_table(cli, monkeypatch):
    result = cli("enroll", "--phone", "0851234567", "--at", "2025-01-01T09:00", "--json")
    assert result.exit_code == 0, result.stderr
    code = json.loads(result.stdout)["code"]
    buy(cli, code, "1300.00", "2026-01-10T10:00")  # Silver, close to Gold
    monkeypatch.setenv("COLUMNS", "60")  # too narrow for the phone column: the name column says it
    listed = cli("customer", "list").stdout
    assert "085 123 4567" in listed, listed
    close = cli("report", "tiers").stdout
    assert code in close and "085 123 4567" in close, close
    assert cli.json("customer", "list")[0]["name"] is None  # scripts see the stored name: none


def test_shares_read_as_percentages_the_shops_way_and_stay_numbers_for_scripts(cli, monkeypatch):
    assert cli("program", "set", "country", "PT").exit_code == 0
    a = enroll(cli, "Ana Loja", "2025-01-01T09:00")
    buy(cli, a, "10.00", "2026-02-01T10:00")
    buy(cli, a, "20.00", "2026-02-02T10:00", channel="online", receipt="O-1")
    monkeypatch.setenv("COLUMNS", "120")
    shown = cli("report", "channels", "--from", "2026-01-01", "--to", "2026-03-01").stdout
    assert "33,3\u00a0%" in shown and "66,7\u00a0%" in shown, shown
    assert cli.json("report", "channels", "--from", "2026-01-01", "--to", "2026-03-01")[0]["share"] in (33.3, 66.7)
    assert "\u00a0%" in cli("report", "tiers").stdout


def test_channels_by_hand(cli):
    a = enroll(cli, "Ann Shopper", "2025-01-01T09:00")
    buy(cli, a, "10.00", "2026-02-01T10:00")
    buy(cli, a, "30.00", "2026-02-02T10:00", receipt="S-2")
    buy(cli, a, "50.00", "2026-02-03T10:00", channel="online", receipt="O-1")
    b = enroll(cli, "Bob Online", "2025-01-01T09:00")
    buy(cli, b, "70.00", "2026-02-03T10:00", channel="online")
    assert cli("refund", "O-1", "--amount", "20.00", "--at", "2026-02-04T10:00").exit_code == 0
    data = cli.json("report", "channels")
    assert data == [
        {"channel": "online", "sales": 2, "gross": "120.00", "refunds": "20.00", "spend": "100.00",
         "customers": 2, "avg_basket": "60.00", "share": 71.4, "currency": "EUR"},
        {"channel": "store", "sales": 2, "gross": "40.00", "refunds": "0.00", "spend": "40.00",
         "customers": 1, "avg_basket": "20.00", "share": 28.6, "currency": "EUR"}]


# ---------------------------------------------------------------- segments

@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_segments_by_hand_and_campaign_export(cli):
    # now = 2026-06-15 12:00
    champ = enroll(cli, "Cha Champion", "2025-01-01T09:00")
    for day in range(1, 7):                                      # 6 sales, last 2026-06-06, 600.00
        buy(cli, champ, "100.00", f"2026-06-{day:02d}T10:00")
    loyal = enroll(cli, "Lou Loyal", "2025-01-01T09:00")
    for month in (3, 4, 5, 6):                                   # 4 sales, last 2026-06-01
        buy(cli, loyal, "10.00", f"2026-{month:02d}-01T10:00")
    occ = enroll(cli, "Oli Occasional", "2025-01-01T09:00")
    buy(cli, occ, "10.00", "2026-06-05T10:00")                   # 1 recent sale
    new = enroll(cli, "Nia New", "2026-05-01T09:00")             # enrolled 45 days ago
    risk = enroll(cli, "Rik Risk", "2025-01-01T09:00")
    buy(cli, risk, "10.00", "2026-02-10T10:00")                  # 125 days ago
    lapsed = enroll(cli, "Lea Lapsed", "2025-01-01T09:00")
    buy(cli, lapsed, "10.00", "2025-11-01T10:00")                # 226 days ago
    assert cli("customer", "edit", lapsed, "--consent").exit_code == 0
    assert "members" not in cli.json("report", "segments")
    data = cli.json("report", "segments", "--members", "--all")
    counts = {s["segment"]: s["customers"] for s in data["segments"]}
    assert counts == {"champions": 1, "loyal": 1, "occasional": 1, "new": 1, "at risk": 1, "lapsed": 1}
    members = {m["code"]: m for m in data["members"]}
    assert {code: members[code]["segment"] for code in (champ, loyal, occ, new, risk, lapsed)} == {
        champ: "champions", loyal: "loyal", occ: "occasional", new: "new", risk: "at risk", lapsed: "lapsed"}
    assert (members[champ]["recency_days"], members[champ]["frequency"], members[champ]["monetary"]) == (
        9, 6, "600.00")
    assert members[new]["recency_days"] is None and members[new]["frequency"] == 0
    lines = cli("report", "segments", "--segment", "lapsed", "--consented", "--csv").stdout.splitlines()
    assert lines == ["code,name,phone,email,consent,segment,recency_days,frequency,monetary,consent_at,consent_how",
                     f"{lapsed},Lea Lapsed,,lea@example.ie,yes,lapsed,226,1,10.00,2026-06-15 12:00,"
                     "loyalty customer edit --consent"]
    # the campaign export lists consented customers only, unless --all (internal use)
    assert len(cli("report", "segments", "--csv").stdout.splitlines()) == 2
    assert len(cli("report", "segments", "--csv", "--all").stdout.splitlines()) == 7
    result = cli("report", "segments", "--segment", "vip", "--csv")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: unknown segment 'vip'; segments are champions, loyal, occasional, "
                                     "new, at risk, lapsed")


# ---------------------------------------------------------------- summary and suggestions

def test_summary_dashboard(cli):
    a = enroll(cli, "Ann Summary", "2026-01-05T09:00")
    buy(cli, a, "100.00", "2026-02-01T10:00")
    buy(cli, a, "50.00", "2026-04-01T10:00")
    assert cli("survey", a, "--nps", "10", "--at", "2026-04-02T10:00", "--comment", "Grand").exit_code == 0
    data = cli.json("report", "summary", "--from", "2026-01-01", "--to", "2026-05-01")
    assert (data["customers"], data["new"], data["sales"], data["spend"], data["aov"]) == (1, 1, 2, "150.00", "75.00")
    assert (data["points_earned"], data["points_redeemed"], data["nps"], data["crr"], data["churn"]) == (
        200, 0, 100, None, 0)
    assert [(m["month"], m["sales"], m["spend"], m["points_earned"], m["nps"]) for m in data["monthly"]] == [
        ("2026-01", 0, "0.00", 50, None), ("2026-02", 1, "100.00", 100, None), ("2026-03", 0, "0.00", 0, None),
        ("2026-04", 1, "50.00", 50, 100)]
    table = cli("report", "summary", "--from", "2026-01-01", "--to", "2026-05-01")
    assert table.exit_code == 0
    assert "Summary, 2026-01-01 to 2026-05-01" in table.stdout and "Grand" in table.stdout
    assert "2026-02" in table.stdout and "█" in table.stdout
    csv_lines = cli("report", "summary", "--from", "2026-01-01", "--to", "2026-05-01", "--csv").stdout.splitlines()
    assert csv_lines[0] == "month,sales,spend,points_earned,points_redeemed,nps"
    assert csv_lines[2] == "2026-02,1,100.00,100,0,"


def test_every_report_runs_on_an_empty_shop_in_every_format(cli):
    for report in ("tiers", "nps", "retention", "clv", "redemption", "upsell", "channels", "segments", "summary"):
        for fmt in ((), ("--csv",)):
            result = cli("report", report, *fmt)
            assert result.exit_code == 0, (report, fmt, result.output)


def test_customer_suggest_by_hand(cli):
    a = enroll(cli, "Ann Target", "2025-01-01T09:00")
    buy(cli, a, "15.00", "2026-03-01T10:00", "COF-250:1:10.00", "MUG-001:1:5.00")
    b = enroll(cli, "Bob Twin", "2025-01-01T09:00")       # shares COF and MUG
    buy(cli, b, "19.00", "2026-03-02T10:00", "COF-250:1:10.00", "MUG-001:1:5.00", "TEA-100:1:4.00")
    c = enroll(cli, "Cara Cousin", "2025-01-01T09:00")    # shares COF only
    buy(cli, c, "22.00", "2026-03-03T10:00", "COF-250:1:10.00", "CAK-001:1:5.00", "JAM-001:1:7.00")
    d = enroll(cli, "Dan Stranger", "2025-01-01T09:00")   # nothing in common
    buy(cli, d, "9.00", "2026-03-04T10:00", "XYZ-001:1:9.00")
    data = cli.json("customer", "suggest", a)
    # TEA: bought by Bob (2 shared products); CAK, JAM: by Cara (1 shared); XYZ never
    assert data == [{"sku": "TEA-100", "description": "", "score": 2, "buyers": 1},
                    {"sku": "CAK-001", "description": "", "score": 1, "buyers": 1},
                    {"sku": "JAM-001", "description": "", "score": 1, "buyers": 1}]
    assert cli.json("customer", "suggest", a, "--limit", "1") == [
        {"sku": "TEA-100", "description": "", "score": 2, "buyers": 1}]
    result = cli("customer", "suggest", d)
    assert result.exit_code == 0 and "nothing to suggest" in result.stdout
    assert cli("customer", "suggest", "C000999").exit_code == 1


def test_readme_documents_every_report_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Surveys and reports", 1)[1].split("\n## ", 1)[0]
    for command in ("survey KEY", "report tiers", "report nps", "report retention", "report clv",
                    "report redemption", "report upsell", "report channels", "report segments", "report summary",
                    "customer suggest"):
        assert f"`loyalty {command}" in section or f"`{command}" in section, command


def test_report_commands_have_help_with_an_example(cli):
    from loyaltycli.cli.reports import report_app

    for command in report_app.registered_commands:
        assert command.callback.__doc__.strip().splitlines()[-1].strip().startswith("Example: loyalty report ")
    assert cli("report", "--help").exit_code == 0


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_core_nps_report_in_one_session(session, program):
    from loyaltycli.services import customers, surveys

    customer = customers.enroll(session, program, "Core Respondent", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    for day, score in enumerate([10, 9, 9, 8, 7, 6, 5, 10, 3, 9], start=1):
        surveys.record_survey(session, customer, nps=score, at=datetime(2026, 3, day, tzinfo=timezone.utc))
    surveys.record_survey(session, None, csat=3, at=datetime(2026, 3, 20, tzinfo=timezone.utc))
    data = reports.nps_report(session, program, report_sql.make_period(date(2026, 3, 1), date(2026, 4, 1)))
    assert (data["responses"], data["promoters"], data["passives"], data["detractors"], data["nps"]) == (
        10, 5, 2, 3, 20.0)
    assert (data["csat_responses"], data["csat"]) == (1, 0.0)
    assert data["by_tier"][0] == {"tier": "Bronze", "responses": 10, "nps": 20.0}


def test_pct_ratio_and_charts():
    from loyaltycli.cli.render import bar, sparkline

    assert report_sql.pct(2, 3) == 66.7 and report_sql.pct(1, 0) is None
    assert report_sql.ratio(3, 2) == 1.5 and report_sql.ratio(1, 0) is None
    assert sparkline([0, 5, 10, None]) == "▁▄█ "
    assert sparkline([0, 0]) == "▁▁" and sparkline([None]) == " "
    assert bar(5, 10, 10) == "█████" and bar(0, 10) == "" and bar(-3, 10) == ""


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_default_period_includes_what_happened_just_now(cli):
    a = enroll(cli, "Ann Now", "2025-01-01T09:00")
    buy(cli, a, "12.00", "2026-06-15T12:00")                 # now (pinned)
    buy(cli, a, "8.00", "2025-06-15T11:59")                  # 365 days and a minute ago: outside
    assert cli("survey", a, "--nps", "9").exit_code == 0     # answered now
    assert cli.json("report", "nps")["responses"] == 1
    assert cli.json("report", "channels") == [
        {"channel": "store", "sales": 1, "gross": "12.00", "refunds": "0.00", "spend": "12.00", "customers": 1,
         "avg_basket": "12.00", "share": 100.0, "currency": "EUR"}]
    assert cli.json("report", "summary")["monthly"][-1]["spend"] == "12.00"


def test_upsell_lists_the_most_bought_products_with_their_names(cli, tmp_path):
    """The description column of an import names the products the reports list (issue 12)."""
    till = tmp_path / "retail.csv"
    till.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2026-03-01 08:26,2.55,17850,United Kingdom\n"
        "536365,71053,WHITE METAL LANTERN,6,2026-03-01 08:26,3.39,17850,United Kingdom\n"
        "536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,2026-03-02 08:28,2.55,13047,United Kingdom\n"
        "536367,22960,JAM MAKING SET WITH JARS,1,2026-03-03 08:34,4.25,13047,United Kingdom\n"
        "536368,22960,JAM MAKING SET WITH JARS,3,2025-03-03 08:34,4.25,12583,United Kingdom\n"  # outside
    )
    assert cli("import", till, "--preset", "uci-online-retail", "--enroll-unknown").exit_code == 0
    data = cli.json("report", "upsell", "--from", "2026-01-01")
    assert (data["customers_multi"], data["customers_single"]) == (2, 0)
    assert data["products"] == [
        {"sku": "85123A", "description": "WHITE HANGING HEART T-LIGHT HOLDER", "customers": 2, "quantity": "8"},
        {"sku": "71053", "description": "WHITE METAL LANTERN", "customers": 1, "quantity": "6"},
        {"sku": "22960", "description": "JAM MAKING SET WITH JARS", "customers": 1, "quantity": "1"}]
    shown = cli("report", "upsell", "--from", "2026-01-01")
    assert shown.exit_code == 0 and "Most bought products" in shown.stdout
    assert "WHITE HANGING HEART T-LIGHT" in shown.stdout
    assert cli("report", "upsell", "--csv").stdout.splitlines()[0] == "customers,customers_multi,customers_single,ratio"


def test_the_same_day_of_a_redemption_is_the_shops_local_day(cli):
    """Bucharest in summer is UTC+3: a redemption at 01:00 local is the day before in UTC."""
    assert cli("program", "set", "timezone", "Europe/Bucharest").exit_code == 0
    a = enroll(cli, "Ana Local", "2026-01-01T09:00")
    buy(cli, a, "80.00", "2026-06-09T23:30")                # 20:30Z on 06-09: the redemption's UTC day only
    assert cli("redeem", a, "100", "--at", "2026-06-10T01:00").exit_code == 0   # 22:00Z on 06-09
    buy(cli, a, "100.00", "2026-06-10T20:00")               # 17:00Z on 06-10: the same local day
    data = cli.json("report", "redemption", "--from", "2026-06-01", "--to", "2026-07-01")
    assert (data["sales_with_redemption"], data["avg_basket_with"]) == (1, "100.00")
    assert (data["sales_without_redemption"], data["avg_basket_without"]) == (1, "80.00")


def test_offsets_of_the_shop_zone_change_to_the_second():
    from datetime import datetime, timezone

    from loyaltycli.shop import clock

    clock.use_zone("Europe/Lisbon")
    try:
        shifts = clock.offsets(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))
    finally:
        clock.use_zone(None)
    assert shifts == [(datetime(2026, 1, 1, tzinfo=timezone.utc), 0),
                      (datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), 3600),
                      (datetime(2026, 10, 25, 1, 0, tzinfo=timezone.utc), 0)]
