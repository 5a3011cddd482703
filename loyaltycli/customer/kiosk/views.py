"""The kiosk's pages: the start screen, self-enrolment, and "my card". Each view reads the form, calls a
service in one transaction (the database opened per request, as a CLI command opens it), and renders a
template in the page's language. The texts are marked here with ``_()`` (so the catalogs' extraction
finds them) and handed to the templates, which hold no English of their own.

The page's language is in its path (``/ro/join``); personal data only ever travels in POSTed forms.
"""

from __future__ import annotations

import logging

from loyaltycli.i18n import N_, _

# The languages of the switch, each named in itself.
LANGUAGE_NAMES = {"pt_PT": "Português", "ro": "Română", "it": "Italiano", "es": "Español", "en": "English"}
# The pages the language switch links to as they are (after a POST: the start screen in that language).
PAGES = ("start", "join_form", "card_form")
FIELD_LIMIT = 254  # the longest field we store (an e-mail); longer input is cut, then refused by validation

# The separator of a written date, by the page's language (day, month and year in the shop's order).
DATE_SEPARATORS = {"ro": "."}
EXAMPLE_DAY = (31, 12, 1990)  # day, month, year: every part unmistakable

# What the customer is told when a phone or e-mail is someone's already: never whose.
TAKEN = {"phone": N_("This phone number is already registered. Ask at the counter to find your card."),
         "e-mail": N_("This e-mail address is already registered. Ask at the counter to find your card.")}


def words() -> dict[str, str]:
    """Every text of the pages, in the language being spoken."""
    return {
        "title": _("Loyalty card"),
        "welcome": _("Welcome! Join our loyalty program, or see the points on your card."),
        "join": _("Join the program"),
        "my_card": _("See my card"),
        "language": _("Language"),
        "back": _("Back to the start"),
        "name": _("name"),  # the CLI's words where they fit (shown capitalised by the CSS)
        "optional": _("optional"),
        "phone": _("phone"),
        "email": _("e-mail"),
        "birthday": _("birthday"),
        "birthday_hint": _("day, month and year, like {example}"),
        "referral": _("referral code of a friend"),
        "your_language": _("Your language"),
        "phone_or_email": _("Give a phone number or an e-mail address (or both)."),
        "consents": _("Your choices"),
        "membership_box": _("I want to join the loyalty program and accept its terms (required)."),
        "email_box": _("Send me offers by e-mail."),
        "sms_box": _("Send me offers by SMS."),
        "consent_note": _("Offers are optional; you can change your mind at the counter at any time."),
        "submit_join": _("Join"),
        "joined": _("Welcome to the program! Here is your card."),
        "slip_printed": _("Your card is also printed on a slip: take it from the printer."),
        "slip_failed": _("Your card is ready, but its slip could not be printed. Take a photo of "
                         "this code, or ask at the counter for a slip."),
        "card_hint": _("Show this code at the counter, or take a photo of it. Your card number is {code}."),
        "referral_yours": _("Your referral code for friends: {code}"),
        "scan": _("Scan your card, or type the code written under it, then press Enter."),
        "submit_card": _("Show my points"),
        "unknown_card": _("We do not know this card. Check the code, or ask at the counter."),
        "points": _("points"),
        "worth": _("value"),
        "credit": _("Credit"),
        "tier": _("tier"),
        "stamps": _("Stamp cards"),
        "progress": _("Goals"),
        "vouchers": _("vouchers"),
        "expiring": _("Points about to expire"),
        "next_reward": _("Next reward"),
        "rewards_ready": _("Rewards you can take now"),
        "next_tier": _("Next tier"),
        "nothing_expiring": _("No points expire in the next 30 days."),
        "trouble": _("Something went wrong. Please ask at the counter."),
        "stale": _("This page was open too long. Please start again."),
        "no_page": _("There is no such page here."),
        "too_big": _("That was more than this form takes. Please start again."),
        "busy": _("The till is busy; please try again in a moment."),
    }


def install(app) -> None:
    """Add the kiosk's routes to ``app``."""
    from flask import abort, redirect, request, url_for

    def language(lang: str) -> str:
        if lang not in LANGUAGE_NAMES:
            abort(404)
        return lang

    @app.get("/")
    def home():
        return redirect(url_for("start", lang=default_language(app)))

    @app.get("/<lang>/")
    def start(lang):
        return page(app, language(lang), "start.html")

    @app.get("/<lang>/join")
    def join_form(lang):
        return page(app, language(lang), "join.html", form={"language": lang},
                    date_example=date_example(app, lang))

    @app.post("/<lang>/join")
    def join(lang):
        return enrol(app, language(lang), request.form)

    @app.get("/<lang>/card")
    def card_form(lang):
        return page(app, language(lang), "card_form.html")

    @app.post("/<lang>/card")
    def card(lang):
        return show_card(app, language(lang), request.form.get("code", "")[:FIELD_LIMIT])


def default_language(app) -> str:
    """The start screen's language: --lang, else the shop's locale, else the language of messages."""
    from loyaltycli import i18n

    chosen = app.config.get("KIOSK_LANG")
    if not chosen:
        from loyaltycli.store.program import load_program

        with database(app).session(write=False) as session:
            load_program(session)  # the shop's settings (its locale) in force
        from loyaltycli.base import place

        chosen = i18n.match(place.get("locale") or "") or i18n.language()
    return chosen if chosen in LANGUAGE_NAMES else "en"


def date_order(app) -> str:
    """'DMY' (or 'MDY', 'YMD'): the order the shop's locale writes a date in."""
    from loyaltycli.shop import localformat
    from loyaltycli.store.program import load_program

    with database(app).session(write=False) as session:
        load_program(session)  # the shop's settings (its locale) in force
    return localformat.date_order()


def date_example(app, lang: str, order: str | None = None) -> str:
    """31/12/1990 (31.12.1990 in Romanian): a birthday written the way the field reads it, not the way
    the browser's own locale would (an <input type=date> shows 12/31/1990 under an en-US browser)."""
    day, month, year = (str(part) for part in EXAMPLE_DAY)
    parts = {"DMY": (day, month, year), "MDY": (month, day, year), "YMD": (year, month, day)}
    return DATE_SEPARATORS.get(lang, "/").join(parts.get(order or date_order(app), parts["DMY"]))


def read_birthday(text: str, example: str):
    """The birthday typed in the page (the shop's order, any of / . - between the parts, or ISO), or
    InvalidInput that says how to write it."""
    from loyaltycli.base.errors import InvalidInput
    from loyaltycli.shop import clock

    try:
        return clock.parse_date(text, what="birthday")
    except InvalidInput:
        raise InvalidInput(_("The birthday {text!r} is not a date: write the day, the month and the "
                             "year, like {example}.").format(text=text, example=example)) from None


def database(app):
    from loyaltycli.store.db import open_database

    return open_database(app.config.get("KIOSK_DB"))


def page(app, lang: str, template: str, *, status: int = 200, **context):
    """A template rendered in ``lang`` (its texts, and the amounts the language's way)."""
    from flask import render_template, request

    from loyaltycli import i18n
    from loyaltycli.customer.kiosk.tokens import csrf_token

    # The language switch links to the same page in another language; after a POST, to the start screen.
    here = request.endpoint if request.method == "GET" and request.endpoint in PAGES else "start"
    with i18n.speaking(lang):
        body = render_template(template, lang=lang, t=words(), languages=LANGUAGE_NAMES, here=here,
                               csrf_token=csrf_token(), idle=app.config["KIOSK_IDLE_SECONDS"], **context)
    return body, status


# What a refused request tells the customer (the status's page; anything else: "trouble")
REFUSALS = {403: "stale", 404: "no_page", 405: "no_page", 413: "too_big"}


def trouble(status: int = 500):
    """The page of an unexpected error or a refused request, in the page's language (else the start
    screen's), with the way back to the start (nothing of the error shown)."""
    from flask import current_app, request

    lang = (request.view_args or {}).get("lang")
    if lang not in LANGUAGE_NAMES:
        try:
            lang = default_language(current_app)
        except Exception:  # noqa: BLE001  the database is the trouble: English, still a page
            lang = "en"
    from loyaltycli import i18n

    with i18n.speaking(lang):
        message = words()[REFUSALS.get(status, "trouble")]
    return page(current_app, lang, "message.html", message=message)[0]


def enrol(app, lang: str, form) -> tuple[str, int]:
    """Self-enrolment: the same validation as `loyalty enroll`, consent per channel recorded as given at
    the kiosk with the wording's version; on success the new card's QR code."""
    from loyaltycli import i18n
    from loyaltycli.base.errors import DatabaseUnavailable, DuplicateCustomer, InvalidInput, RuleNotMet
    from loyaltycli.services import passes
    from loyaltycli.customer import qr
    from loyaltycli.services import customers
    from loyaltycli.services.consent import EMAIL, MEMBERSHIP, SMS, WORDING_VERSION
    from loyaltycli.store.program import load_program

    given = {key: (form.get(key) or "").strip()[:FIELD_LIMIT]
             for key in ("name", "phone", "email", "birthday", "referral_code", "language")}
    ticked = {channel: form.get(f"consent_{channel}") == "yes" for channel in (MEMBERSHIP, EMAIL, SMS)}
    customer_lang = given["language"] if given["language"] in LANGUAGE_NAMES else lang
    shown = {**given, "language": customer_lang, **{f"{c}_box": ticked[c] for c in ticked}}
    with i18n.speaking(lang):
        problem = None
        if not ticked[MEMBERSHIP]:
            problem = _("Tick the box to join the program: the card needs your yes.")
        elif not given["phone"] and not given["email"]:
            problem = _("Give a phone number or an e-mail address (or both).")
        elif ticked[EMAIL] and not given["email"]:
            problem = _("Give an e-mail address to receive offers by e-mail.")
        elif ticked[SMS] and not given["phone"]:
            problem = _("Give a phone number to receive offers by SMS.")
        example = date_example(app, lang)
        if problem is None:
            try:
                birthday = read_birthday(given["birthday"], example) if given["birthday"] else None
                with database(app).session() as session:
                    program = load_program(session)
                    customer = customers.enroll(
                        session, program, given["name"] or None, phone=given["phone"] or None,
                        email=given["email"] or None, birthday=birthday,
                        referral_code=given["referral_code"] or None, language=customer_lang,
                        consents={MEMBERSHIP: True, EMAIL: ticked[EMAIL], SMS: ticked[SMS]},
                        consent_how="kiosk", consent_version=WORDING_VERSION)
                    code = passes.code_for(session, customer.id)
                    number, referral, customer_id = customer.code, customer.referral_code, customer.id
            except DuplicateCustomer as exc:
                problem = _(TAKEN.get(getattr(exc, "field", ""), TAKEN["phone"]))
            except RuleNotMet:  # a referral code unknown, or the customer's own: whose is not said
                problem = _("This referral code cannot be used. Check it, or leave it empty.")
            except DatabaseUnavailable:
                problem = _("The till is busy; please try again in a moment.")
            except InvalidInput as exc:
                problem = str(exc)  # which field and why, as the CLI says it (in the page's language)
    if problem is not None:
        return page(app, lang, "join.html", status=422, form=shown, problem=problem,
                    date_example=example)
    printed = print_welcome(app, customer_id) if app.config.get("KIOSK_PRINTER") else None
    return page(app, lang, "welcome.html", qr_svg=qr.svg(code, scale=8, xmldecl=False), code=code,
                number=number, referral=referral, printed=printed)


def print_welcome(app, customer_id: int) -> bool:
    """The welcome slip of a customer just enrolled, sent to the kiosk's printer: True when it was.
    The enrolment is recorded already: a printer that fails (unreachable, out of paper, anything) only
    makes the page say so, and the log names the failure's type (never what the slip says)."""
    from loyaltycli.customer import slip
    from loyaltycli.customer.printer import open_printer
    from loyaltycli.store.models import Customer
    from loyaltycli.store.program import load_program

    try:
        with database(app).session(write=False) as session:
            made = slip.for_enrolment(session, load_program(session), session.get(Customer, customer_id))
        data = slip.escpos_bytes(made)
        open_printer(app.config["KIOSK_PRINTER"]).send(data)
    except Exception as exc:  # noqa: BLE001  the card is made: a slip is a nicety, never an error page
        log = logging.getLogger("loyaltycli.kiosk")  # the package's logger, by its name

        log.warning("kiosk: the welcome slip was not printed (%s)", type(exc).__name__)
        return False
    return True


def show_card(app, lang: str, text: str) -> tuple[str, int]:
    """A scanned or typed card code: balance and its value, stamps, vouchers, points about to expire and
    the next reward. Only a signed card code finds a customer; an unknown and a tampered code get the
    same answer."""
    from loyaltycli import i18n
    from loyaltycli.base.errors import DatabaseUnavailable, LoyaltyError
    from loyaltycli.services import passes

    with i18n.speaking(lang):
        if not passes.looks_like_code(text) or passes.parse(text) is None:
            return page(app, lang, "card_form.html", status=404, problem=words()["unknown_card"])
        try:
            with database(app).session(write=False) as session:
                summary = card_summary(session, passes.customer_for_code(session, text))
        except DatabaseUnavailable:
            return page(app, lang, "card_form.html", status=503, problem=words()["busy"])
        except LoyaltyError:
            return page(app, lang, "card_form.html", status=404, problem=words()["unknown_card"])
    return page(app, lang, "card.html", card=summary)


def card_summary(session, customer) -> dict:
    """What the card page shows, with amounts in the language being spoken (what `balance` shows)."""
    from loyaltycli.base.money import format_money
    from loyaltycli.i18n import ngettext
    from loyaltycli.services import accounts, rewards
    from loyaltycli.shop import clock
    from loyaltycli.store.program import load_program

    program = load_program(session)
    found = accounts.account(session, program, customer, recent=0)
    points = found["balance"]
    catalogue = rewards.list_rewards(session, program)
    ahead = [r for r in catalogue if r["cost"] > points]
    cashback = program.earn_mode == "cashback"
    return {
        "name": customer.name or "",
        "points": points,
        "cashback": cashback,
        "value": format_money(max(points, 0) * program.point_value),
        "tier": found["tier"],
        "next_tier": _("{tier}: {amount} more to spend").format(
            tier=found["next_tier"], amount=format_money(found["missing_for_next"])) if found["next_tier"] else None,
        "expiring": [ngettext("{points} point on {date}", "{points} points on {date}", e["points"]).format(
            points=e["points"], date=clock.local_text(e["expires_at"])[:10]) for e in found["expiring_soon"]],
        "ready": [r["reward"] for r in catalogue if r["cost"] <= points],
        "next_reward": ngettext("{reward}: {missing} point to go", "{reward}: {missing} points to go",
                                ahead[0]["cost"] - points).format(reward=ahead[0]["reward"],
                                                                   missing=ahead[0]["cost"] - points)
        if ahead else None,
        "cards": [{"card": c["card"], "stamps": c["stamps"], "needed": c["stamps_needed"],
                   "reward": c["reward"], "vouchers": c["vouchers"]} for c in found.get("cards", [])],
        # goals and any other program type's progress, as `balance` says it ("Pastries 18,40 € of 30,00 €")
        "progress": list(found["shown"].values()),
    }
