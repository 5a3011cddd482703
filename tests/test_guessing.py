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
    usage_error(cli("redeem", "C000001", "100.5"), "Invalid value for 'POINTS': points are whole numbers, e.g. 100")
    usage_error(cli("customer", "show"), "Missing argument 'KEY'")
