"""Points per spend: whole currency units x earn rate (or, in cashback mode, a percent of the cents) x the
multiplier of the tier the spend in the window before the sale reaches x the best paid membership's,
rounded down per sale. A refund of a sale reverses what the sale earned in points (its visit and item
points too) in proportion to the amount refunded, cumulatively rounded down, nothing once the sale's
points have expired; a refund linked to no sale reverses the amount at the rate in force then."""

from __future__ import annotations

from loyaltycli.base.numbers import decimal_text
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_

ORDER = 10
# a sale's note is built by the engine at the import's pace (``Engine.earn_note``), as EARN makes it
EARN = Note("earn", N_("receipt {receipt} {amount} {channel} ({tier} x{multiplier})"))
REFUND = Note("refund", N_("refund of receipt {receipt}: {amount}"))
REFUND_UNLINKED = Note("refund_unlinked", N_("refund {receipt}: {amount} (base rate x{multiplier}, no sale linked)"))
NOTES = (EARN, REFUND, REFUND_UNLINKED)


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
                                           REFUND_UNLINKED.make(receipt=event.receipt_id, amount=amount,
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
                                       REFUND.make(receipt=sale.receipt_id, amount=amount)))
        out.earned -= reverse


def build(program):
    return SpendPoints()
