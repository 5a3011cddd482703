"""Where the shop is: `init --country`, `program set country`, each place setting validated, max_purchase."""

from __future__ import annotations

import pytest

PLACES = {
    "PT": ("EUR", "PT", "Europe/Lisbon", "pt_PT"),
    "RO": ("RON", "RO", "Europe/Bucharest", "ro_RO"),
    "IT": ("EUR", "IT", "Europe/Rome", "it_IT"),
    "ES": ("EUR", "ES", "Europe/Madrid", "es_ES"),
    "IE": ("EUR", "IE", "Europe/Dublin", "en_IE"),
    "GB": ("GBP", "GB", "Europe/London", "en_GB"),
}


@pytest.mark.parametrize("code", sorted(PLACES))
def test_init_country_sets_the_place_and_says_so(cli, code):
    result = cli("init", "--country", code.lower())
    assert result.exit_code == 0, result.stderr
    currency, region, zone, locale = PLACES[code]
    assert (f"set country = {code}, currency = {currency}, phone_region = {region}, timezone = {zone}, "
            f"locale = {locale}") in result.stdout
    shown = cli.json("program", "show")
    assert (shown["country"], shown["currency"], shown["phone_region"], shown["timezone"], shown["locale"]) == \
        (code, currency, region, zone, locale)


def test_program_set_country_then_each_alone(cli):
    data = cli.json("program", "set", "country", "ro")
    assert data["set"] == {"country": "RO", "currency": "RON", "phone_region": "RO",
                           "timezone": "Europe/Bucharest", "locale": "ro_RO"}
    assert cli.json("program", "set", "currency", "eur")["value"] == "EUR"
    assert cli.json("program", "show")["timezone"] == "Europe/Bucharest"


def test_program_load_of_a_country_brings_its_place_unless_the_file_says(cli, tmp_path):
    shop = tmp_path / "shop.toml"
    shop.write_text('country = "RO"\nlocale = "en_IE"\n')
    assert cli("program", "load", str(shop)).exit_code == 0
    shown = cli.json("program", "show")
    assert (shown["country"], shown["currency"], shown["timezone"], shown["locale"]) == (
        "RO", "RON", "Europe/Bucharest", "en_IE")
    shop.write_text('country = "UK"\n')
    result = cli("program", "load", str(shop))
    assert result.exit_code == 1 and "did you mean GB?" in result.stderr
    assert cli.json("program", "show")["currency"] == "RON"


def test_a_country_derived_from_babel_and_the_zone_table(cli):
    data = cli.json("program", "set", "country", "HU")
    assert data["set"]["currency"] == "HUF" and data["set"]["timezone"] == "Europe/Budapest"
    assert data["set"]["locale"] == "hu_HU"


@pytest.mark.parametrize("key,value,message", [
    ("country", "UK", "'UK' is not an ISO 3166 region code; did you mean GB?"),
    ("country", "XX", "'XX' is not an ISO 3166 region code"),
    ("phone_region", "UK", "did you mean GB?"),
    ("phone_region", "XX", "is not an ISO 3166 region code"),
    ("currency", "EURO", "is not an ISO 4217 currency code"),
    ("currency", "XYZ", "is not an ISO 4217 currency code"),
    ("timezone", "Europe/Atlantis", "is not an IANA time zone"),
    ("locale", "xx_YY", "is not a known locale"),
    ("max_purchase", "lots", "is not a decimal amount"),
])
def test_place_settings_are_validated(cli, key, value, message):
    before = cli.json("program", "show")
    result = cli("program", "set", key, value)
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert cli.json("program", "show") == before


def test_init_with_an_unknown_country_changes_nothing(cli):
    result = cli("init", "--country", "UK")
    assert result.exit_code == 1 and "did you mean GB?" in result.stderr
    assert cli.json("program", "show")["currency"] == "EUR"


def test_phone_region_is_upper_cased_and_used(cli):
    assert cli.json("program", "set", "phone_region", "pt")["value"] == "PT"
    data = cli.json("enroll", "Rui", "--phone", "912 345 678", "--no-input")
    assert data["phone"] == "+351912345678"


def test_a_sale_above_max_purchase_is_refused_in_scripts(cli):
    cli("enroll", "Ana", "--no-input")
    result = cli("purchase", "C000001", "912345678")
    assert result.exit_code == 1
    assert "is more than max_purchase 10000.00" in result.stderr
    assert cli.json("balance", "C000001")["balance"] == 50
    assert cli("purchase", "C000001", "10000.00").exit_code == 0
    assert cli.json("program", "set", "max_purchase", "20000")["value"] == "20000.00"
    assert cli("purchase", "C000001", "15000.00").exit_code == 0


def test_a_sale_above_max_purchase_asks_on_a_terminal(cli, monkeypatch):
    from loyaltycli.cli import options, prompts

    cli("enroll", "Ana", "--no-input")
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: not self.no_input))
    asked = []
    monkeypatch.setattr(prompts, "confirm", lambda question: asked.append(question) or answer)
    answer = False
    result = cli("purchase", "C000001", "12000", "--receipt", "BIG1")
    assert len(asked) == 1 and asked[0].startswith("12000.00 is more than max_purchase 10000.00 (")
    assert asked[0].endswith(". Record it anyway?")
    assert result.exit_code == 1 and result.stderr.strip() == "error: purchase cancelled; nothing was recorded"
    assert cli.json("balance", "C000001")["balance"] == 50
    answer = True
    result = cli("purchase", "C000001", "12000", "--receipt", "BIG1")
    assert result.exit_code == 0, result.stderr
    assert cli.json("balance", "C000001")["balance"] == 50 + 12000 + 250  # and the milestone


@pytest.mark.parametrize("country,key,typed,stored", [
    ("PT", "min_basket", "12,50", "12.50"),
    ("PT", "max_purchase", "12.345,60 €", "12345.60"),
    ("RO", "milestone_spend", "1.500,00 lei", "1500.00"),
    ("IT", "point_value", "0,05", "0.05"),
    ("IE", "referral_min_purchase", "€1,500.00", "1500.00"),
    ("PT", "visit_min_amount", "5.00", "5.00"),  # one reading: a decimal point works everywhere
])
def test_program_set_reads_amounts_the_shops_way(cli, country, key, typed, stored):
    assert cli("init", "--country", country).exit_code == 0
    assert cli.json("program", "set", key, typed)["value"] == stored
    assert cli.json("program", "show")[key] == stored


@pytest.mark.parametrize("country,typed,message", [
    ("IE", "2,500", "could be €2,500.00 or €2.50"),
    ("PT", "20 RON", "is in RON; this shop counts in EUR"),
])
def test_program_set_refuses_an_amount_with_two_readings_or_another_currency(cli, country, typed, message):
    assert cli("init", "--country", country).exit_code == 0
    result = cli("program", "set", "min_basket", typed)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert cli.json("program", "show")["min_basket"] == "0.00"


def test_card_min_amount_is_typed_the_shops_way(cli):
    assert cli("init", "--country", "PT").exit_code == 0
    data = cli.json("card", "add", "Café", "--stamps", "10", "--reward", "Um café", "--min-amount", "2,50")
    assert data["min_amount"] == "2.50"


def test_one_phone_formatter():
    from loyaltycli.services.customers import shown_phone

    assert shown_phone("+351912345678", "PT") == "912 345 678"
    assert shown_phone("+40712345678", "PT") == "+40 712 345 678"
    assert shown_phone("+351912345678") == "+351 912 345 678"
    assert shown_phone("not a phone", "PT") == "not a phone" and shown_phone(None, "PT") is None


def test_a_phone_typed_the_shops_way_finds_the_customer_in_every_command(cli):
    """A Portuguese mobile typed without +351 names the customer in commands that look it up without
    loading the whole program (history, redeem history...), not only in those that do."""
    assert cli("init", "--country", "PT").exit_code == 0
    assert cli("enroll", "Rui", "--phone", "+351 912 345 678", "--no-input").exit_code == 0
    assert cli.json("history", "912345678")[0]["kind"] == "welcome"
    assert cli.json("balance", "912 345 678")["code"] == "C000001"
    assert cli.json("customer", "show", "912345678")["phone"] == "+351912345678"
