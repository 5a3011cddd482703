"""Customer commands: enroll, customer show / list / edit."""

from __future__ import annotations

from typing import List, Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.exits import fail
from loyaltycli.cli.render import emit
from loyaltycli.i18n import N_, _, ngettext

customer_app = typer.Typer(help="Look up, list and edit customers.", no_args_is_help=True)


def _money(cents):
    from loyaltycli.base.money import money

    return money(cents)


def _shown_phone(e164):
    """A phone as the shop's region writes it (core.customers.shown_phone, the one formatter)."""
    from loyaltycli.base import place
    from loyaltycli.services.customers import shown_phone

    return shown_phone(e164, place.get("phone_region", "IE"))


def who(name: str | None, phone: str | None, email: str | None = None) -> str:
    """How people see a customer next to its code: the name, else the phone as the shop writes it (a
    customer enrolled by phone alone is `C000002 912 345 678`, never `C000002 None`), else the e-mail."""
    return name or _shown_phone(phone) or email or ""


def customer_json(acct: dict) -> dict:
    """The public JSON of a customer (SPEC keys first). Notes stay the fixed English text."""
    out = dict(acct)
    out.pop("shown", None)  # the program types' texts for people (show_account)
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
        emit({k: v for k, v in data.items() if not isinstance(v, (list, dict))})
        return
    fields = {k: data[k] for k in ("code", "name", "phone", "email", "card", "birthday", "enrolled_at", "balance",
                                   "tier", "spend", "referral_code", "tax_id")}
    fields["phone"] = _shown_phone(fields["phone"])
    fields["language"] = _language_shown(data.get("language"))
    fields.update(consent_fields(data))
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
    for key, text in acct.get("shown", {}).items():  # goals and any other program type's progress
        fields[key] = text
    table_of_fields(fields, title=f"{data['code']} {who(data['name'], data['phone'])}".strip())
    from loyaltycli.customer.old_notes import row_note

    recent = [{**r, "note": row_note(r)} for r in acct["recent"]]
    table(recent, columns=["at", "kind", "points", "balance", "note"], title=_("Recent"))


def _language_shown(language: str | None) -> str:
    from loyaltycli.i18n import language as shop_language

    return language or _("the shop's ({language})").format(language=shop_language())


# How answers were given, recorded in English as written by loyaltycli itself; shown in the reader's language
# (what staff typed with --consent-how is shown as typed)
STEP_BY_STEP = N_("asked at the counter (loyalty enroll, step by step)")
_OWN_HOWS = frozenset({STEP_BY_STEP, N_("kiosk"), N_("customer forget (personal data erased)")})


def _how(text: str | None) -> str | None:
    return _(text) if text in _OWN_HOWS else text


def consent_fields(data: dict) -> dict:
    """The answers per channel as people read them: agreed (when, how, wording) or not."""
    from loyaltycli.services.consent import EMAIL, LABELS
    from loyaltycli.shop.clock import local_text

    out = {}
    for channel, answer in (data.get("consents") or {}).items():
        if answer and answer["given"]:
            text = _("agreed {when}, {how}").format(when=local_text(answer["at"]), how=_how(answer["how"]))
            if answer["version"]:
                text += " " + _("(wording {version})").format(version=answer["version"])
        elif channel == EMAIL and data["consent"]:
            text = _("agreed")  # before consent records were kept
        elif answer:
            text = _("no: withdrawn {when}, {how}").format(when=local_text(answer["at"]), how=_how(answer["how"]))
        else:
            text = _("no")
        if channel == EMAIL and not (answer and answer["given"]) and not data["consent"]:
            text += "; " + _("no consent: not in campaign exports")
        out[LABELS[channel]] = text  # translated as a field's label
    return out


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
    consent: bool = typer.Option(False, "--consent/--no-consent",
                                 help="Agreed to receive offers: the e-mail offers answer (older flag)."),
    email_offers: Optional[bool] = typer.Option(None, "--email-offers/--no-email-offers",
                                                help="Agreed to receive offers by e-mail (default: no)."),
    sms_offers: Optional[bool] = typer.Option(None, "--sms-offers/--no-sms-offers",
                                              help="Agreed to receive offers by SMS (default: no)."),
    consent_how: Optional[str] = typer.Option(None, "--consent-how", metavar="TEXT",
                                              help="How consent was given, e.g. 'signed paper form' (kept with "
                                                   "its time; default: this command)."),
    consent_version: Optional[str] = typer.Option(None, "--consent-version", metavar="TEXT",
                                                  help="Version of the wording the customer agreed to (default: "
                                                       "loyaltycli's own questions')."),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="LANG",
                                       help="The customer's own language: pt_PT, ro, it, es, en (pt, ro_RO... "
                                            "are read too; default: the shop's)."),
    at: Optional[str] = typer.Option(None, "--at", help="Enrollment time (ISO-8601), for back-dating."),
) -> None:
    """Enroll a customer: flags for scripts, step-by-step questions at the counter when nothing is given.

    The name is optional: a phone alone is a customer (loyalty enroll --phone 912345678).

    Enrolling records the customer's membership (they asked to join); offers by e-mail and by SMS are
    separate answers, "no" unless given.

    A Portuguese customer who wants offers by e-mail: loyalty enroll "Rui Costa" --lang pt --email
    rui@example.pt --email-offers

    A shop in Portugal: loyalty enroll "Ana Sousa" --phone 912345678 --tax-id 123456789

    Example: loyalty enroll "Aoife Byrne" --phone 0851234567 --email aoife@example.ie --consent
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.shop import clock
    from loyaltycli.store.program import load_program
    from loyaltycli.services.consent import EMAIL, MEMBERSHIP, SMS, WORDING_VERSION

    db = options.database()
    if name is not None and not name.strip() and any((phone, email, card, tax_id)):
        name = None  # `enroll "" --phone 912345678`: no name, as with the phone alone
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

        given = {"phone": phone, "email": email, "card": card, "birthday": birthday,
                 "referral_code": referral_code,
                 "email_offers": email_offers if email_offers is not None else (True if consent else None),
                 "sms_offers": sms_offers}
        answers = prompts.enroll_flow(program, check=check, given=given)
        if answers is None:  # Ctrl-C or Ctrl-D: interrupted, as everywhere (README, exit codes)
            fail(_("enrollment cancelled; nothing was saved"), code=130)
        consent_how = consent_how or STEP_BY_STEP
        name, phone, email, card, birthday, referral_code, email_offers, sms_offers = (
            answers["name"], answers["phone"], answers["email"], answers["card"], answers["birthday"],
            answers["referral_code"], answers["email_offers"], answers["sms_offers"])
        consent_version = consent_version or WORDING_VERSION  # the prompt's own questions were answered
        tax_id = answers.get("tax_id")
    else:
        consent_how = consent_how or _enroll_how(consent, email_offers, sms_offers)
    if lang is not None:
        customers.customer_language(lang)  # refused before anything else is read
    answers = {MEMBERSHIP: True, EMAIL: bool(consent) if email_offers is None else email_offers,
               SMS: bool(sms_offers)}
    when = clock.parse_timestamp(at, what="--at", local_formats=True) if at else None
    with db.session() as session:
        program = load_program(session)
        customer = customers.enroll(session, program, name, phone=phone, email=email, card=card,
                                    birthday=birthday, referral_code=referral_code, at=when,
                                    consent_how=consent_how, tax_id=tax_id, language=lang, consents=answers,
                                    consent_version=consent_version)
        acct = accounts.account(session, program, customer)
    emit(customer_json(acct), message=_("enrolled {code} {name}: balance {balance} points, tier {tier}, referral "
                                        "code {referral_code}").format(code=acct["code"], name=who(acct["name"], acct["phone"]),
                                                                        balance=acct["balance"], tier=acct["tier"],
                                                                        referral_code=acct["referral_code"]))


def _enroll_how(consent: bool, email_offers: bool | None, sms_offers: bool | None) -> str:
    """The enrolment command as typed, as the record of how its answers were given."""
    flags = [flag for flag, on in (("--consent", consent and email_offers is None),
                                   ("--email-offers", email_offers), ("--sms-offers", sms_offers)) if on]
    return " ".join(["loyalty enroll", *flags])


@customer_app.command("show")
def customer_show(key: str = typer.Argument(..., help="Code, card, e-mail, phone or tax id."),
                  lang: Optional[str] = typer.Option(None, "--lang", metavar="LANG",
                                                     help="Show it in this language (default: the shop's; "
                                                          "'customer': the customer's own)."),
                  ) -> None:
    """Profile, balance, tier and progress to the next, points expiring soon, recent ledger.

    The owner's card of the customer, in the shop's language; --lang customer shows it in the
    customer's own (to turn the screen to them).

    Example: loyalty customer show C000001
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.store.program import load_program
    from loyaltycli.i18n import speaking

    wanted = None if lang in (None, "customer") else customers.customer_language(lang)
    with options.database().session(write=False) as session:
        program = load_program(session)
        customer = customers.find(session, key, program, usable=False)
        acct = accounts.account(session, program, customer)
    with speaking(customer.language if lang == "customer" else wanted):
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
        # a nameless customer is named by the phone (else the e-mail) even where a narrow table drops those
        out = [{**r, "phone": _shown_phone(r["phone"]), "name": who(r["name"], r["phone"], r["email"])}
               for r in out]
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
    lang: Optional[str] = typer.Option(None, "--lang", metavar="LANG",
                                       help="The customer's own language: pt_PT, ro, it, es, en ('' : the "
                                            "shop's)."),
    consent: Optional[bool] = typer.Option(None, "--consent/--no-consent",
                                           help="Agreed to (or withdrew from) offers by e-mail (older flag)."),
    email_offers: Optional[bool] = typer.Option(None, "--email-offers/--no-email-offers",
                                                help="Agreed to (or withdrew from) offers by e-mail."),
    sms_offers: Optional[bool] = typer.Option(None, "--sms-offers/--no-sms-offers",
                                              help="Agreed to (or withdrew from) offers by SMS."),
    consent_how: Optional[str] = typer.Option(None, "--consent-how", metavar="TEXT",
                                              help="How consent was given or withdrawn (kept with its time)."),
    consent_version: Optional[str] = typer.Option(None, "--consent-version", metavar="TEXT",
                                                  help="Version of the wording the customer agreed to."),
) -> None:
    """Change a customer's details; give only the fields to change.

    Also: loyalty customer edit C000001 --lang pt --sms-offers

    Also: loyalty customer edit C000001 --tax-id "PT 123 456 789"

    Example: loyalty customer edit C000001 --email new@example.ie
    """
    from loyaltycli.services import accounts, customers
    from loyaltycli.store.program import load_program
    from loyaltycli.services.consent import EMAIL, SMS

    given = (name, phone, email, card, birthday, consent, tax_id, lang, email_offers, sms_offers)
    if all(v is None for v in given):
        fail(_("nothing to change: give --name, --phone, --email, --card, --birthday, --tax-id, --lang, "
               "--email-offers, --sms-offers or --consent"))
    if lang:
        customers.customer_language(lang)  # refused before anything is read
    answers = {channel: value for channel, value in ((EMAIL, consent if email_offers is None else email_offers),
                                                     (SMS, sms_offers)) if value is not None}
    flags = [f"--{'' if value else 'no-'}{flag}" for flag, value in
             (("consent", consent if email_offers is None else None), ("email-offers", email_offers),
              ("sms-offers", sms_offers)) if value is not None]
    with options.database().session() as session:
        program = load_program(session)
        customer = customers.find(session, key, program)
        how = consent_how or " ".join(["loyalty customer edit", *flags])
        customers.edit(session, program, customer, name=name, phone=phone, email=email, card=card,
                       birthday=birthday, consent_how=how, tax_id=tax_id, language=lang, consents=answers,
                       consent_version=consent_version)
        acct = accounts.account(session, program, customer)
    emit(customer_json(acct), message=_("updated {code} {name}").format(
        code=acct["code"], name=who(acct["name"], acct["phone"], acct.get("email"))).strip())


@customer_app.command("consent")
def customer_consent(
    key: str = typer.Argument(..., help="Code, card, e-mail, phone or tax id."),
    grant: Optional[List[str]] = typer.Option(None, "--grant", metavar="CHANNEL",
                                              help="Record a yes: email, sms, membership or all (repeatable)."),
    withdraw: Optional[List[str]] = typer.Option(None, "--withdraw", metavar="CHANNEL",
                                                 help="Record a no, in force at once: email, sms, membership "
                                                      "(which withdraws the offers too) or all (repeatable)."),
    how: Optional[str] = typer.Option(None, "--how", metavar="TEXT",
                                      help="How the customer answered, e.g. 'counter', 'phone call', 'letter' "
                                           "(default: this command)."),
    version: Optional[str] = typer.Option(None, "--wording", metavar="VERSION",
                                          help="Version of the wording the customer agreed to (with --grant)."),
) -> None:
    """A customer's consent per channel (membership, e-mail offers, SMS offers): record a yes or a no, or
    list every answer ever given (time, how, wording) when no --grant or --withdraw is given.

    Withdraw everything at once: loyalty customer consent C000001 --withdraw all --how "asked by phone"

    Example: loyalty customer consent C000001 --grant email --how "paper form" --wording "form 2026-03"
    """
    from loyaltycli.services import consent
    from loyaltycli.services import customers

    granted = [channel for text in grant or [] for channel in consent.channels_of(text)]
    withdrawn = [channel for text in withdraw or [] for channel in consent.channels_of(text)]
    both = sorted(set(granted) & set(withdrawn))
    if both:
        fail(_("--grant and --withdraw both name {channel}; give one answer per channel").format(channel=both[0]))
    if version and not granted:
        fail(_("--wording is the version of the wording agreed to: give it with --grant"))
    db = options.database()
    if not (granted or withdrawn):
        with db.session(write=False) as session:
            customer = customers.find(session, key, usable=False)
            rows = consent.history(session, customer.id)
        emit(rows, columns=["at", "channel", "given", "how", "version"],
             title=_("Consent of {code}").format(code=customer.code), optional=["version"])
        return
    flags = [f"--grant {c}" for c in granted] + [f"--withdraw {c}" for c in withdrawn]
    with db.session() as session:
        customer = customers.find(session, key)
        said = how or " ".join(["loyalty customer consent", *flags])
        if withdrawn:
            consent.withdraw(session, customer, withdrawn, how=said)
        if granted:
            consent.grant(session, customer, granted, how=said, version=version)
        answers = consent.current(session, customer.id)
        code = customer.code
    data = {"code": code, **{channel: bool(answer and answer.given) for channel, answer in answers.items()}}
    now = ", ".join(f"{_(consent.LABELS[c])} {_('yes') if data[c] else _('no')}" for c in consent.CHANNELS)
    emit(data, message=_("{code}: {answers}").format(code=code, answers=now))


def register(app: typer.Typer) -> None:
    app.command("enroll")(enroll)
    app.add_typer(customer_app, name="customer")
