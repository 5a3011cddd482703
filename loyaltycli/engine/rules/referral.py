"""Referral: a referee's first sale of at least ``referral_min_purchase`` rewards the referee
(``referral_referee_bonus``) and an active referrer (``referral_steps`` by their count of successful
referrals); the caller marks the referral rewarded (``Decision.rewarded``)."""

from __future__ import annotations

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.settings import Setting, amount_setting, whole, whole_setting
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_, _

ORDER = 50


def parse_steps(text: str) -> tuple[tuple[int, int], ...]:
    """'1:200,5:300': from the 1st successful referral 200 points, from the 5th 300."""
    steps = []
    for part in str(text).split(","):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) != 2:
            raise InvalidInput(_('step {part!r} is not FROM_COUNT:POINTS (e.g. 5:300)').format(part=part.strip()))
        steps.append((whole(1, 10**6)(bits[0]), whole(0, 10**9)(bits[1])))
    steps.sort()
    if steps[0][0] != 1:
        raise InvalidInput(_('the first referral step must start at 1'))
    return tuple(steps)


def format_steps(steps) -> str:
    return ",".join(f"{n}:{p}" for n, p in steps)


SETTINGS = (
    amount_setting("referral_min_purchase", "10.00", N_("the referee's first purchase of at least this rewards both")),
    whole_setting("referral_referee_bonus", "100", N_("points for the new customer")),
    Setting("referral_steps", "1:200,5:300", N_("referrer points by count of successful referrals, FROM:POINTS"),
            parse_steps, format_steps),
)
REFEREE = Note("referee", N_("referral: welcome via {code}"))
REFERRER = Note("referrer", N_("referral: {code} made a first purchase (referral #{count})"))
NOTES = (REFEREE, REFERRER)


class ReferralBonus(Rule):
    KEY = "referral"
    needs = frozenset({"referral"})

    def sale(self, engine, event) -> None:
        account, program, at = event.account, engine.program, event.at
        referral = account.referral
        if referral is None or event.amount < program.referral_min_purchase:
            return
        referrer = referral.referrer
        referrer.successful += 1
        key = f"referral:{account.id}"
        expires = engine.expires(at)
        if program.referral_referee_bonus:
            event.out.rows.append(engine.row(account.id, "referral", program.referral_referee_bonus, at, expires,
                                             REFEREE.make(code=referrer.code), key))
        points = program.referrer_bonus(referrer.successful)
        if points and referrer.active:
            event.out.rows.append(engine.row(referrer.id, "referral", points, at, expires,
                                             REFERRER.make(code=account.code, count=referrer.successful), key))
        account.referral = None
        event.out.rewarded = referral


def build(program):
    return ReferralBonus()
