"""Consent per channel, as GDPR and the ePrivacy rules ask: joining the program (``membership``), offers
by e-mail (``email``) and offers by SMS (``sms``) are separate answers, each "no" until the customer says
yes. Every answer given or withdrawn is a row of ``consent_record`` (append-only) with its time, how it
was asked (``counter``, ``import``, ``kiosk``, a paper form...) and the version of the wording the
customer answered; a channel's answer is its latest row, so a withdrawal takes effect at once.

Who calls what:
  * ``may_send(session, customer, "email")``: may we send this customer an e-mail offer (or statement)
    now? ``consenting(session, "email")``: the ids of every customer we may, in one query.
  * ``answer(...)`` / ``withdraw(...)`` / ``grant(...)``: record answers (enrolment, the counter, a kiosk).
  * ``current(session, customer_id)`` and ``history(session, customer_id)``: what `customer show` and
    `customer consent KEY` show.
No Typer or Rich here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import ConsentRecord, Customer
from loyaltycli.i18n import N_, gettext

MEMBERSHIP, EMAIL, SMS = "membership", "email", "sms"
CHANNELS = (MEMBERSHIP, EMAIL, SMS)
OFFERS = (EMAIL, SMS)
# How each channel is named to people (tables, messages).
LABELS = {MEMBERSHIP: N_("membership"), EMAIL: N_("e-mail offers"), SMS: N_("SMS offers")}
# The version of the wording loyaltycli's own questions use (the enrolment's questions, the kiosk's boxes):
# recorded with every answer given to them. Change it when the questions' wording changes.
WORDING_VERSION = "loyaltycli-1"
# What a channel needs of the customer to be reached on it.
ADDRESS = {EMAIL: Customer.email, SMS: Customer.phone}


@dataclass(frozen=True)
class Answer:
    """A channel's current answer: given or withdrawn, when, how and to which wording."""

    channel: str
    given: bool
    at: datetime
    how: str
    version: str | None

    def as_dict(self) -> dict:
        return {"given": self.given, "at": self.at, "how": self.how, "version": self.version}


def channels_of(text: str) -> tuple[str, ...]:
    """The channels a person named: 'email', 'sms', 'membership' or 'all' (also 'e-mail')."""
    word = (text or "").strip().lower().replace("-", "")
    if word == "all":
        return CHANNELS
    if word in CHANNELS:
        return (word,)
    raise InvalidInput(gettext("unknown consent channel {text!r}; give email, sms, membership or all").format(
        text=text))


def _clean(value: str | None, what: str, limit: int) -> str | None:
    """Free text kept as proof: no terminal control characters, trimmed, at most ``limit`` characters."""
    from loyaltycli.base.textkey import check_plain_text

    value = (check_plain_text(value, what) or "").strip()
    if len(value) > limit:
        raise InvalidInput(gettext("{what} is longer than {limit} characters").format(what=gettext(what),
                                                                                     limit=limit))
    return value or None


def current(session: Session, customer_id: int) -> dict[str, Answer | None]:
    """Every channel's current answer (None: never asked, the same as no)."""
    out: dict[str, Answer | None] = {channel: None for channel in CHANNELS}
    for row in session.execute(select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
                               .order_by(ConsentRecord.id)).scalars():  # the order answers were recorded
        if row.channel in out:
            out[row.channel] = Answer(row.channel, row.given, row.at, row.how, row.version)
    return out


def history(session: Session, customer_id: int) -> list[dict]:
    """Every answer the customer gave or withdrew, oldest first: {at, channel, given, how, version}."""
    return [{"at": row.at, "channel": row.channel, "given": row.given, "how": row.how, "version": row.version}
            for row in session.execute(select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
                                       .order_by(ConsentRecord.id)).scalars()]


def answer(session: Session, customer: Customer, answers: dict[str, bool], *, how: str,
           version: str | None = None, at: datetime | None = None) -> list[ConsentRecord]:
    """Record the customer's answers ({channel: yes/no}). An answer that changes nothing (the same yes to
    the same wording, or a no where there was no yes) writes no row. Withdrawing membership withdraws
    the offers too: nobody outside the program gets its offers. Returns the rows written."""
    unknown = set(answers) - set(CHANNELS)
    if unknown:
        raise InvalidInput(gettext("unknown consent channel {text!r}; give email, sms, membership or all").format(
            text=sorted(unknown)[0]))
    how = _clean(how, N_("how consent was given"), 200) or "unknown"
    version = _clean(version, N_("consent wording version"), 64)
    at = at or clock.now()
    if answers.get(MEMBERSHIP) is False:
        answers = {**answers, **{channel: False for channel in OFFERS}}
    if customer.id is None:
        session.flush()
    now = current(session, customer.id)
    written = []
    for channel in CHANNELS:
        if channel not in answers:
            continue
        given, before = bool(answers[channel]), now[channel]
        if before is None and not given:
            continue  # never asked and still no: nothing to prove
        if before is not None and before.given == given and (not given or before.version == version):
            continue
        record = ConsentRecord(customer_id=customer.id, at=at, given=given, how=how, channel=channel,
                               version=version)
        session.add(record)
        written.append(record)
    if EMAIL in answers:
        customer.consent = bool(answers[EMAIL])  # the e-mail answer is the older single "consent"
    session.flush()
    return written


def grant(session: Session, customer: Customer, channels, *, how: str, version: str | None = None,
          at: datetime | None = None) -> list[ConsentRecord]:
    """Record a yes on each of ``channels``."""
    return answer(session, customer, {channel: True for channel in channels}, how=how, version=version, at=at)


def withdraw(session: Session, customer: Customer, channels=CHANNELS, *, how: str,
             at: datetime | None = None) -> list[ConsentRecord]:
    """Record a no on each of ``channels`` (every channel by default): in force from this moment."""
    return answer(session, customer, {channel: False for channel in channels}, how=how, at=at)


def may_send(session: Session, customer: Customer, channel: str, at: datetime | None = None) -> bool:
    """May we send this customer offers (a statement, a reminder) on ``channel`` now: an active customer
    with an address for it whose latest answer on it, at ``at`` (now), is yes."""
    if channel not in OFFERS:
        raise ValueError(channel)
    if customer.status != "active" or not getattr(customer, "email" if channel == EMAIL else "phone"):
        return False
    return customer.id in consenting(session, channel, at, customer_ids=[customer.id])


def consenting(session: Session, channel: str, at: datetime | None = None, *,
               customer_ids: list[int] | None = None) -> set[int]:
    """The ids of the active customers with an address for ``channel`` whose latest answer on it is yes:
    one query, for a run of statements or reminders."""
    if channel not in OFFERS:
        raise ValueError(channel)
    at = at or clock.now()
    latest = (select(ConsentRecord.customer_id, func.max(ConsentRecord.id).label("id"))
              .where(ConsentRecord.channel == channel, ConsentRecord.at <= at)
              .group_by(ConsentRecord.customer_id))
    if customer_ids is not None:
        latest = latest.where(ConsentRecord.customer_id.in_(customer_ids))
    latest = latest.subquery()
    query = (select(Customer.id).join(latest, latest.c.customer_id == Customer.id)
             .join(ConsentRecord, and_(ConsentRecord.id == latest.c.id, ConsentRecord.given))
             .where(Customer.status == "active", ADDRESS[channel].is_not(None)))
    return set(session.execute(query).scalars())


def merge(session: Session, keep: Customer, duplicate: Customer) -> None:
    """A duplicate's answers go to the customer kept where they are the more recent: the same person
    answered later. Each is recorded again for the customer kept, with its own time and wording."""
    mine, theirs = current(session, keep.id), current(session, duplicate.id)
    for channel in CHANNELS:
        answer, kept = theirs[channel], mine[channel]
        if answer is None or (kept is not None and kept.at >= answer.at):
            continue
        if kept is not None and (kept.given, kept.version) == (answer.given, answer.version):
            continue
        session.add(ConsentRecord(customer_id=keep.id, at=answer.at, given=answer.given, channel=channel,
                                  version=answer.version,
                                  how=f"{answer.how} (answered as {duplicate.code}, merged)"[:200]))
        if channel == EMAIL:
            keep.consent = answer.given
    session.flush()
