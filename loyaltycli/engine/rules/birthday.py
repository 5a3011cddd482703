"""The birthday bonus: ``birthday_bonus`` points on a customer's birthday (`birthdays --award`), once a
year (key ``birthday:YEAR``; who is due, and who had it already, the caller reads)."""

from __future__ import annotations

from loyaltycli.base.settings import whole_setting
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_

ORDER = 90
SETTINGS = (whole_setting("birthday_bonus", "100", N_("points `birthdays --award` gives once a year (0: off)")),)
BIRTHDAY = Note("birthday", N_("happy birthday ({day})"))
NOTES = (BIRTHDAY,)


class Birthday(Rule):
    KEY = "birthday"

    def __init__(self, points: int):
        self.points = points

    def occasion(self, engine, event) -> None:
        if event.occasion != "birthday":
            return
        event.out.rows.append(engine.row(event.account.id, "birthday", self.points, event.at,
                                         engine.expires(event.at), BIRTHDAY.make(day=event.detail), event.key))
        event.out.earned += self.points


def build(program):
    return Birthday(program.birthday_bonus) if getattr(program, "birthday_bonus", 0) else None
