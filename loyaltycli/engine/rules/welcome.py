"""The welcome bonus: ``welcome_bonus`` points at enrollment (key ``welcome``), expiring as any credit."""

from __future__ import annotations

from loyaltycli.base.settings import whole_setting
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_

ORDER = 80
SETTINGS = (whole_setting("welcome_bonus", "50", N_("points at enrollment")),)
WELCOME = Note("welcome", N_("welcome bonus"))
NOTES = (WELCOME,)


class Welcome(Rule):
    KEY = "welcome"

    def __init__(self, points: int):
        self.points = points

    def enroll(self, engine, event) -> None:
        event.out.rows.append(engine.row(event.account.id, "welcome", self.points, event.at,
                                         engine.expires(event.at), WELCOME.make(), "welcome"))
        event.out.earned += self.points


def build(program):
    return Welcome(program.welcome_bonus) if program.welcome_bonus else None
