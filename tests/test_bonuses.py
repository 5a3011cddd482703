"""Welcome, milestone, birthday, surprise awards, year-end rebate, and channels."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from loyaltycli.services import bonuses, customers, points
from loyaltycli.shop import clock
from loyaltycli.store import ledger
from loyaltycli.base.errors import RuleNotMet
from loyaltycli.store.models import LedgerEntry


def at(text: str):
    return clock.parse_timestamp(text)


def test_welcome_bonus_and_its_setting(cli):
    assert cli.json("enroll", "Ann", "--email", "ann@example.ie")["balance"] == 50
    cli("program", "set", "welcome_bonus", "0")
    assert cli.json("enroll", "Bob", "--email", "bob@example.ie")["balance"] == 0


def test_milestone_once_a_year(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-01")
    assert cli.json("purchase", "C000001", "480.00", "--at", "2025-11-01")["bonuses"] == []
    second = cli.json("purchase", "C000001", "20.00", "--at", "2025-11-02")
    assert [(b["kind"], b["points"]) for b in second["bonuses"]] == [("milestone", 250)]
    third = cli.json("purchase", "C000001", "100.00", "--at", "2025-11-03")  # tier Silver now: x1.25
    assert (third["points"], third["bonuses"]) == (125, [])
    # spendable now (2026-06-15): the welcome bonus of 2025-01-01 has expired
    assert cli.json("balance", "C000001")["balance"] == 480 + 20 + 250 + 125
    # a new year: the milestone can be reached again (Silver x1.25 on 500.00 = 625)
    again = cli.json("purchase", "C000001", "500.00", "--at", "2026-01-10")
    assert (again["points"], [b["points"] for b in again["bonuses"]]) == (625, [250])


def test_surprise_award(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie")
    result = cli("award", "C000001", "100", "--reason", "sorry for the wait")
    assert result.stdout == "C000001: +100 points (sorry for the wait); balance 150\n"
    assert cli.json("history", "C000001")[-1]["note"] == "sorry for the wait"
    assert cli("award", "C000001", "100", "--reason", " ").exit_code == 1


@pytest.fixture
def birthdays_shop(cli):
    for name, bday in (("Ann", "1990-06-15"), ("Bob", "1985-06-20"), ("Cat", "2000-12-31"), ("Dee", "")):
        args = ["enroll", name, "--email", f"{name.lower()}@example.ie", "--at", "2026-01-01"]
        cli(*(args + (["--birthday", bday] if bday else [])))


def test_birthdays_list_and_award_once_a_year(cli, birthdays_shop):
    today = cli.json("birthdays")
    assert [(r["code"], r["on"], r["age"], r["awarded"]) for r in today] == [("C000001", "2026-06-15", 36, False)]
    week = cli.json("birthdays", "--days", "7")
    assert [r["code"] for r in week] == ["C000001", "C000002"]
    result = cli("birthdays", "--days", "7", "--award")
    assert result.stdout == "birthday bonus: 2 customers, 200 points (0 had it already)\n"
    assert cli.json("balance", "C000001")["balance"] == 150
    again = cli("birthdays", "--days", "7", "--award")
    assert again.stdout == "birthday bonus: 0 customers, 0 points (2 had it already)\n"
    assert cli.json("balance", "C000002")["balance"] == 150
    assert cli.json("history", "C000002")[-1]["note"] == "happy birthday (2026-06-20)"


def test_birthdays_window_crosses_the_new_year(cli, birthdays_shop):
    rows = cli.json("birthdays", "--as-of", "2025-12-30", "--days", "3")
    assert rows == []  # nobody was enrolled yet on 2025-12-30
    cli("program", "set", "birthday_bonus", "75")
    cli("enroll", "Eve", "--email", "eve@example.ie", "--birthday", "1999-01-01", "--at", "2025-06-01")
    rows = cli.json("birthdays", "--as-of", "2025-12-30", "--days", "3", "--award")
    assert [(r["code"], r["on"], r["points"]) for r in rows] == [("C000005", "2026-01-01", 75)]
    keys = [r["note"] for r in cli.json("history", "C000005")]
    assert keys[-1] == "happy birthday (2026-01-01)"


def test_birthday_bonus_off_refuses_award(cli, birthdays_shop):
    cli("program", "set", "birthday_bonus", "0")
    result = cli("birthdays", "--award")
    assert result.exit_code == 1
    assert result.stderr == ("error: birthday_bonus is 0 (off); set it with "
                             "`loyalty program set birthday_bonus 100`\n")


def test_leap_day_birthday():
    assert bonuses.birthday_in(2027, date(2000, 2, 29)) == date(2027, 2, 28)
    assert bonuses.birthday_in(2028, date(2000, 2, 29)) == date(2028, 2, 29)


def test_birthday_bonus_key_is_per_year(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", birthday="1990-03-01",
                           at=at("2025-01-01"))
    assert bonuses.birthdays(session, program, as_of=date(2025, 3, 1), award=True).awarded == 1
    assert bonuses.birthdays(session, program, as_of=date(2025, 3, 1), award=True).awarded == 0
    assert bonuses.birthdays(session, program, as_of=date(2026, 3, 1), award=True).awarded == 1
    keys = session.execute(select(LedgerEntry.bonus_key).where(LedgerEntry.kind == "birthday")
                           .order_by(LedgerEntry.id)).scalars().all()
    assert keys == ["birthday:2025", "birthday:2026"]
    assert ledger.balance(session, ann.id) == 50 + 100 + 100


@pytest.fixture
def rebate_shop(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2025-01-01")
    cli("enroll", "Bob", "--email", "bob@example.ie", "--at", "2025-01-01")
    cli("enroll", "Cat", "--email", "cat@example.ie", "--at", "2025-01-01")
    cli("purchase", "C000001", "1000.00", "--receipt", "A1", "--at", "2025-03-01")
    cli("refund", "A1", "--amount", "100.00", "--at", "2025-03-05")
    cli("purchase", "C000002", "10.00", "--at", "2025-12-31T23:00")
    cli("purchase", "C000003", "80.00", "--at", "2026-01-01T00:00")  # 2026: not in the 2025 rebate


def test_rebate_dry_run_then_once_per_year(cli, rebate_shop):
    before = {c: cli.json("balance", c)["balance"] for c in ("C000001", "C000002", "C000003")}
    dry = cli.json("rebate", "--year", "2025", "--percent", "2", "--dry-run")
    # Ann: 2% of net 900.00 = 18.00 = 360 points at 0.05; Bob: 2% of 10.00 = 0.20 = 4 points
    assert dry["rebates"] == [{"code": "C000001", "name": "Ann", "spend": "900.00", "points": 360, "currency": "EUR"},
                              {"code": "C000002", "name": "Bob", "spend": "10.00", "points": 4, "currency": "EUR"}]
    assert (dry["points"], dry["dry_run"], dry["already_rebated"]) == (364, True, 0)
    assert {c: cli.json("balance", c)["balance"] for c in before} == before
    result = cli("rebate", "--year", "2025", "--percent", "2")
    assert result.stdout == "year-end rebate for 2025: 364 points given to 2 customers (0 already had it)\n"
    assert cli.json("balance", "C000001")["balance"] == before["C000001"] + 360
    assert cli.json("balance", "C000002")["balance"] == before["C000002"] + 4
    assert cli.json("balance", "C000003")["balance"] == before["C000003"]
    again = cli.json("rebate", "--year", "2025", "--percent", "5")
    assert (again["points"], again["customers"], again["already_rebated"]) == (0, 0, 2)
    assert cli.json("history", "C000001")[-1]["note"] == "year-end rebate: 2% of 900.00 spent in 2025"


def test_rebate_refuses_an_unfinished_year(cli, rebate_shop):
    result = cli("rebate", "--year", "2026", "--percent", "2")
    assert result.exit_code == 1
    assert result.stderr == "error: 2026 has not ended yet; the rebate is paid on a finished year's spend\n"
    assert cli("rebate", "--year", "2025", "--percent", "0").exit_code == 1


def test_rebate_core_uses_point_value(session, program):
    from loyaltycli.store.program import set_setting, load_program

    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=at("2025-01-01"))
    points.post_purchase(session, program, ann, 12345, at=at("2025-05-01"))
    set_setting(session, "point_value", "0.10")
    run = bonuses.rebate(session, load_program(session), 2025, "3")
    # 3% of 123.45 = 3.7035 -> 37 points at 0.10 (3.70)
    assert [c["points"] for c in run.customers] == [37]
    with pytest.raises(RuleNotMet):
        bonuses.rebate(session, program, 2026, "3")


def test_channel_travels_with_every_purchase(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie")
    online = cli.json("purchase", "C000001", "12.00", "--channel", "Online", "--receipt", "W-1")
    assert online["channel"] == "online"
    cli("purchase", "C000001", "8.00", "--receipt", "S-1")
    notes = [r["note"] for r in cli.json("history", "C000001") if r["kind"] == "earn"]
    assert notes == ["receipt W-1 12.00 online (Bronze x1)", "receipt S-1 8.00 store (Bronze x1)"]
    bad = cli("purchase", "C000001", "8.00", "--channel", "web shop")
    assert bad.exit_code == 1
    assert bad.stderr == "error: channel 'web shop' must be a short word such as store or online\n"
