"""Ledger notes as people read them, for rows written before notes were data (migration 0008).

A row written since keeps its note as a kind and values (``engine.notes``), rendered in the reader's
language. An older row has its English text alone (amounts as 12.50: append-only, the same for every
till and every export): a statement shown to people (`history`, `customer show`, e-mailed statements)
reads the notes the program wrote itself then and says them again in the person's language; a note
typed by a person (`award --reason`), or one of a shape not known here, is shown as it is. JSON and
CSV keep the stored note.
"""

from __future__ import annotations

import re

from loyaltycli.i18n import _, ngettext

_AMOUNT = r"-?\d+\.\d{2}"
_ID = r"\S+"


def _money(text: str) -> str:
    from decimal import Decimal

    from loyaltycli.base.money import format_money

    return format_money(int(Decimal(text) * 100))


def _rate(tier: str, multiplier: str) -> str:
    from decimal import Decimal

    from loyaltycli.base.money import format_number

    digits = len(multiplier.partition(".")[2])
    return f"{tier} x{format_number(Decimal(multiplier), decimals=digits)}"


def _stamps(count: str) -> str:
    return ngettext("{count} stamp", "{count} stamps", int(count)).format(count=count)


def _channel(name: str | None) -> str:
    return _(name) if name else ""


# (pattern, how it is said): the notes engine/, services/ and store/ write.
_NOTES = [
    (re.compile(r"^welcome bonus$"), lambda m: _("welcome bonus")),
    (re.compile(rf"^receipt (?P<id>{_ID}) (?P<amount>{_AMOUNT})(?: (?P<channel>[\w-]+))? \((?P<tier>[^()]*) "
                rf"x(?P<mult>[\d.]+)\)$"),
     lambda m: _("receipt {receipt} {amount} {channel} ({rate})").format(
         receipt=m["id"], amount=_money(m["amount"]), channel=_channel(m["channel"]),
         rate=_rate(m["tier"], m["mult"])).replace("  ", " ")),
    (re.compile(rf"^receipt (?P<id>{_ID}) (?P<amount>{_AMOUNT})(?: (?P<channel>[\w-]+))?$"),
     lambda m: _("receipt {receipt} {amount} {channel}").format(
         receipt=m["id"], amount=_money(m["amount"]), channel=_channel(m["channel"])).strip()),
    (re.compile(r"^milestone: (?P<year>\d{4}) spend reached (?P<goal>\d+)$"),
     lambda m: _("milestone: {year} spend reached {amount}").format(year=m["year"],
                                                                    amount=_money(m["goal"] + ".00"))),
    (re.compile(rf"^receipt (?P<id>{_ID}): visit points$"),
     lambda m: _("receipt {receipt}: visit points").format(receipt=m["id"])),
    (re.compile(rf"^receipt (?P<id>{_ID}): (?P<n>\d+) stamps? on (?P<card>.+)$"),
     lambda m: _("receipt {receipt}: {stamps} on {card}").format(receipt=m["id"], stamps=_stamps(m["n"]),
                                                                 card=m["card"])),
    (re.compile(r"^(?P<n>\d+) stamps? on (?P<card>.+) expired: the card was not filled within (?P<days>\d+) days$"),
     lambda m: _("{stamps} on {card} expired: the card was not filled within {days} days").format(
         stamps=_stamps(m["n"]), card=m["card"], days=m["days"])),
    (re.compile(r"^(?P<card>.+) card complete \((?P<n>\d+) stamps\)$"),
     lambda m: _("{card} card complete ({stamps})").format(card=m["card"], stamps=_stamps(m["n"]))),
    (re.compile(rf"^refund of receipt (?P<id>{_ID}): (?P<amount>{_AMOUNT})$"),
     lambda m: _("refund of receipt {receipt}: {amount}").format(receipt=m["id"], amount=_money(m["amount"]))),
    (re.compile(rf"^refund (?P<id>{_ID}): (?P<amount>{_AMOUNT}) \((?P<tier>[^()]*) x(?P<mult>[\d.]+), "
                r"no sale linked\)$"),
     lambda m: _("refund {receipt}: {amount} ({rate}, no sale linked)").format(
         receipt=m["id"], amount=_money(m["amount"]), rate=_rate(m["tier"], m["mult"]))),
    (re.compile(r"^(?P<n>\d+) points earned (?:on )?(?P<day>\d{4}-\d{2}-\d{2}) expired$"),
     lambda m: ngettext("{points} point earned on {day} expired", "{points} points earned on {day} expired",
                        int(m["n"])).format(points=m["n"], day=m["day"])),
    (re.compile(r"^points forfeited: personal data erased$"), lambda m: _("points forfeited: personal data erased")),
    (re.compile(rf"^redeemed for (?P<amount>{_AMOUNT})$"),
     lambda m: _("redeemed for {amount}").format(amount=_money(m["amount"]))),
    (re.compile(r"^reward (?P<name>.+)$"), lambda m: _("reward {name}").format(name=m["name"])),
    (re.compile(r"^donated to (?P<cause>.+)$"), lambda m: _("donated to {cause}").format(cause=m["cause"])),
    (re.compile(r"^used: (?P<reward>.+)$"), lambda m: _("used: {reward}").format(reward=m["reward"])),
    (re.compile(rf"^rebate (?P<pct>[\d.]+)% on (?P<year>\d{{4}}) spend (?P<amount>{_AMOUNT})$"),
     lambda m: _("year-end rebate: {percent}% of {amount} spent in {year}").format(
         percent=_number(m["pct"]), year=m["year"], amount=_money(m["amount"]))),
]


def _number(text: str) -> str:
    from loyaltycli.base.money import format_number

    return format_number(text, decimals=len(text.partition(".")[2]))


def row_note(row) -> str:
    """A statement row's note for people (a dict with ``note``, ``note_kind`` and ``note_args``): from its
    kind and values, else (an older row) its stored text said again."""
    from loyaltycli.engine.notes import row_note as from_kind

    if row.get("note_kind"):
        return from_kind(row)
    return shown_note(row.get("note")) or ""


def shown_note(note: str | None) -> str | None:
    """A stored ledger note in the person's language (a note of unknown shape: as stored)."""
    if not note:
        return note
    for pattern, say in _NOTES:
        found = pattern.match(note)
        if found:
            try:
                return say(found)
            except (ValueError, ArithmeticError):  # a hand-written note that only looks like ours
                return note
    return note
