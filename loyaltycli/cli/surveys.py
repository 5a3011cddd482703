"""Survey command: record a customer's NPS, CSAT and CLI answers (asked step by step on a terminal)."""

from __future__ import annotations

from typing import Optional, Tuple

import typer

from loyaltycli.cli import options
from loyaltycli.cli.exits import fail
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _


def survey(
    key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
    nps: Optional[str] = typer.Option(None, "--nps", metavar="0..10",
                                      help="How likely to recommend us (0 = not at all, 10 = extremely)."),
    csat: Optional[str] = typer.Option(None, "--csat", metavar="1..5", help="Satisfaction with this visit."),
    cli_: Optional[Tuple[str, str, str]] = typer.Option(
        None, "--cli", metavar="A B C", help="The three loyalty-index answers, 1 (definitely) .. 6 (not at all)."),
    comment: Optional[str] = typer.Option(None, "--comment", help="What the customer said, in their words."),
    at: Optional[str] = typer.Option(None, "--at", help="When it was answered (ISO-8601)."),
) -> None:
    """Record a survey answer (NPS, CSAT, CLI); with no score on a terminal, asks step by step.

    Example: loyalty survey C000001 --nps 9 --csat 5 --comment "Lovely scones"
    """
    from loyaltycli.shop import clock
    from loyaltycli.services import customers
    from loyaltycli.services import surveys as core
    from loyaltycli.store.program import load_program

    cli_scores = list(cli_) if cli_ and any(v is not None for v in cli_) else None
    db = options.database()
    when = clock.parse_timestamp(at, what="--at", local_formats=True) if at else None
    with db.session(write=False) as session:
        program = load_program(session)
        customer = customers.find(session, key, program)
        code = customer.code
    if nps is None and csat is None and cli_scores is None:
        if not options.current.interactive:
            fail(_("give at least one score: --nps 0..10, --csat 1..5 or --cli A B C (1..6 each)"))
        from loyaltycli.cli import prompts

        # the shop's own wording of the questions, when it has one (else the translated defaults)
        wording = {name: text for name, text in (("nps_question", program.survey_nps_question),
                                                 ("csat_question", program.survey_csat_question)) if text}
        answers = prompts.survey_flow(code, **wording)
        if answers is None:
            fail(_("survey cancelled; nothing was saved"))
        nps, csat, cli_scores = answers.get("nps"), answers.get("csat"), answers.get("cli")
        comment = answers.get("comment") if comment is None else comment
        skipped = answers.get("skipped") or []
        if nps is None and csat is None and cli_scores is None:
            fail(_("no score was given; nothing was saved"))
    else:
        skipped = []
    with db.session() as session:
        customer = customers.find(session, key, load_program(session))
        response = core.record_survey(session, customer, nps=nps, csat=csat, cli=cli_scores, comment=comment,
                                      at=when)
        data = {"id": response.id, "code": customer.code, "at": response.at, "nps": response.nps,
                "csat": response.csat,
                "cli": [response.cli1, response.cli2, response.cli3] if response.cli1 is not None else None,
                "comment": response.comment}
    parts = [f"NPS {data['nps']}" if data["nps"] is not None else "",
             f"CSAT {data['csat']}" if data["csat"] is not None else "",
             "CLI " + " ".join(map(str, data["cli"])) if data["cli"] else "",
             _("a comment") if data["comment"] else ""]
    answers = ", ".join(p for p in parts if p)
    if skipped:
        message = _("{code}: survey recorded ({answers}); skipped: {skipped}").format(
            code=data["code"], answers=answers, skipped=", ".join(skipped))
    else:
        message = _("{code}: survey recorded ({answers})").format(code=data["code"], answers=answers)
    emit(data, message=message)


# Negative numbers ('--nps -1') reach the command as values, to be refused with a clear reason.
NUMBERS = {"ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    app.command("survey", context_settings=NUMBERS)(survey)
