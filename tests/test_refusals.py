"""A refusal that quotes what was typed (a KEY, a value, a name) quotes at most 40 characters of it and an
ellipsis: a value of 5,000 characters is never echoed whole, in any language. The rule is
base.errors.shortened, applied where messages are formatted (every ``{value!r}`` of a translated message)."""

from __future__ import annotations

import pytest

LONG = "x" * 5000
SHOWN = "'" + "x" * 40 + "…'"


@pytest.fixture
def customer(cli):
    assert cli("enroll", "Ann", "--phone", "0851234567", "--no-input").exit_code == 0
    return cli


@pytest.mark.parametrize("args", [
    ("customer", "show", LONG),
    ("balance", LONG),
    ("purchase", "C000001", LONG),
    ("program", "set", "welcome_bonus", LONG),
    ("program", "set", LONG, "1"),
    ("enroll", "Bob", "--birthday", LONG),
    ("report", "tiers", "--from", LONG),
    ("slip", LONG),
    ("refund", LONG),
    ("redeem", "C000001", "--reward", LONG),
], ids=lambda args: " ".join(a if len(a) < 20 else "LONG" for a in args))
@pytest.mark.parametrize("lang", ["en", "pt_PT"])
def test_a_refusal_quotes_a_long_input_shortened(customer, monkeypatch, args, lang):
    from loyaltycli import i18n

    monkeypatch.setenv("LOYALTY_LANG", lang)
    i18n.reset()
    result = customer(*args)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 400, result.stderr[:400]
    assert SHOWN in result.stderr, result.stderr
    assert "x" * 41 not in result.stderr


def test_a_short_input_is_quoted_whole(customer):
    result = customer("customer", "show", "nobody@example.ie")
    assert result.stderr == ("error: unknown customer 'nobody@example.ie'; try `loyalty customer list --search "
                             "nobody@example.ie`\n")
    key = "y" * 40  # 40 characters: as typed
    assert f"'{key}'" in customer("customer", "show", key).stderr


def test_the_rule_in_the_library():
    from loyaltycli.base.errors import QUOTED_MAX, shortened
    from loyaltycli.i18n import gettext, ngettext

    assert QUOTED_MAX == 40
    assert shortened("a" * 41) == "a" * 40 + "…" and shortened("a" * 40) == "a" * 40
    assert shortened(12345) == 12345  # not text: as it is
    long = "z" * 100
    assert gettext("unknown setting {key!r}; see `loyalty program show` for the keys").format(key=long) == (
        f"unknown setting '{'z' * 40}…'; see `loyalty program show` for the keys")
    # only quoted fields: a count, a code or an unquoted text is left whole
    assert gettext("{key}: {exc}").format(key=long, exc="e") == f"{long}: e"
    assert ngettext("{n} {x!r}", "{n} {x!r}", 2).format(n=long, x=long) == f"{long} '{'z' * 40}…'"
    assert "{0!r} and {1!r}".format("q" * 50, "w") == repr("q" * 50) + " and 'w'"  # noqa: UP030 (plain str: untouched)
    assert gettext("{0!r} and {1!r}").format("q" * 50, "w") == repr("q" * 40 + "…") + " and 'w'"
    assert gettext("{!r}/{}").format(long, long) == repr("z" * 40 + "…") + "/" + long
