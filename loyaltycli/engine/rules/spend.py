"""Points per spend: whole currency units x earn rate (or, in cashback mode, a percent of the cents) x the
multiplier of the tier the spend in the window before the sale reaches x the best paid membership's,
rounded down per sale. A refund of a sale reverses what the sale earned in points (its visit and item
points too) in proportion to the amount refunded, cumulatively rounded down, nothing once the sale's
points have expired; a refund linked to no sale reverses the amount at the rate in force then."""

from __future__ import annotations

from loyaltycli.engine.notes import make as note
from loyaltycli.engine.rules import Rule
from loyaltycli.base.numbers import decimal_text

ORDER = 10


class SpendPoints(Rule):
    KEY = "spend"
    needs = frozenset({"spend", "memberships"})

    def sale(self, engine, event) -> None:
        account, out, at = event.account, event.out, event.at
        tier, multiplier = engine.rate(account, at, event.us)
        earned = engine.portion_points(event.portions, multiplier)
        out.tier, out.multiplier = tier, multiplier
        if earned:
            out.rows.append(engine.row(account.id, "earn", earned, at, engine.expires(at),
                                       engine.earn_note(event.receipt_id, event.amount, event.channel, tier,
                                                        multiplier)))
        out.earned += earned

    def refund(self, engine, event) -> None:
        account, out, at, sale, amount = event.account, event.out, event.at, event.sale, event.amount
        if sale is None:  # at the base rate (the lowest tier's, no membership): never more than any sale of
            # that amount could have earned, whatever the customer's tier on the refund day
            tier = engine.program.tier_for_spend(0)
            multiplier = tier.multiplier
            reverse = engine.portion_points(event.portions, multiplier)
            if reverse:
                out.rows.append(engine.row(account.id, "refund", -reverse, at, None,
                                           note("refund_unlinked", receipt=event.receipt_id, amount=amount,
                                                multiplier=decimal_text(multiplier))))
            out.earned -= reverse
            out.tier, out.multiplier = tier, multiplier
            return
        # Cumulative rounding: after a full refund exactly the earned points are reversed. Expiry comes
        # before any debit: once the sale's points have expired there is nothing of them to take back.
        reversed_total = sale.earned * (sale.refunded + amount) // sale.amount
        expires = engine.expires(sale.at)
        if expires is not None and at >= expires:
            reversed_total = sale.reversed
        reverse = reversed_total - sale.reversed
        sale.reversed = reversed_total
        if reverse:
            out.rows.append(engine.row(account.id, "refund", -reverse, at, None,
                                       note("refund", receipt=sale.receipt_id, amount=amount)))
        out.earned -= reverse


def build(program):
    return SpendPoints()
