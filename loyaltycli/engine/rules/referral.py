"""Referral: a referee's first sale of at least ``referral_min_purchase`` rewards the referee
(``referral_referee_bonus``) and an active referrer (``referral_steps`` by their count of successful
referrals); the caller marks the referral rewarded (``Decision.rewarded``)."""

from __future__ import annotations

from loyaltycli.engine.notes import make as note
from loyaltycli.engine.rules import Rule

ORDER = 50


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
                                             note("referee", code=referrer.code), key))
        points = program.referrer_bonus(referrer.successful)
        if points and referrer.active:
            event.out.rows.append(engine.row(referrer.id, "referral", points, at, expires,
                                             note("referrer", code=account.code, count=referrer.successful), key))
        account.referral = None
        event.out.rewarded = referral


def build(program):
    return ReferralBonus()
