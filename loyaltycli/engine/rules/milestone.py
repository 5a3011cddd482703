"""The milestone: when a customer's spend in a calendar year (the shop's) first reaches
``milestone_spend``, ``milestone_bonus`` points, once a year (its key ``milestone:YEAR``)."""

from __future__ import annotations

from loyaltycli.base.settings import amount_setting, whole_setting
from loyaltycli.engine.note import Note
from loyaltycli.engine.rules import Rule
from loyaltycli.i18n import N_

ORDER = 40
SETTINGS = (amount_setting("milestone_spend", "500.00", N_("calendar-year spend that earns the milestone bonus")),
            whole_setting("milestone_bonus", "250",
                          N_("points when the year's spend first reaches milestone_spend (0: off)")))
MILESTONE = Note("milestone", N_("milestone: {year} spend reached {goal}"))
NOTES = (MILESTONE,)


class Milestone(Rule):
    KEY = "milestone"
    needs = frozenset({"spend", "bonus_keys"})

    def __init__(self, bonus: int, goal: int):
        self.bonus = bonus
        self.goal = goal
        self._keys: dict[int, str] = {}

    def sale(self, engine, event) -> None:
        account, at = event.account, event.at
        year, start, _ = engine.year_span(at, event.us)
        key = self._keys.get(year)
        if key is None:
            key = self._keys[year] = f"milestone:{year}"
        if key in account.bonus_keys:
            return
        if account.spend_between(start, event.us, inclusive=True) + event.amount >= self.goal:
            account.add_bonus(key)
            event.out.rows.append(engine.row(account.id, "milestone", self.bonus, at, engine.expires(at),
                                             MILESTONE.make(year=year, goal=self.goal), key))


def build(program):
    if program.milestone_bonus and program.milestone_spend:
        return Milestone(program.milestone_bonus, program.milestone_spend)
    return None
