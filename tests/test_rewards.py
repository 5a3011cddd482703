"""The reward catalogue: add, list, remove, redeem at the reward's cost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from loyaltycli.services import customers, points, rewards
from loyaltycli.store import ledger
from loyaltycli.base.errors import InsufficientPoints, NotFound, RuleNotMet
from loyaltycli.store.models import Redemption, Reward


@pytest.fixture
def shop(cli):
    cli("enroll", "Ann", "--email", "ann@example.ie", "--at", "2026-01-01")
    cli("purchase", "C000001", "200.00", "--at", "2026-02-01")  # 50 + 200 = 250 points


def test_add_list_and_redeem_a_reward(cli, shop):
    result = cli("reward", "add", "Free coffee", "--cost", "100")
    assert (result.exit_code, result.stdout) == (0, "reward Free coffee: 100 points\n")
    cli("reward", "add", "Tote bag", "--cost", "400")
    redeemed = cli.json("redeem", "C000001", "--reward", "free COFFEE")
    assert redeemed == {"code": "C000001", "points": 100, "value": "5.00", "balance": 150, "reward": "Free coffee",
                        "currency": "EUR"}
    assert cli.json("reward", "list") == [
        {"reward": "Free coffee", "cost": 100, "value": "5.00", "redeemed": 1, "currency": "EUR"},
        {"reward": "Tote bag", "cost": 400, "value": "20.00", "redeemed": 0, "currency": "EUR"}]
    short = cli("redeem", "C000001", "--reward", "Tote bag")
    assert short.exit_code == 1
    assert short.stderr == "error: C000001 has 150 points; 400 needed\n"
    assert cli.json("balance", "C000001")["balance"] == 150


def test_reward_cost_must_match_given_points(cli, shop):
    cli("reward", "add", "Free coffee", "--cost", "100")
    result = cli("redeem", "C000001", "120", "--reward", "Free coffee")
    assert result.exit_code == 1
    assert result.stderr == "error: reward Free coffee costs 100 points, not 120\n"


def test_remove_and_readd(cli, shop):
    cli("reward", "add", "Free coffee", "--cost", "100")
    assert cli("reward", "remove", "free coffee").stdout == "reward Free coffee removed\n"
    gone = cli("redeem", "C000001", "--reward", "Free coffee")
    assert gone.exit_code == 1
    assert gone.stderr == "error: unknown reward 'Free coffee'; see `loyalty reward list`\n"
    assert cli.json("reward", "list") == []
    assert cli("reward", "remove", "Free coffee").exit_code == 1
    assert cli("reward", "add", "Free Coffee", "--cost", "120").exit_code == 0
    assert cli.json("reward", "list")[0]["cost"] == 120


def test_refusals(cli):
    low = cli("reward", "add", "Sticker", "--cost", "50")
    assert low.exit_code == 1
    assert low.stderr == ("error: --cost 50 is below the minimum redemption (100 points); raise the cost or "
                          "`loyalty program set min_redemption N`\n")
    neg = cli("reward", "add", "Sticker", "--cost", "-5")
    assert neg.exit_code == 1 and neg.stderr == "error: --cost must be a positive whole number of points\n"
    cli("reward", "add", "Mug", "--cost", "300")
    dup = cli("reward", "add", "MUG", "--cost", "200")
    assert dup.exit_code == 1 and "already exists at 300 points" in dup.stderr


def test_core_redeem_reward_records_redemption(session, program):
    ann = customers.enroll(session, program, "Ann", email="ann@example.ie", at=points.check_when(None))
    mug = rewards.add_reward(session, program, "Mug", 300)
    with pytest.raises(InsufficientPoints):
        points.redeem(session, program, ann, reward="Mug")
    points.award(session, program, ann, 260, "launch gift")
    result = points.redeem(session, program, ann, reward="mug")
    assert (result.points, result.value, result.balance) == (300, 1500, 10)
    row = session.execute(select(Redemption)).scalar_one()
    assert (row.reward_id, row.points, row.value) == (mug.id, 300, 1500)
    rewards.remove_reward(session, "Mug")
    assert session.get(Reward, mug.id).active is False
    with pytest.raises(NotFound):
        points.redeem(session, program, ann, reward="Mug")
    with pytest.raises(RuleNotMet):
        rewards.add_reward(session, program, "Pin", 99)
    assert ledger.balance(session, ann.id) == 10
