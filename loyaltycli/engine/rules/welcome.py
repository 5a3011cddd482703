"""The welcome bonus: ``welcome_bonus`` points at enrollment (key ``welcome``), expiring as any credit."""

from __future__ import annotations

from loyaltycli.engine.notes import make as note
from loyaltycli.engine.rules import Rule

ORDER = 80


class Welcome(Rule):
    KEY = "welcome"

    def __init__(self, points: int):
        self.points = points

    def enroll(self, engine, event) -> None:
        event.out.rows.append(engine.row(event.account.id, "welcome", self.points, event.at,
                                         engine.expires(event.at), note("welcome"), "welcome"))
        event.out.earned += self.points


def build(program):
    return Welcome(program.welcome_bonus) if program.welcome_bonus else None
