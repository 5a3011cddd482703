"""Customer commands: enroll, customer show / list / edit."""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.cli import fail, options
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _, ngettext

customer_app = typer.Typer(help="Look up, list and edit customers.", no_args_is_help=True)


def _money(cents):
    from loyaltycli.base.money import money

    return money(cents)


def _shown_phone(e164):
    """A phone as the shop's region writes it (core.customers.shown_phone, the one formatter)."""
    from loyaltycli.shop import place
    from loyaltycli.services.customers import shown_phone

    return shown_phone(e164, place.get("phone_region", "IE"))


def who(name: str | None, phone: str | None) -> str:
    """How people see a customer next to its code: the name, else the phone as the shop writes it (a
    customer enrolled by phone alone is `C000002 912 345 678`, never `C000002 None`)."""
    return name or _shown_phone(phone) or ""


def customer_json(acct: dict) -> dict:
    """The public JSON of a customer (SPEC keys first)."""
    out = dict(acct)
    out["spend"] = _money(acct["spend"])
    out["missing_for_next"] = _money(acct["missing_for_next"])
    out["recent"] = [{"at": r["at"], "kind": r["kind"], "points": r["points"], "balance": r["balance"],
                      "note": r["note"]} for r in acct["recent"]]
    return out


def show_account(acct: dict) -> None:
    """A customer's card for people: profile, balance, tier progress, expiring points, recent rows."""
    from loyaltycli.cli.render import table, table_of_fields

    data = customer_json(acct)
    if options.current.json:
        emit(data)
        return
    if options.current.csv:  # one row: the profile (the statement is `history KEY --csv`)
        emit({k: v for k, v in data.items() if not isinstance(v, list)})
        return
    fields = {k: data[k] for k in ("code", "name", "phone", "email", "card", "birthday", "enrolled_at", "balance",
                                   "tier", "spend", "referral_code", "tax_id")}
    fields["phone"] = _shown_phone(fields["phone"])
    if data["consent"]:
        from loyaltycli.shop.clock import local_text

        fields["offers"] = (_("agreed {when}, {how}").format(when=local_text(data["consent_at"]),
                                                              how=data["consent_how"]) if data.get("consent_at")
                            else _("agreed"))
    else:
        fields["offers"] = _("no consent: not in campaign exports")
    if data.get("merged_into"):
        fields["status"] = _("merged into {code}: its points and purchases are there").format(
            code=data["merged_into"])
    elif data["status"] != "active":
        fields["status"] = data["status"]
    if data["next_tier"]:
        fields["next tier"] = _("{tier}: spend {amount} more within the window").format(
            tier=data["next_tier"], amount=data["missing_for_next"])
    else:
        fields["next tier"] = _("top tier reached")
    for lot in data["expiring_soon"]:
        fields.setdefault("expiring soon", "")
        from loyaltycli.shop.clock import local_text

        fields["expiring soon"] += ngettext("{points} point on {day}", "{points} points on {day}",
                                           abs(lot["points"])).format(points=lot["points"],
                                                                     day=local_text(lot["expires_at"])[:10]) + "  "
    if data.get("cards"):
        from loyaltycli.services.cards import describe

        fields["stamp cards"] = describe(data["cards"])
    table_of_fields(fields, title=f"{data['code']} {who(data['name'], data['phone'])}".strip())
    from loyaltycli.cli.ledger_words import shown_note

    recent = [{**row, "note": shown_note(row["note"])} for row in data["recent"]]
    table(recent, columns=["at", "kind", "points", "balance", "note"], title=_("Recent"))


def enroll(
    name: Optional[str] = typer.Argument(None, help="Full name (optional when a phone, e-mail, card or tax id "
                                                    "is given; asked for on a terminal when nothing is)."),
    phone: Optional[str] = typer.Option(None, "--phone", help="Phone, +country code or a local number."),
    email: Optional[str] = typer.Option(None, "--email", help="E-mail address."),
    card: Optional[str] = typer.Option(None, "--card", help="Loyalty card number."),
    birthday: Optional[str] = typer.Option(None, "--birthday", help="YYYY-MM-DD."),
    tax_id: Optional[str] = typer.Option(None, "--tax-id", metavar="ID",
                                         help="Tax id for the shop's country: PT NIF, ES NIF/NIE, RO CNP/CUI, "
                                              "IT codice fiscale (any of them when the country is another "
                                              "or not set); a KEY."),
    referral_code: Optional[str] = typer.Option(None, "--referral-code", help="Code of the customer who referred them."),
    consent: bool = typer.Option(False, "--consent/--no-consent", help="Agreed to receive offers."),
    consent_how: Optional[str] = typer.Option(None, "--consent-how", metavar="TEXT",
                                              help="How consent was given, e.g. 'signed paper form' (kept with "
                                                   "its time; default: this command)."),
    at: Optional[str] = typer.Option(None, "--at", help="Enrollment time (ISO-8601), for back-dating."),
) -> None:
    """Enroll a customer: flags for scripts, step-by-step questions at the counter when nothing is given.

    The name is optional: a phone alone is a customer (loyalty enroll --phone 912345678).

    A shop in Portugal: loyalty enroll "Ana Sousa" --phone 912345678 --tax-id 123456789

    Example: loyalty enroll "Aoife Byrne" --phone 0851234567 --email aoife@example.ie --consent
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.shop import clock
    from loyaltycli.store.program import load_program

    db = options.database()
    if name is None and not any((phone, email, card, tax_id)):
        if not options.current.interactive:
            fail(_("give a NAME, --phone, --email, --card or --tax-id (or run on a terminal without --no-input "
                   "to be asked step by step)"))
        from loyaltycli.cli import prompts

        with db.session(write=False) as session:
            program = load_program(session)

        def check(field, text, answers):
            # one short read per answer: the counter's other till may enroll meanwhile
            with db.session(write=False) as session:
                return customers.check_new_field(session, program, field, text, phone=answers.get("phone"),
                                                 email=answers.get("email"))

        given = {"birthday": birthday, "referral_code": referral_code, "consent": True if consent else None}
        answers = prompts.enroll_flow(program, check=check, given=given)
        if answers is None:  # Ctrl-C or Ctrl-D: interrupted, as everywhere (README, exit codes)
            fail(_("enrollment cancelled; nothing was saved"), code=130)
        consent_how = consent_how or "asked at the counter (loyalty enroll, step by step)"
        name, phone, email, card, birthday, referral_code, consent = (
            answers["name"], answers["phone"], answers["email"], answers["card"], answers["birthday"],
            answers["referral_code"], answers["consent"])
        tax_id = answers.get("tax_id")
    else:
        consent_how = consent_how or "loyalty enroll --consent"
    when = clock.parse_timestamp(at, what="--at", local_formats=True) if at else None
    with db.session() as session:
        program = load_program(session)
        customer = customers.enroll(session, program, name, phone=phone, email=email, card=card,
                                    birthday=birthday, consent=consent, referral_code=referral_code, at=when,
                                    consent_how=consent_how, tax_id=tax_id)
        acct = accounts.account(session, program, customer)
    emit(customer_json(acct), message=_("enrolled {code} {name}: balance {balance} points, tier {tier}, referral "
                                        "code {referral_code}").format(code=acct["code"], name=who(acct["name"], acct["phone"]),
                                                                        balance=acct["balance"], tier=acct["tier"],
                                                                        referral_code=acct["referral_code"]))


@customer_app.command("show")
def customer_show(key: str = typer.Argument(..., help="Code, card, e-mail, phone or tax id.")) -> None:
    """Profile, balance, tier and progress to the next, points expiring soon, recent ledger.

    Example: loyalty customer show C000001
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        program = load_program(session)
        customer = customers.find(session, key, program, usable=False)
        acct = accounts.account(session, program, customer)
    show_account(acct)


@customer_app.command("list")
def customer_list(tier: Optional[str] = typer.Option(None, "--tier", help="Only this tier."),
                  search: Optional[str] = typer.Option(None, "--search", help="Text in name, code, phone, e-mail or card."),
                  ) -> None:
    """List customers with balance and tier (table, --json or --csv).

    Example: loyalty customer list --tier Gold --csv
    """
    from loyaltycli.services import accounts
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        program = load_program(session)
        rows = accounts.list_accounts(session, program, search=search, tier=tier)
    out = [{**r, "spend": _money(r["spend"])} for r in rows]
    if not (options.current.json or options.current.csv):  # people read national numbers; scripts E.164
        out = [{**r, "phone": _shown_phone(r["phone"])} for r in out]
    emit(out, columns=["code", "name", "phone", "email", "card", "balance", "tier", "spend"], title=_("Customers"),
         optional=["card", "phone", "email"])


@customer_app.command("edit")
def customer_edit(
    key: str = typer.Argument(..., help="Code, card, e-mail or phone."),
    name: Optional[str] = typer.Option(None, "--name"),
    phone: Optional[str] = typer.Option(None, "--phone", help="New phone ('' clears it)."),
    email: Optional[str] = typer.Option(None, "--email", help="New e-mail ('' clears it)."),
    card: Optional[str] = typer.Option(None, "--card", help="New card ('' clears it)."),
    birthday: Optional[str] = typer.Option(None, "--birthday", help="YYYY-MM-DD ('' clears it)."),
    tax_id: Optional[str] = typer.Option(None, "--tax-id", metavar="ID",
                                         help="New tax id: NIF, NIE, CNP, CUI or codice fiscale ('' clears it)."),
    consent: Optional[bool] = typer.Option(None, "--consent/--no-consent"),
    consent_how: Optional[str] = typer.Option(None, "--consent-how", metavar="TEXT",
                                              help="How consent was given or withdrawn (kept with its time)."),
) -> None:
    """Change a customer's details; give only the fields to change.

    Also: loyalty customer edit C000001 --tax-id "PT 123 456 789"

    Example: loyalty customer edit C000001 --email new@example.ie
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.store.program import load_program

    if all(v is None for v in (name, phone, email, card, birthday, consent, tax_id)):
        fail(_("nothing to change: give --name, --phone, --email, --card, --birthday, --tax-id or --consent"))
    with options.database().session() as session:
        program = load_program(session)
        customer = customers.find(session, key, program)
        how = consent_how or f"loyalty customer edit --{'' if consent else 'no-'}consent"
        customers.edit(session, program, customer, name=name, phone=phone, email=email, card=card,
                       birthday=birthday, consent=consent, consent_how=how, tax_id=tax_id)
        acct = accounts.account(session, program, customer)
    emit(customer_json(acct), message=_("updated {code} {name}").format(code=acct["code"], name=who(acct["name"], acct["phone"])))


def register(app: typer.Typer) -> None:
    app.command("enroll")(enroll)
    app.add_typer(customer_app, name="customer")
