"""The customer's statement and expiry reminder by e-mail: what it says and the message itself.

A ``Statement`` is built from the database (balance and its value, the ledger rows since the last
statement, the points about to expire, the card code); ``message`` makes an RFC 5322 message of it with
the standard ``email`` package: a plain-text part and an HTML part (Jinja2 templates in templates/),
the card's QR code as an inline image (``cid:``), ``List-Unsubscribe`` (and ``List-Unsubscribe-Post``
with an https page) and an opt-out line. Everything the customer reads is in the customer's language
(``i18n.speaking``) with the shop's money format. Jinja2 is imported here only, when a message is made.
No Typer or Rich here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyaltycli.base.errors import InvalidInput
from loyaltycli.i18n import N_, _, ngettext, speaking

STATEMENT, EXPIRING = "statement", "expiring"
KINDS = (STATEMENT, EXPIRING)
LABELS = {STATEMENT: N_("statement"), EXPIRING: N_("expiry reminder")}  # as people read them
TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Row:
    id: int
    at: datetime
    points: int
    balance: int
    note: str  # in the customer's language


@dataclass
class Statement:
    """What one e-mail tells a customer, in no language but the notes (rendered when built)."""

    kind: str  # statement | expiring
    customer_id: int
    code: str
    name: str | None
    email: str
    language: str | None  # the customer's own (None: the shop's)
    balance: int
    value: int  # cents the balance is worth
    rows: list[Row] = field(default_factory=list)  # what happened since the last statement
    expiring: list[tuple[datetime, int]] = field(default_factory=list)
    card_code: str = ""
    since: datetime | None = None
    earn_mode: str = "points"  # cashback: points are cents of credit
    point_value: int = 0


@dataclass(frozen=True)
class Sender:
    """Who sends, and how to stop: from the program's settings."""

    mail_from: str
    shop_name: str = ""
    reply_to: str = ""
    unsubscribe_mailto: str = ""
    unsubscribe_url: str = ""

    @classmethod
    def of(cls, program) -> "Sender":
        if not program.mail_from:
            raise InvalidInput(_("no sender address: set it with `loyalty program set mail_from "
                                 "shop@example.com`"))
        return cls(program.mail_from, program.shop_name, program.mail_reply_to,
                   program.unsubscribe_mailto or program.mail_from, program.unsubscribe_url)


# -- settings --------------------------------------------------------------------------------------
def build(session: Session, program, customer, kind: str, *, after_row: int = 0,
          since: datetime | None = None, days: int = 30, now: datetime | None = None) -> Statement:
    """A customer's statement (``kind`` statement: the rows after ledger row ``after_row`` and, with
    ``since``, from that time on) or expiry reminder (``kind`` expiring: points expiring within
    ``days``). Issues the card code on first use: call it in a write session."""
    from loyaltycli.services import passes
    from loyaltycli.customer.old_notes import row_note
    from loyaltycli.shop import clock
    from loyaltycli.store import ledger
    from loyaltycli.store.models import LedgerEntry

    now = now or clock.now()
    balance, expiring = ledger.spendable_and_expiring(session, customer.id, now, days)
    rows: list[Row] = []
    if kind == STATEMENT:
        ids = session.execute(select(LedgerEntry.id).where(LedgerEntry.customer_id == customer.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).scalars().all()
        with speaking(customer.language):
            for row_id, row in zip(ids, ledger.history(session, customer.id)):
                if row_id > after_row and (since is None or row["at"] >= since):
                    rows.append(Row(row_id, row["at"], row["points"], row["balance"], row_note(row)))
    return Statement(kind=kind, customer_id=customer.id, code=customer.code, name=customer.name,
                     email=customer.email, language=customer.language, balance=balance,
                     value=max(balance, 0) * program.point_value, rows=rows, expiring=expiring,
                     card_code=passes.code_for(session, customer.id, at=now), since=since,
                     earn_mode=program.earn_mode, point_value=program.point_value)


def _date(value: datetime) -> str:
    from loyaltycli.shop import clock

    return clock.local_text(value)[:10]


def words(statement: Statement, sender: Sender) -> dict:
    """The sentences of the message in the current language (call inside ``speaking``)."""
    from loyaltycli.base.money import format_money

    shop = sender.shop_name or sender.mail_from
    name = statement.name or statement.code
    if statement.kind == STATEMENT:
        subject = _("Your points at {shop}").format(shop=shop)
        intro = _("Here is your statement of card {code}.").format(code=statement.code)
    else:
        subject = _("Points about to expire at {shop}").format(shop=shop)
        intro = _("Some of your points expire soon: come and use them before they do.")
    return {
        "subject": subject,
        "greeting": _("Hello {name},").format(name=name),
        "intro": intro,
        "balance": (_("Credit: {credit}").format(credit=format_money(statement.value))
                    if statement.earn_mode == "cashback" else
                    ngettext("Balance: {points} point ({value})", "Balance: {points} points ({value})",
                             abs(statement.balance)).format(points=statement.balance,
                                                            value=format_money(statement.value))),
        "since_heading": (_("Since {date}").format(date=_date(statement.since)) if statement.since
                          else _("Since your last statement")),
        "expiring_heading": _("Points about to expire"),
        "card_line": _("Your card: show this code at the counter."),
        "opt_out": _("You receive this because you agreed to e-mail offers. To stop them, reply "
                     "\"unsubscribe\" or tell us at the counter: they stop at once."),
        "opt_out_link": _("Unsubscribe"),
        "sender": shop,
    }


def _expiry_text(statement: Statement, when: datetime, points: int) -> str:
    from loyaltycli.base.money import format_money

    if statement.earn_mode == "cashback":
        return _("{credit} of credit expires on {date}").format(
            credit=format_money(points * statement.point_value), date=_date(when))
    return ngettext("{points} point expires on {date}", "{points} points expire on {date}",
                    points).format(points=points, date=_date(when))


def render(statement: Statement, sender: Sender, qr_cid: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) in the customer's language."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=jinja2.select_autoescape(["html.j2"]),
                             undefined=jinja2.StrictUndefined)
    with speaking(statement.language) as lang:
        t = words(statement, sender)
        rows = [{"date": _date(r.at), "points": f"{r.points:+d}", "note": r.note} for r in statement.rows]
        expiring = [{"text": _expiry_text(statement, when, points)} for when, points in statement.expiring]
        values = {"t": t, "rows": rows, "expiring": expiring, "code": statement.card_code,
                  "qr_cid": qr_cid, "subject": t["subject"], "html_lang": lang.replace("_", "-"),
                  "unsubscribe_url": unsubscribe_url(sender, statement)}
        text = env.get_template("statement.txt.j2").render(values)
        html = env.get_template("statement.html.j2").render(values)
        return t["subject"], text, html


def unsubscribe_url(sender: Sender, statement: Statement) -> str:
    """The one-click page's address for this customer (empty without an unsubscribe_url setting)."""
    if not sender.unsubscribe_url:
        return ""
    joiner = "&" if "?" in sender.unsubscribe_url else "?"
    return f"{sender.unsubscribe_url}{joiner}customer={quote(statement.code)}"


def _address(name: str | None, address: str):
    """A header's address: the name as it is, the e-mail address's domain in its ASCII form (café.pt is
    xn--caf-dma.pt on the wire; the part before the @ stays as written)."""
    from email.headerregistry import Address

    user, _, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:  # not a name IDNA can write: as it is (the message then goes as UTF-8)
        pass
    return Address(name or "", user, domain)


def message(statement: Statement, sender: Sender, *, now: datetime | None = None) -> EmailMessage:
    """The e-mail: text and HTML alternatives, the card's QR inline, List-Unsubscribe headers."""
    import email.policy
    from email.utils import format_datetime, make_msgid

    from loyaltycli.customer import qr
    from loyaltycli.shop import clock

    # Address objects: the header is written from the name as it is (quoted, or encoded when it is not
    # ASCII); formataddr's text would be read again, and 'Zé <x@y>' would name x@y as the address
    sent_by, sent_to = _address(sender.shop_name, sender.mail_from), _address(statement.name, statement.email)
    domain = sent_by.domain or "localhost"
    cid = make_msgid("qr", domain=domain)
    subject, text, html = render(statement, sender, cid[1:-1])
    # an address with letters beyond ASCII before its @ (josé@...) can only travel as UTF-8 (SMTPUTF8)
    plain = sent_by.username.isascii() and sent_to.username.isascii()
    msg = EmailMessage(policy=email.policy.default if plain else email.policy.SMTPUTF8)
    msg["Subject"] = subject
    msg["From"] = sent_by
    msg["To"] = sent_to
    if sender.reply_to:
        msg["Reply-To"] = sender.reply_to
    msg["Date"] = format_datetime(now or clock.now())
    msg["Message-ID"] = make_msgid(statement.kind, domain=domain)
    links = [f"<mailto:{sender.unsubscribe_mailto}?subject="
             f"{quote('unsubscribe ' + statement.code)}>"]
    url = unsubscribe_url(sender, statement)
    if url:
        links.insert(0, f"<{url}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Unsubscribe"] = ", ".join(links)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.get_payload()[1].add_related(qr.png(statement.card_code, scale=6), "image", "png", cid=cid,
                                     filename="card.png", disposition="inline")
    with speaking(statement.language) as lang:  # after the parts: set_content drops Content-* headers
        msg["Content-Language"] = lang.replace("_", "-")
    return msg
