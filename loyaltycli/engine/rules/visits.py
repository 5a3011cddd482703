"""Visit points: a fixed number of points (``earn_per_visit``) for every sale of at least
``visit_min_amount``, as an earn row (a refund reverses them with the spend points)."""

from __future__ import annotations

from loyaltycli.base.settings import amount_setting, whole_setting
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_

ORDER = 20
SETTINGS = (whole_setting("earn_per_visit", "0", N_("points for every purchase of at least visit_min_amount (0: off)")),
            amount_setting("visit_min_amount", "0.00", N_("smallest purchase that earns earn_per_visit points")))
VISIT = Note("visit", N_("receipt {receipt}: visit points"))
NOTES = (VISIT,)


class VisitPoints(Rule):
    KEY = "visits"

    def __init__(self, points: int, minimum: int):
        self.points = points
        self.minimum = minimum

    def sale(self, engine, event) -> None:
        if event.amount >= self.minimum:
            event.out.rows.append(engine.row(event.account.id, "earn", self.points, event.at,
                                             engine.expires(event.at), VISIT.make(receipt=event.receipt_id)))
            event.out.earned += self.points


def build(program):
    points = getattr(program, "earn_per_visit", 0) or 0
    return VisitPoints(points, getattr(program, "visit_min_amount", 0) or 0) if points else None
