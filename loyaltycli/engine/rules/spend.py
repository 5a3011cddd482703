"""Points per spend: whole currency units x earn rate (or, in cashback mode, a percent of the cents) x the
multiplier of the tier the spend in the window before the sale reaches x the best paid membership's,
rounded down per sale. A refund of a sale reverses what the sale earned in points (its visit and item
points too) in proportion to the amount refunded, cumulatively rounded down, nothing once the sale's
points have expired; a refund linked to no sale reverses the amount at the rate in force then."""

from __future__ import annotations

from loyaltycli.core.money import format_amount
from loyaltycli.engine.rules import Rule

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
            out.rows.append([account.id, "earn", earned, at, engine.expires(at), None, None, None,
                             f"receipt {event.receipt_id} {engine.amount_text(event.amount)} {event.channel} "
                             f"{engine.rate_text(tier, multiplier)}"[:500], engine.recorded])
        out.earned += earned

    def refund(self, engine, event) -> None:
        account, out, at, sale, amount = event.account, event.out, event.at, event.sale, event.amount
        if sale is None:
            tier, multiplier = engine.rate(account, at, event.us)
            reverse = engine.portion_points(event.portions, multiplier)
            if reverse:
                out.rows.append(engine.row(account.id, "refund", -reverse, at, None,
                                           f"refund {event.receipt_id}: {format_amount(amount)} "
                                           f"({tier.name} x{multiplier.normalize()}, no sale linked)"))
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
                                       f"refund of receipt {sale.receipt_id}: {format_amount(amount)}"))
        out.earned -= reverse


def build(program):
    return SpendPoints()
