"""Surveys: recording answers (CLI and core), refusals, the interactive flow, and the NPS report."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from loyaltycli.services import surveys
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import SurveyResponse


def enroll(cli, name="Aoife Byrne", at="2025-01-10T09:00"):
    result = cli("enroll", name, "--at", at, "--json")
    assert result.exit_code == 0, result.output
    import json

    return json.loads(result.stdout)["code"]


def stored(database):
    with database.session(write=False) as s:
        return s.execute(select(SurveyResponse).order_by(SurveyResponse.id)).scalars().all()


def test_survey_records_every_score_and_comment(cli, database):
    code = enroll(cli)
    result = cli("survey", code, "--nps", "9", "--csat", "4", "--cli", "1", "2", "3", "--comment", " Lovely scones ")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{code}: survey recorded (NPS 9, CSAT 4, CLI 1 2 3, a comment)"
    [row] = stored(database)
    assert (row.nps, row.csat, row.cli1, row.cli2, row.cli3, row.comment) == (9, 4, 1, 2, 3, "Lovely scones")
    assert row.at.isoformat() == "2026-06-15T12:00:00+00:00"


@pytest.mark.shop_zone("UTC")  # its expected instants are UTC
def test_survey_json_and_backdating(cli):
    code = enroll(cli)
    data = cli.json("survey", code, "--nps", "0", "--at", "2026-03-01T10:00")
    assert data["code"] == code and data["nps"] == 0 and data["csat"] is None and data["cli"] is None
    assert data["at"] == "2026-03-01T10:00:00+00:00"


@pytest.mark.parametrize("args, message", [
    (["--nps", "11"], "NPS score 11 is out of range: give a whole number from 0 to 10"),
    (["--nps", "-1"], "NPS score -1 is out of range: give a whole number from 0 to 10"),
    (["--nps", "7.5"], "NPS score '7.5' must be a whole number from 0 to 10"),
    (["--csat", "0"], "CSAT score 0 is out of range: give a whole number from 1 to 5"),
    (["--csat", "6"], "CSAT score 6 is out of range: give a whole number from 1 to 5"),
    (["--cli", "1", "2", "7"], "CLI question 3 score 7 is out of range: give a whole number from 1 to 6"),
    (["--cli", "0", "2", "3"], "CLI question 1 score 0 is out of range: give a whole number from 1 to 6"),
    ([], "give at least one score: --nps 0..10, --csat 1..5 or --cli A B C (1..6 each)"),
    (["--nps", "5", "--at", "2026-07-01"], "time 2026-07-01 00:00 is in the future"),
])
def test_out_of_range_scores_are_refused_and_nothing_is_stored(cli, database, args, message):
    code = enroll(cli)
    result = cli("survey", code, *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
    assert stored(database) == []


def test_survey_for_unknown_customer_is_refused(cli, database):
    result = cli("survey", "C000099", "--nps", "9")
    assert result.exit_code == 1
    assert "unknown customer 'C000099'" in result.stderr
    assert stored(database) == []


def test_interactive_survey_uses_the_prompt_flow(cli, database, monkeypatch):
    from loyaltycli.cli import options, prompts

    code = enroll(cli)
    asked = []
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: not self.no_input))

    def flow(who):
        asked.append(who)
        return {"nps": "10", "csat": None, "cli": ["2", "2", "1"], "comment": "Great coffee"}

    monkeypatch.setattr(prompts, "survey_flow", flow)
    result = cli("survey", code)
    assert result.exit_code == 0, result.output
    assert asked == [code]
    [row] = stored(database)
    assert (row.nps, row.csat, row.cli1, row.cli2, row.cli3, row.comment) == (10, None, 2, 2, 1, "Great coffee")


def test_interactive_survey_cancelled_saves_nothing(cli, database, monkeypatch):
    from loyaltycli.cli import options, prompts

    code = enroll(cli)
    monkeypatch.setattr(options.Options, "interactive", property(lambda self: not self.no_input))
    monkeypatch.setattr(prompts, "survey_flow", lambda who: None)
    result = cli("survey", code)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: survey cancelled; nothing was saved"
    assert stored(database) == []
    # --no-input never prompts
    result = cli("survey", code, "--no-input")
    assert result.exit_code == 1 and "give at least one score" in result.stderr


def test_core_record_survey_validates(session, program):
    from loyaltycli.services import customers

    customer = customers.enroll(session, program, "Core Customer")
    response = surveys.record_survey(session, customer, nps="8", cli=[6, 6, 6])
    assert (response.nps, response.cli3, response.customer_id) == (8, 6, customer.id)
    with pytest.raises(InvalidInput, match="--cli takes three scores"):
        surveys.record_survey(session, customer, cli=[1, 2])
    with pytest.raises(InvalidInput, match="comment is too long"):
        surveys.record_survey(session, customer, nps=5, comment="x" * 2001)
    assert session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 1
    assert [surveys.nps_group(n) for n in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter"]


def answer(cli, code, *args):
    result = cli("survey", code, *args)
    assert result.exit_code == 0, result.output


def test_nps_report_by_hand(cli):
    # 10,9,9,8,7,6,5,10,3,9: promoters 5 (50%), passives 2, detractors 3 (30%) -> NPS 20
    a, b = enroll(cli, "Ann Promoter"), enroll(cli, "Bob Critic")
    for i, score in enumerate([10, 9, 9, 8, 7, 6, 5, 10, 3, 9]):
        answer(cli, a if i % 2 else b, "--nps", str(score), "--at", f"2026-05-{i + 1:02d}T10:00")
    # CSAT: 5, 4, 2, 1 -> 50 %; CLI means (1+3)/2=2, (2+4)/2=3, (6+6)/2=6 -> (2+3+6)/3 = 3.67
    answer(cli, a, "--csat", "5", "--cli", "1", "2", "6", "--at", "2026-05-20T10:00")
    answer(cli, a, "--csat", "4", "--cli", "3", "4", "6", "--at", "2026-05-21T10:00", "--comment", "Nice")
    answer(cli, b, "--csat", "2", "--at", "2026-05-22T10:00")
    answer(cli, b, "--csat", "1", "--at", "2026-05-23T10:00", "--comment", "Too slow")
    # outside the period: ignored
    answer(cli, a, "--nps", "0", "--at", "2026-04-30T23:59")
    answer(cli, a, "--nps", "0", "--at", "2026-06-01T00:00")
    data = cli.json("report", "nps", "--from", "2026-05-01", "--to", "2026-06-01")
    assert {k: data[k] for k in ("responses", "promoters", "passives", "detractors", "nps")} == {
        "responses": 10, "promoters": 5, "passives": 2, "detractors": 3, "nps": 20}
    assert data["csat"] == 50 and data["csat_responses"] == 4
    assert data["cli"] == 3.67
    assert [c["comment"] for c in data["comments"]] == ["Too slow", "Nice"]
    assert [t["month"] for t in data["trend"]] == ["2026-05"]
    assert data["trend"][0]["nps"] == 20
    csv_out = cli("report", "nps", "--from", "2026-05-01", "--to", "2026-06-01", "--csv").stdout.splitlines()
    assert csv_out[0] == "responses,promoters,passives,detractors,nps,csat_responses,csat,cli"
    assert csv_out[1] == "10,5,2,3,20.0,4,50.0,3.67"


def test_nps_report_without_answers_has_no_score(cli):
    data = cli.json("report", "nps")
    assert data["responses"] == 0 and data["nps"] is None and data["csat"] is None and data["cli"] is None
    assert cli("report", "nps").exit_code == 0


def test_demo_stores_the_sample_surveys(cli, database, tmp_path):
    import csv

    from loyaltycli.services.demo import sample_dir

    # A slice of the sample shop (three customers, their survey answers) keeps the test quick.
    with (sample_dir() / "customers.csv").open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    (tmp_path / "customers.csv").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    cards = {row["card"] for row in csv.DictReader(lines[:4])}
    (tmp_path / "till.csv").write_text("receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n",
                                       encoding="utf-8")
    with (sample_dir() / "surveys.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [r for r in reader if r["customer"] in cards and r["at"] < "2026-06-15"]
        with (tmp_path / "surveys.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
            writer.writeheader()
            writer.writerows(rows)
    assert len(rows) >= 3
    result = cli("init", "--demo", "--sample-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    answers = stored(database)
    assert len(answers) == len(rows)
    assert [a.nps for a in answers] == [int(r["nps"]) for r in rows]
    assert [a.csat for a in answers] == [int(r["csat"]) if r["csat"] else None for r in rows]
    assert [a.cli1 for a in answers] == [int(r["cli1"]) if r["cli1"] else None for r in rows]
    assert [a.comment for a in answers] == [r["comment"] or None for r in rows]
