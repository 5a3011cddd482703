"""Commands that guess well (issue 17): did you mean, words in usage lines, whole-number points."""

from __future__ import annotations

import pytest


def usage_error(result, text):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert text in result.stderr, result.stderr


@pytest.mark.parametrize("args,hint", [
    (("purchase", "C000001", "10", "--reciept", "R1"), "no such option --reciept; did you mean --receipt?"),
    (("redeem", "C000001", "100", "--baskt", "3"), "no such option --baskt; did you mean --basket?"),
    (("refund", "R1", "--amout", "3"), "no such option --amout; did you mean --amount?"),
    (("purchase", "C000001", "--amout", "3"),
     "no such option --amout; AMOUNT is given without an option name: loyalty purchase KEY AMOUNT"),
    (("customer", "list", "--serch", "x"), "no such option --serch; did you mean --search?"),
])
def test_misspelled_options_get_did_you_mean(cli, args, hint):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--no-input")
    usage_error(cli(*args), f"Error: {hint}")


def test_negative_numbers_and_dash_values_are_still_values(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--no-input")
    cli("award", "C000001", "100", "--reason", "x")
    result = cli("award", "C000001", "-5", "--reason", "-x")
    assert result.exit_code == 0, result.stderr


def test_unknown_program_setting_gets_did_you_mean(cli):
    result = cli("program", "set", "curency", "USD")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: unknown setting 'curency'; did you mean currency? see "
                                     "`loyalty program show` for the keys")


@pytest.mark.parametrize("command,usage", [
    (("purchase",), "Usage: loyalty purchase [OPTIONS] KEY AMOUNT"),
    (("redeem",), "Usage: loyalty redeem [OPTIONS] KEY [POINTS]"),
    (("award",), "Usage: loyalty award [OPTIONS] KEY POINTS"),
])
def test_usage_lines_show_words(cli, command, usage):
    result = cli(*command, "--help")
    assert result.exit_code == 0 and usage in result.stdout
    for internal in ("{", "[[", "<str>", "<list[str]>", "<int>"):
        assert internal not in result.stdout, internal


def test_purchase_help_names_values_in_words(cli):
    out = cli("purchase", "--help").stdout
    assert "--item TEXT" in out and "--receipt TEXT" in out


def test_fractional_points_are_refused_in_words(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--no-input")
    fractional = cli("redeem", "C000001", "100.5")  # a value the option does not take: bad input, one line
    assert fractional.exit_code == 1, fractional.stderr
    assert fractional.stderr == "error: Invalid value for 'POINTS': points are whole numbers, e.g. 100\n"
    usage_error(cli("customer", "show"), "Missing argument 'KEY'")


def shop(cli):
    cli("enroll", "Ann Walsh", "--email", "ann@example.ie", "--birthday", "1990-07-02", "--no-input",
        "--at", "2025-01-01T10:00:00")
    assert cli("purchase", "C000001", "24.50", "--receipt", "R-1005", "--at", "2025-06-01T10:00:00").exit_code == 0


def test_customer_show_csv_is_one_row_of_the_profile(cli):
    shop(cli)
    result = cli("customer", "show", "C000001", "--csv")
    assert result.exit_code == 0
    header, row, *rest = result.stdout.splitlines()
    assert rest == [] and header.startswith("code,name,phone,email,card,birthday")
    assert row.startswith("C000001,Ann Walsh,,ann@example.ie,,1990-07-02")


def test_csv_refused_where_it_does_not_apply(cli):
    result = cli("program", "dump", "--csv")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: program dump prints TOML; --csv does not apply "
                                     "(for a table: loyalty program show --csv)")


def test_plurals_agree_with_their_count(cli):
    shop(cli)
    result = cli("award", "C000001", "1", "--reason", "a penny")
    assert result.stdout == "C000001: +1 point (a penny); balance 1\n"  # the 74 expired by now: spendable
    result = cli("expire", "--as-of", "2026-06-14")
    assert result.stdout == ("expired 74 points of 1 customer (as of the end of 2026-06-14; 1 checked)\n"
                             ), result.stdout


def test_expire_reports_the_day_it_was_given(cli):
    result = cli("expire", "--as-of", "2026-06-01")
    assert result.exit_code == 0
    assert result.stdout == "expired 0 points of 0 customers (as of the end of 2026-06-01; 0 checked)\n"


def test_birthdays_as_of_a_future_day_plans_but_does_not_award(cli):
    shop(cli)
    result = cli("birthdays", "--as-of", "2026-07-01", "--days", "3", "--csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("C000001,Ann Walsh,1990-07-02,2026-07-02,36,no,0")
    refused = cli("birthdays", "--as-of", "2026-07-01", "--award")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("error: --as-of 2026-07-01 is in the future: list its birthdays without "
                                      "--award to plan, and award them on the day")


def test_merged_customer_balance_and_show_say_where_it_went(cli):
    shop(cli)
    cli("enroll", "Ann W.", "--phone", "0851234567", "--no-input")
    merge = cli("customer", "merge", "C000001", "C000002", "--yes")
    if merge.exit_code == 2:  # before the confirmation (issue 16) exists
        merge = cli("customer", "merge", "C000001", "C000002")
    assert merge.exit_code == 0, merge.stderr
    result = cli("balance", "C000002")
    assert result.exit_code == 0
    assert result.stdout == "C000002 Ann W.: merged into C000001; its points are there (loyalty balance C000001)\n"
    assert cli.json("balance", "C000002")["merged_into"] == "C000001"
    show = cli("customer", "show", "C000002")
    assert show.exit_code == 0 and "merged into C000001" in show.stdout
    assert cli.json("customer", "show", "C000002")["merged_into"] == "C000001"
    assert cli.json("customer", "show", "C000001")["merged_into"] is None


def test_receipt_ids_are_found_in_any_case(cli):
    shop(cli)
    result = cli("refund", "r-1005", "--amount", "4.50")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("C000001: refunded 4.50 of receipt R-1005")
    unknown = cli("refund", "r-9999")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: unknown receipt 'r-9999'; see `loyalty history KEY` for receipt ids"


def test_referral_refusals_name_the_real_reason(cli):
    shop(cli)
    ann = cli.json("customer", "show", "C000001")["referral_code"]
    cli("enroll", "Bob", "--email", "bob@example.ie", "--no-input")
    cli("purchase", "C000002", "5.00", "--receipt", "B-1")
    late = cli("referral", "add", "C000002", ann)
    assert late.exit_code == 1
    assert late.stderr.startswith("error: a referral code is accepted only at enrollment (or the same day, "
                                  "before the first purchase): C000002 already bought (receipt B-1, ")
    own = cli("referral", "add", "C000001", ann)
    assert own.stderr.strip() == f"error: self-referral: code {ann} is C000001's own code"


def test_hints_are_shell_quoted(cli):
    result = cli("balance", "Ann Walsh")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: unknown customer 'Ann Walsh'; try "
                                     "`loyalty customer list --search 'Ann Walsh'`")


def test_postgres_urls_are_read_and_others_refused_in_shop_words(cli):
    from loyaltycli.store.db import resolve_url

    assert resolve_url("postgres://till:pw@db.example.ie/chain") == "postgresql+psycopg://till:pw@db.example.ie/chain"
    assert resolve_url("postgresql://till@db/chain") == "postgresql+psycopg://till@db/chain"
    result = cli("--db", "foo://x", "balance", "C1")
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        "error: cannot use database foo://x: not a kind of database loyalty knows; give a file path (shop.db), "
        "sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE")
