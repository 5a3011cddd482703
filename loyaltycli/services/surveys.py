"""Customer feedback: NPS (0-10), CSAT (1-5) and the three CLI questions (1-6 each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy.orm import Session

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import Customer, SurveyResponse
from loyaltycli.i18n import N_, _

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
CLI_RANGE = (1, 6)
MAX_COMMENT = 2000

# The three Customer Loyalty Index questions (each 1 = very likely/good ... 6 = not at all).
CLI_QUESTIONS = (  # English msgids, translated where they are asked (cli/prompts.py)
    N_("How likely are you to recommend us to a friend?"),
    N_("How likely are you to shop with us again?"),
    N_("How likely are you to try our other products?"),
)


@dataclass
class SurveyAnswers:
    nps: int | None = None
    csat: int | None = None
    cli: tuple[int, int, int] | None = None
    comment: str | None = None


def check_score(value, low: int, high: int, what: str) -> int:
    """A whole number within [low, high], or InvalidInput that says the range."""
    try:
        score = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(_('{what} score {value!r} must be a whole number from {low} to {high}').format(what=_(what), value=value, low=low, high=high)) from None
    if not low <= score <= high:
        raise InvalidInput(_('{what} score {score} is out of range: give a whole number from {low} to {high}').format(what=_(what), score=score, low=low, high=high))
    return score


def check_answers(nps=None, csat=None, cli: Sequence | None = None, comment: str | None = None) -> SurveyAnswers:
    """Validate one response; at least one score is required."""
    out = SurveyAnswers()
    if nps is not None:
        out.nps = check_score(nps, *NPS_RANGE, "NPS")
    if csat is not None:
        out.csat = check_score(csat, *CSAT_RANGE, "CSAT")
    if cli is not None:
        if len(cli) != 3:
            raise InvalidInput(_('--cli takes three scores (one per question), not {count}').format(count=len(cli)))
        out.cli = tuple(check_score(v, *CLI_RANGE, f"CLI question {i + 1}") for i, v in enumerate(cli))
    if out.nps is None and out.csat is None and out.cli is None:
        raise InvalidInput(_('give at least one score: --nps 0..10, --csat 1..5 or --cli A B C (1..6 each)'))
    if comment is not None:
        from loyaltycli.base.textkey import check_plain_text

        comment = check_plain_text(comment, "comment").strip() or None
        if comment and len(comment) > MAX_COMMENT:
            raise InvalidInput(_('comment is too long ({count} characters; at most {max_comment})').format(count=len(comment), max_comment=MAX_COMMENT))
        out.comment = comment
    return out


def record_survey(session: Session, customer: Customer | None, *, nps=None, csat=None,
                  cli: Sequence | None = None, comment: str | None = None,
                  at: datetime | None = None) -> SurveyResponse:
    """Store one survey response (validated); ``at`` defaults to now and may not be in the future."""
    answers = check_answers(nps, csat, cli, comment)
    now = clock.now()
    at = at or now
    if at > now + clock.DAY / 24 / 12:  # a few minutes of clock skew between tills
        raise InvalidInput(_('time {at} is in the future').format(at=clock.local_text(at)))
    cli1, cli2, cli3 = answers.cli or (None, None, None)
    response = SurveyResponse(customer_id=customer.id if customer else None, at=at, nps=answers.nps,
                              csat=answers.csat, cli1=cli1, cli2=cli2, cli3=cli3, comment=answers.comment)
    session.add(response)
    session.flush()
    return response


def nps_group(score: int) -> str:
    """promoter (9-10), passive (7-8) or detractor (0-6)."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
