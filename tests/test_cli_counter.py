"""The counter flow through the CLI: exit codes, messages, balances computed by hand."""

import json

import pytest


def enroll(cli, name="Aoife Byrne", *extra):
    result = cli("enroll", name, *extra)
    assert result.exit_code == 0, result.output
    return result


def refused(result, message, code=1):
    """A refusal: the exit code, one line on stderr with the message, no traceback, nothing on stdout."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_enroll_gives_the_welcome_bonus_and_spec_keys(cli):
    data = cli.json("enroll", "Aoife Byrne", "--phone", "085 123 4567", "--email", "Aoife@Example.IE")
    for key in ("code", "name", "phone", "email", "balance", "tier", "referral_code"):
        assert key in data
    assert data["code"] == "C000001"
    assert data["phone"] == "+353851234567"
    assert data["email"] == "aoife@example.ie"
    assert data["balance"] == 50
    assert data["tier"] == "Bronze"
    assert len(data["referral_code"]) == 8


def test_enroll_one_line_for_people(cli):
    result = enroll(cli, "Aoife Byrne")
    assert result.stdout.startswith("enrolled C000001 Aoife Byrne: balance 50 points, tier Bronze, referral code ")


def test_purchase_earns_one_point_per_whole_unit(cli):
    enroll(cli)
    data = cli.json("purchase", "C000001", "24.99", "--receipt", "R-1")
    assert data == {**data, "receipt_id": "R-1", "code": "C000001", "amount": "24.99", "points": 24,
                    "balance": 74, "tier": "Bronze"}
    assert cli.json("balance", "C000001") == {**cli.json("balance", "C000001"), "code": "C000001",
                                             "balance": 74, "tier": "Bronze"}


def test_global_options_anywhere_on_the_line(cli):
    enroll(cli)
    first = json.loads(cli("--json", "balance", "C000001").stdout)
    second = json.loads(cli("balance", "C000001", "--json").stdout)
    assert first == second and first["balance"] == 50


def test_tiers_follow_the_rolling_window_and_the_milestone_pays_once_a_year(cli):
    assert cli("program", "set", "expiry_days", "0").exit_code == 0
    enroll(cli, "Aoife Byrne", "--at", "2025-01-01T10:00:00")
    # 400.00 at Bronze: 400 points.
    assert cli.json("purchase", "C1", "400.00", "--at", "2025-06-01T10:00")["points"] == 400
    # 200.00: spend before it is 400 (Bronze): 200 points; the year's spend reaches 600: +250 milestone.
    second = cli.json("purchase", "C1", "200.00", "--at", "2025-07-01T10:00")
    assert second["points"] == 200
    assert [(b["kind"], b["points"]) for b in second["bonuses"]] == [("milestone", 250)]
    # 100.00: 600 of spend in the window: Silver x1.25 = 125 points; no second milestone in 2025.
    third = cli.json("purchase", "C1", "100.00", "--at", "2025-08-01T10:00")
    assert (third["points"], third["earn_tier"], third["bonuses"]) == (125, "Silver", [])
    # 2026-06-10: the window [2025-06-10, 2026-06-10) holds 200 + 100 = 300: back to Bronze.
    fourth = cli.json("purchase", "C1", "100.00", "--at", "2026-06-10T10:00")
    assert (fourth["points"], fourth["earn_tier"]) == (100, "Bronze")
    assert fourth["balance"] == 50 + 400 + 200 + 250 + 125 + 100


def test_multipliers_round_down_per_purchase(cli):
    assert cli("program", "set", "tiers", "Bronze:0:1.25").exit_code == 0
    enroll(cli)
    # 19.99 -> 19 whole units x 1.25 = 23.75 -> 23
    assert cli.json("purchase", "C1", "19.99")["points"] == 23


def test_line_items_must_add_up(cli):
    enroll(cli)
    ok = cli("purchase", "C1", "9.00", "--item", "COF-250:2:4.50")
    assert ok.exit_code == 0
    refused(cli("purchase", "C1", "10.00", "--item", "COF-250:2:4.50", "--receipt", "X"),
            "items add up to 9.00 but the amount is 10.00")
    refused(cli("purchase", "C1", "10.00", "--item", "COF-250:two:5"), "quantity 'two' is not a number like 2 or 0.750")
    for quantity in ("99999999", "0"):  # numbers, but no sale's quantity: said so, not "not a number"
        refused(cli("purchase", "C1", "10.00", "--item", f"COF-250:{quantity}:5"), "quantity must be 0.001 to 100000")


def test_weighed_items_and_receipt_ids_with_spaces_at_the_counter(cli, database):
    """Issue 12.4: half a loaf and a Portuguese document number, at the counter."""
    from sqlalchemy import select

    from loyaltycli.store.models import Purchase, PurchaseItem

    enroll(cli)
    ok = cli("purchase", "C1", "4.49", "--item", "PAO:0.5:3.00", "--item", "QUEIJO:0.125:23.90",
             "--receipt", "FS 2026/101")
    assert ok.exit_code == 0, ok.output
    with database.session() as s:
        assert s.execute(select(Purchase.receipt_id, Purchase.amount)).one() == ("FS 2026/101", 449)
        assert s.execute(select(PurchaseItem.sku, PurchaseItem.quantity_milli, PurchaseItem.unit_price,
                                PurchaseItem.amount).order_by(PurchaseItem.id)).all() == [
            ("PAO", 500, 300, 150), ("QUEIJO", 125, 2390, 299)]  # 2.9875 -> 2.99
    refused(cli("purchase", "C1", "1.00", "--receipt", "FS\t2026/1"), "must be 1 to 64 printable characters")


def test_refund_reverses_points_in_proportion(cli):
    enroll(cli)
    cli("purchase", "C1", "33.33", "--receipt", "R-9")          # 33 points -> 83
    first = cli.json("refund", "R-9", "--amount", "10.00")       # floor(33 * 10.00 / 33.33) = 9
    assert (first["points"], first["balance"], first["amount"]) == (-9, 74, "10.00")
    second = cli.json("refund", "R-9")                           # the rest: 33 - 9 = 24
    assert (second["points"], second["balance"], second["amount"]) == (-24, 50, "23.33")
    refused(cli("refund", "R-9"), "receipt R-9 is already fully refunded")


def test_refund_more_than_the_sale_is_refused(cli):
    enroll(cli)
    cli("purchase", "C1", "20.00", "--receipt", "R-1")
    refused(cli("refund", "R-1", "--amount", "25.00"),
            "refund 25.00 is more than what is left of receipt R-1 (20.00)")
    refused(cli("refund", "NOPE"), "unknown receipt 'NOPE'")
    assert cli.json("balance", "C1")["balance"] == 70


def test_redeem_rules(cli):
    enroll(cli)
    cli("purchase", "C1", "150.00")                               # 50 + 150 = 200
    refused(cli("redeem", "C1", "99"), "the minimum redemption is 100 points")
    refused(cli("redeem", "C1", "201"), "C000001 has 200 points; 201 needed")
    refused(cli("redeem", "C1", "120", "--basket", "5.00"), "120 points are worth 6.00, more than the basket 5.00")
    data = cli.json("redeem", "C1", "120", "--basket", "30.00")
    assert data == {**data, "code": "C000001", "points": 120, "value": "6.00", "balance": 80}
    assert cli.json("balance", "C1")["balance"] == 80


def test_minimum_basket(cli):
    cli("program", "set", "min_basket", "20.00")
    enroll(cli)
    cli("purchase", "C1", "150.00")
    refused(cli("redeem", "C1", "100"), "redemptions need a basket of at least 20.00")
    refused(cli("redeem", "C1", "100", "--basket", "19.99"), "basket 19.99 is below the minimum 20.00")
    assert cli("redeem", "C1", "100", "--basket", "20.00").exit_code == 0


def test_negative_balance_blocks_redemption(cli):
    enroll(cli)
    cli("purchase", "C1", "100.00", "--receipt", "R-1")          # 150
    assert cli.json("redeem", "C1", "150")["balance"] == 0
    assert cli.json("refund", "R-1")["balance"] == -100
    refused(cli("redeem", "C1", "100"), "C000001 has -100 points; 100 needed")


def test_duplicate_receipt_changes_nothing(cli):
    enroll(cli)
    cli("purchase", "C1", "10.00", "--receipt", "R-1")
    refused(cli("purchase", "C1", "99.00", "--receipt", "R-1"), "receipt R-1 was already recorded")
    assert cli.json("balance", "C1")["balance"] == 60
    assert len(cli.json("history", "C1")) == 2


def test_an_empty_receipt_id_is_refused_not_made_up(cli):
    enroll(cli)
    refused(cli("purchase", "C1", "10.00", "--receipt", ""), "receipt id '' must be 1 to 64 printable characters")
    refused(cli("purchase", "C1", "10.00", "--receipt", "   "), "receipt id '   ' must be 1 to 64 printable")
    assert len(cli.json("history", "C1")) == 1  # the welcome bonus only


@pytest.mark.parametrize("amount,message", [
    ("12.345", "has more than 2 decimals"), ("-5", "must not be negative"),
    ("1e309", "is not a decimal amount like 12.50"), ("abc", "is not a decimal amount"),
    ("0", "must be more than zero"), ("", "is not a decimal amount"),
    ("1000000000000", "is too large"),
])
def test_bad_amounts_are_refused_cleanly(cli, amount, message):
    enroll(cli)
    refused(cli("purchase", "C1", amount), message)
    assert cli.json("balance", "C1")["balance"] == 50


def test_unknown_customer(cli):
    refused(cli("balance", "C999"), "unknown customer 'C999'; try `loyalty customer list --search C999`")
    refused(cli("purchase", "nobody@example.ie", "5.00"), "unknown customer 'nobody@example.ie'")


def test_ambiguous_key_lists_the_matches(cli, database):
    from sqlalchemy import text

    enroll(cli, "First")
    enroll(cli, "Second")
    # a card shaped like a code is refused now; an older database may still hold one
    with database.session() as session:
        session.execute(text("UPDATE customer SET card = 'C000002' WHERE code = 'C000001'"))
    refused(cli("balance", "C000002"), "matches C000001 (First), C000002 (Second)")


def test_lookup_by_phone_email_card_and_short_code(cli):
    enroll(cli, "Aoife", "--phone", "0851234567", "--email", "a@example.ie", "--card", "6000100000001")
    for key in ("C000001", "c1", "+353 85 123 4567", "085-123-4567", "A@EXAMPLE.IE", "6000100000001"):
        assert cli.json("balance", key)["code"] == "C000001", key


def test_quotes_and_unicode_in_names_are_kept_verbatim(cli):
    name = "Seán O'Brien \"the boss\"; DROP TABLE customer;--  Zoë 🎉"
    code = cli.json("enroll", name)["code"]
    assert cli.json("customer", "show", code)["name"] == name.strip()
    assert cli.json("customer", "list", "--search", "o'brien")[0]["name"] == name.strip()
    assert cli.json("customer", "list", "--search", "%")  == []


@pytest.mark.parametrize("args,message", [
    (["--phone", "12"], "phone '12' is not a valid number"),
    (["--email", "not-an-email"], "e-mail 'not-an-email' is not valid"),
    (["--birthday", "2026-02-30"], "birthday '2026-02-30' is not a date"),
    (["--birthday", "2030-01-01"], "birthday is in the future"),
    (["--card", "x"], "card 'x' must be 4 to 40"),
    (["--at", "yesterday"], "--at 'yesterday' is not a date"),
    (["--referral-code", "ZZZZZZZZ"], "unknown referral code 'ZZZZZZZZ'"),
])
def test_enroll_refuses_bad_fields(cli, args, message):
    refused(cli("enroll", "Aoife", *args), message)
    assert cli.json("customer", "list") == []


def test_enroll_refuses_empty_name_and_duplicates(cli):
    refused(cli("enroll", "   "), "name is empty")
    enroll(cli, "Aoife", "--phone", "0851234567")
    refused(cli("enroll", "Other", "--phone", "+353851234567"),
            "phone +353851234567 already belongs to customer C000001")


def test_enroll_without_name_off_a_terminal(cli):
    refused(cli("enroll"), "give a NAME, --phone, --email, --card or --tax-id")


def test_enroll_by_phone_alone_is_shown_by_code_and_phone(cli):
    cli("program", "set", "country", "PT")
    data = cli.json("enroll", "--phone", "912345678")
    assert (data["code"], data["name"], data["phone"]) == ("C000001", None, "+351912345678")
    result = cli("--no-input", "enroll", "--phone", "912345679")
    assert result.exit_code == 0 and "C000002 912 345 679:" in result.stdout, result.stdout
    shown = cli("balance", "912345679").stdout
    assert shown.startswith("C000002 912 345 679: 50 points") and "None" not in shown, shown
    assert "C000002 912 345 679" in cli("customer", "show", "C000002").stdout


def test_enroll_prompts_on_a_terminal(cli, monkeypatch):
    from loyaltycli.cli import options, prompts

    monkeypatch.setattr(options.Options, "interactive", property(lambda self: True))
    monkeypatch.setattr(prompts, "enroll_flow", lambda program, **kw: {
        "name": "Prompted Person", "phone": "0851234567", "email": None, "card": None, "birthday": "1990-05-01",
        "referral_code": None, "email_offers": True, "sms_offers": False})
    data = cli.json("enroll")
    assert (data["name"], data["phone"], data["birthday"], data["consent"]) == (
        "Prompted Person", "+353851234567", "1990-05-01", True)
    monkeypatch.setattr(prompts, "enroll_flow", lambda program, **kw: None)
    refused(cli("enroll"), "enrollment cancelled; nothing was saved", code=130)


def test_referral_rewards_both_on_the_first_qualifying_purchase(cli):
    code = cli.json("enroll", "Referrer", "--email", "r@example.ie")["referral_code"]
    referee = cli.json("enroll", "Friend", "--referral-code", code.lower())
    assert referee["balance"] == 50
    assert cli.json("purchase", referee["code"], "9.99")["bonuses"] == []   # below 10.00
    data = cli.json("purchase", referee["code"], "10.00")
    assert [(b["kind"], b["points"]) for b in data["bonuses"]] == [("referral", 100), ("referral", 200)]
    assert data["balance"] == 50 + 9 + 10 + 100
    assert cli.json("balance", "C1")["balance"] == 50 + 200
    assert cli.json("purchase", referee["code"], "50.00")["bonuses"] == []  # once only


def test_self_referral_is_refused(cli):
    code = cli.json("enroll", "Referrer", "--email", "r@example.ie", "--phone", "0852222222")["referral_code"]
    refused(cli("enroll", "Me Again", "--email", "R@example.ie", "--referral-code", code),
            f"self-referral: code {code} belongs to C000001, who has the same phone or e-mail")
    refused(cli("enroll", "Me Again", "--phone", "+353852222222", "--referral-code", code), "self-referral")
    assert len(cli.json("customer", "list")) == 1


def test_history_is_a_statement_with_running_balance(cli):
    enroll(cli)
    cli("purchase", "C1", "100.00", "--receipt", "R-1", "--channel", "online")
    cli("redeem", "C1", "100")
    rows = cli.json("history", "C1")
    assert [(r["kind"], r["points"], r["balance"]) for r in rows] == [
        ("welcome", 50, 50), ("earn", 100, 150), ("redeem", -100, 50)]
    assert set(rows[0]) == {"at", "kind", "points", "balance", "note", "operator"}
    assert "R-1" in rows[1]["note"] and "online" in rows[1]["note"]
    csv_out = cli("history", "C1", "--csv").stdout.splitlines()
    assert csv_out[0] == "at,kind,points,balance,note,operator" and len(csv_out) == 4


def test_award_needs_a_reason_and_corrections_never_overdraw(cli):
    enroll(cli)
    assert cli("award", "C1", "25").exit_code == 2          # --reason is required
    refused(cli("award", "C1", "25", "--reason", "  "), "--reason is required")
    assert cli.json("award", "C1", "25", "--reason", "birthday cake")["balance"] == 75
    refused(cli("award", "C1", "-76", "--reason", "fix"), "C000001 has 75 points; cannot take back 76")
    assert cli.json("award", "C1", "-75", "--reason", "fix")["balance"] == 0
    refused(cli("award", "C1", "0", "--reason", "x"), "points must be a non-zero whole number")


def test_times_in_the_future_or_before_enrollment_are_refused(cli):
    enroll(cli, "Aoife", "--at", "2026-01-01T09:00")
    refused(cli("purchase", "C1", "5.00", "--at", "2026-07-01"), "is in the future")
    refused(cli("purchase", "C1", "5.00", "--at", "2025-12-31"), "is before C000001 enrolled")


def test_customer_show_tells_what_is_missing_for_the_next_tier(cli):
    enroll(cli)
    cli("purchase", "C1", "120.00")
    data = cli.json("customer", "show", "C1")
    assert (data["tier"], data["spend"], data["next_tier"], data["missing_for_next"]) == (
        "Bronze", "120.00", "Silver", "380.00")
    assert [r["kind"] for r in data["recent"]] == ["welcome", "earn"]
    table = cli("customer", "show", "C1").stdout
    assert "Silver: spend 380.00 more" in table


def test_customer_list_filters_and_csv(cli):
    enroll(cli, "Gold Buyer")
    enroll(cli, "Small Buyer")
    cli("purchase", "C1", "1600.00")
    assert [c["code"] for c in cli.json("customer", "list", "--tier", "gold")] == ["C000001"]
    assert [c["code"] for c in cli.json("customer", "list", "--search", "small")] == ["C000002"]
    lines = cli("customer", "list", "--csv").stdout.splitlines()
    assert lines[0] == "code,name,phone,email,card,balance,tier,spend"
    assert lines[1].startswith("C000001,Gold Buyer,,,,")
    refused(cli("customer", "list", "--tier", "Platinum"), "unknown tier 'Platinum'")


def test_customer_edit(cli):
    enroll(cli, "Aoife", "--email", "a@example.ie")
    data = cli.json("customer", "edit", "C1", "--name", "Aoife B", "--email", "", "--phone", "0851234567")
    assert (data["name"], data["email"], data["phone"]) == ("Aoife B", None, "+353851234567")
    refused(cli("customer", "edit", "C1"), "nothing to change")


def test_customer_edit_clears_a_name_but_never_leaves_nothing_to_find_a_customer_by(cli, database):
    from loyaltycli.store.models import Customer

    enroll(cli, "Aoife", "--phone", "0851234567")
    data = cli.json("customer", "edit", "C1", "--name", "")  # the name cleared: the phone is left
    assert (data["name"], data["phone"]) == (None, "+353851234567")
    assert cli("customer", "edit", "C1", "--name", "Aoife").stdout.strip() == "updated C000001 Aoife"
    refused(cli("customer", "edit", "C1", "--name", "", "--phone", ""),
            "C000001 would be left with nothing to find them by: keep a name, phone, e-mail, card or tax id")
    refused(cli("customer", "edit", "C1", "--birthday", "2090-01-01"), "birthday is in the future")
    with database.session() as session:  # both refusals changed nothing
        customer = session.get(Customer, 1)
        assert (customer.name, customer.phone, customer.birthday) == ("Aoife", "+353851234567", None)
    assert cli.json("enroll", "", "--phone", "0859876543")["name"] is None  # an empty NAME is no name


def test_usage_errors_exit_2(cli):
    assert cli("no-such-command").exit_code == 2
    assert cli("balance").exit_code == 2
    assert cli("purchase", "C1", "5", "--bogus").exit_code == 2


def test_version(cli):
    from loyaltycli import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"loyalty {__version__}"


def test_internal_errors_print_one_line_and_a_hint(cli, monkeypatch):
    from loyaltycli.store import ledger

    enroll(cli)
    monkeypatch.setattr(ledger, "spendable_and_expiring", lambda *a: 1 / 0)
    refused(cli("balance", "C1"), "internal error: ZeroDivisionError: division by zero (rerun with --debug")
    with pytest.raises(ZeroDivisionError):
        cli("--debug", "balance", "C1")


def test_a_reader_that_leaves_early_is_no_error(db_path, database):
    """`loyalty history KEY | head -1`: no 'internal error' when the pipe closes."""
    import subprocess
    import sys

    from loyaltycli.services import customers, points
    from loyaltycli.store.program import load_program
    from sqlalchemy import insert

    from loyaltycli.store.models import LedgerEntry

    with database.session() as session:
        program = load_program(session)
        customer = customers.enroll(session, program, "Busy", at=points.clock.parse_timestamp("2026-01-01"))
        when = points.clock.parse_timestamp("2026-02-01")
        points.award(session, program, customer, 1, "visit 0 " + "x" * 40, at=when)
        # 2,999 more rows like it, in one statement (a long history is what matters, not how it was written)
        award = session.query(LedgerEntry).filter_by(customer_id=customer.id, kind="award").one()
        session.execute(insert(LedgerEntry), [
            {"customer_id": customer.id, "kind": "award", "delta": 1, "at": when, "expires_at": award.expires_at,
             "note": f"visit {n} " + "x" * 40, "recorded_at": award.recorded_at} for n in range(1, 3000)])
    proc = subprocess.Popen([sys.executable, "-m", "loyaltycli", "history", "C000001", "--csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "error" not in err and "Traceback" not in err
