"""What a ledger row says, as data: a kind of note and its values, rendered in the reader's language.

A row keeps three things: ``note``, the fixed English text (what `history --json` and every CSV show,
as they always did), ``note_kind`` and ``note_args`` (JSON of the values: receipt ids, amounts in cents,
points, dates). People read the note rendered at display time from the kind and values, in the language
of the block (``i18n.speaking``) and with amounts written the shop's way (``2,80 €``). Rows written before
notes were data have no kind: they are shown as their stored text.

Pure: no database, no clock. ``make`` is called by the engine and every writer of ledger rows; ``render``
by whatever shows a note to people (history, customer show, slips, statements).
"""

from __future__ import annotations

import json

from loyaltycli.i18n import N_, Nn_

# kind -> (English template; a plural template or None; the value that chooses the plural form). A
# template with a plural is marked Nn_ (extracted as one message with its plural forms).
# The template is also the message id of the translation: the stored text is the template filled in
# English with amounts as plain decimals, exactly the text each writer stored before notes were data.
KINDS: dict[str, tuple[str, str | None, str | None]] = {
    "welcome": (N_("welcome bonus"), None, None),
    "earn": (N_("receipt {receipt} {amount} {channel} ({tier} x{multiplier})"), None, None),
    "visit": (N_("receipt {receipt}: visit points"), None, None),
    "item_rule": (N_("receipt {receipt}: {rule}"), None, None),
    "milestone": (N_("milestone: {year} spend reached {goal}"), None, None),
    "referee": (N_("referral: welcome via {code}"), None, None),
    "referrer": (N_("referral: {code} made a first purchase (referral #{count})"), None, None),
    "refund": (N_("refund of receipt {receipt}: {amount}"), None, None),
    "refund_unlinked": (N_("refund {receipt}: {amount} (base rate x{multiplier}, no sale linked)"), None, None),
    "expire": (*Nn_("{points} point earned on {day} expired", "{points} points earned on {day} expired"),
               "points"),
    "merge": (N_("merged {duplicate} into {keep}"), None, None),
    "merge_lot": (*Nn_("merged {duplicate} into {keep}: {points} point earned {day}",
                       "merged {duplicate} into {keep}: {points} points earned {day}"), "points"),
    "merge_bonus": (N_("merged {duplicate} into {keep}: bonus {key} was already given to {duplicate}"), None,
                    None),
    "forget": (N_("points forfeited: personal data erased"), None, None),
    "redeem_value": (N_("redeemed for {value}"), None, None),
    "redeem_reward": (N_("reward {reward}"), None, None),
    "donate": (N_("donated to {cause}"), None, None),
    "birthday": (N_("happy birthday ({day})"), None, None),
    "rebate": (N_("year-end rebate: {percent}% of {amount} spent in {year}"), None, None),
    # the stamp-card ledger
    "stamp": (*Nn_("receipt {receipt}: {stamps} stamp on {card}",
                   "receipt {receipt}: {stamps} stamps on {card}"), "stamps"),
    "unstamp": (*Nn_("refund of receipt {receipt}: {stamps} stamp taken back",
                     "refund of receipt {receipt}: {stamps} stamps taken back"), "stamps"),
    "card_complete": (N_("{card} card complete ({stamps} stamps)"), None, None),
    "card_expire": (*Nn_("{stamps} stamp on {card} expired: the card was not filled within {days} days",
                         "{stamps} stamps on {card} expired: the card was not filled within {days} days"),
                    "stamps"),
    "voucher_used": (N_("used: {reward}"), None, None),
    "card_restated": (N_("{card} put in time order: receipt {receipt} of {day} was recorded after later ones"), None,
                      None),
}
# Kinds whose stored English always took the plural wording ("1 points earned on ... expired"): kept so.
ALWAYS_PLURAL = frozenset({"expire", "merge_lot"})

# Values that are amounts in cents: written as plain decimals in the stored text, the shop's way when
# shown ('2.80' / '2,80 €'); goals are whole units in the stored text ('reached 500').
MONEY = frozenset({"amount", "value"})
WHOLE_UNITS = frozenset({"goal"})
# Values that are words of ours (a sale's channel): translated when shown, when the catalog has them.
WORDS = frozenset({"channel"})


def english(kind: str, args: dict) -> str:
    """The fixed English text of a note (stored in ``note``; JSON and CSV show it)."""
    template, plural, count = KINDS[kind]
    if plural is not None and (kind in ALWAYS_PLURAL or abs(int(args[count])) != 1):
        template = plural
    values = dict(args)
    for name in MONEY & values.keys():
        values[name] = _plain(values[name])
    for name in WHOLE_UNITS & values.keys():
        values[name] = str(int(values[name]) // 100)
    return template.format(**values)[:500]


def make(kind: str, **args) -> tuple[str, str, str]:
    """A note as a row stores it: (English text, kind, JSON of the values)."""
    return english(kind, args), kind, json.dumps(args, ensure_ascii=False, separators=(",", ":"))


def render(kind: str | None, args: str | dict | None, text: str | None) -> str:
    """A note for people, in the current language (``i18n.speaking``) with amounts the shop's way. A row
    without a kind (written before notes were data, or a reason typed by staff) is its stored text; so is
    a kind or values this version does not know (a newer program wrote them)."""
    if not kind or kind not in KINDS:
        return text or ""
    try:
        values = json.loads(args) if isinstance(args, str) else dict(args or {})
        return _render(kind, values)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return text or ""


def _render(kind: str, values: dict) -> str:
    from loyaltycli.base.money import format_money
    from loyaltycli.i18n import gettext, ngettext

    template, plural, count = KINDS[kind]
    for name in (MONEY | WHOLE_UNITS) & values.keys():
        values[name] = format_money(int(values[name]))
    for name in WORDS & values.keys():
        values[name] = gettext(str(values[name]))
    if plural is not None:
        return ngettext(template, plural, abs(int(values[count]))).format(**values)
    return gettext(template).format(**values)


def row_note(row) -> str:
    """``render`` of a statement row (a dict with ``note``, ``note_kind`` and ``note_args``)."""
    return render(row.get("note_kind"), row.get("note_args"), row.get("note"))


def _plain(cents) -> str:
    from loyaltycli.base.money import format_amount

    return format_amount(int(cents))
