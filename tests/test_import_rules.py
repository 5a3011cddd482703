"""The importer gives the counter's balances, and a killed import completes to the same end state."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loyaltycli.shop import clock
from loyaltycli.services import customers, importer, points
from loyaltycli.store import storage
from loyaltycli.store.db import Database
from loyaltycli.store.models import (Customer, GoalEntry, ImportRun, LedgerEntry, Membership, MembershipPlan, Purchase,
                                    PurchaseItem)
from loyaltycli.store.program import load_program

HEADER = "receipt_id,timestamp,customer,amount,channel,sku,quantity,unit_price\n"
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def setup_shop(database: Database) -> None:
    """Twelve customers (some referred, one with a x2 membership), the same in every database."""
    with database.session() as s:
        program = load_program(s)
        made = []
        for n in range(12):
            referrer = made[n // 3 - 1] if n % 3 == 2 and n >= 3 else None
            made.append(customers.enroll(
                s, program, f"Customer {n}", card=f"600010000{n:04d}", email=f"c{n}@example.ie",
                referral_code=referrer.referral_code if referrer else None, at=START - timedelta(days=30 - n)))
        plan = MembershipPlan(name="Plus", fee=1000, months=12, multiplier="2")
        s.add(plan)
        s.flush()
        s.add(Membership(customer_id=made[4].id, plan_id=plan.id, started_at=START + timedelta(days=100),
                         ends_at=START + timedelta(days=300), fee=1000))


def generate(rng: random.Random, receipts: int = 100) -> tuple[str, list[dict]]:
    """A till file in timestamp order: sales of 1-3 lines crossing tiers and milestones, partial refunds."""
    lines, plan = [HEADER], []
    sales = []
    t = START
    for n in range(receipts):
        t += timedelta(hours=rng.randint(1, 120), minutes=rng.randint(0, 59))
        key_n = rng.randrange(12)
        key = rng.choice([f"600010000{key_n:04d}", f"c{key_n}@example.ie", f"C{key_n + 1:06d}"])
        if sales and rng.random() < 0.12:
            sale = rng.choice(sales)
            left = sale["amount"] - sale["refunded"]
            if left <= 0:
                continue
            amount = rng.randint(1, left)
            sale["refunded"] += amount
            sale["refunds"] += 1
            rid = f"{sale['rid']}/R{sale['refunds']}" if rng.random() < 0.5 or sale["refunds"] > 1 else \
                f"{sale['rid']}-R"
            if rid.endswith("-R"):
                sale["refunds"] = 99  # one -R per sale; later refunds would need another id
            when = t.strftime("%Y-%m-%dT%H:%M:%S")
            lines.append(f"{rid},{when},{sale['key']},-{amount // 100}.{amount % 100:02d},store,RET,-1,"
                         f"{amount // 100}.{amount % 100:02d}\n")
            plan.append({"kind": "refund", "rid": rid, "sale": sale["rid"], "amount": amount, "at": when})
            continue
        rid = f"R{n:05d}"
        when = t.strftime("%Y-%m-%dT%H:%M:%S")
        total = 0
        items = []
        for i in range(rng.randint(1, 3)):
            qty = rng.randint(1, 4)
            price = rng.choice([199, 450, 1250, 2999, 8999, 15000])
            items.append(points.Item(f"SKU-{i}-{price}", qty, price))
            total += qty * price
            lines.append(f"{rid},{when},{key},,{'online' if n % 5 == 0 else 'store'},SKU-{i}-{price},{qty},"
                         f"{price // 100}.{price % 100:02d}\n")
        sale = {"rid": rid, "key": key, "amount": total, "refunded": 0, "refunds": 0}
        sales.append(sale)
        plan.append({"kind": "sale", "rid": rid, "key": key, "amount": total, "at": when, "items": items,
                     "channel": "online" if n % 5 == 0 else "store"})
    return "".join(lines), plan


def counter(database: Database, plan: list[dict]) -> None:
    """The same receipts typed at the counter, one by one (in one transaction, to keep the test quick)."""
    with database.session() as s:
        program = load_program(s)
        for step in plan:
            at = clock.parse_timestamp(step["at"])
            if step["kind"] == "sale":
                customer = customers.find(s, step["key"], program)
                points.post_purchase(s, program, customer, step["amount"], at=at, receipt_id=step["rid"],
                                     source="till", channel=step["channel"], items=step["items"])
            else:
                sale = points.find_sale(s, step["sale"], "till")
                points.post_refund(s, program, sale, step["amount"], at=at, refund_receipt=step["rid"])


def sums(database: Database) -> dict:
    with database.session(write=False) as s:
        ledger = s.execute(select(Customer.code, LedgerEntry.kind, func.sum(LedgerEntry.delta), func.count())
                           .join(Customer, Customer.id == LedgerEntry.customer_id)
                           .group_by(Customer.code, LedgerEntry.kind)).all()
        purchases = s.execute(select(Purchase.receipt_id, Purchase.amount, Purchase.at, Customer.code,
                                     Purchase.refund_of_id.is_not(None))
                              .join(Customer, Customer.id == Purchase.customer_id)).all()
        # the sales' items (an imported return's items are stored too, to match later returns by them;
        # the counter's refund has none)
        items = s.execute(select(func.count(), func.sum(PurchaseItem.amount))
                          .join(Purchase, Purchase.id == PurchaseItem.purchase_id).where(Purchase.amount > 0)).one()
        goals = s.execute(select(Customer.code, GoalEntry.kind, GoalEntry.period, func.sum(GoalEntry.delta))
                          .join(Customer, Customer.id == GoalEntry.customer_id)
                          .group_by(Customer.code, GoalEntry.kind, GoalEntry.period)).all()
    return {"ledger": sorted(map(tuple, ledger)), "purchases": sorted(map(tuple, purchases)), "items": tuple(items),
            "goals": sorted(map(tuple, goals))}


@pytest.fixture
def other_db(tmp_path):
    database = Database("sqlite:///" + str(tmp_path / "counter.db"))
    database.ensure_schema()
    yield database
    database.engine.dispose()


@pytest.mark.parametrize("seed, batch_rows, small", [(1, 20_000, False), (2, 3, False), (3, 7, True)])
def test_import_gives_the_counters_ledger(database, other_db, tmp_path, monkeypatch, seed, batch_rows, small):
    if small:  # blocks of 5 rows, and customer states forgotten or trimmed all the time
        monkeypatch.setattr(importer, "BLOCK_ROWS", 5)
        monkeypatch.setattr(importer, "MAX_STATES", 3)
        monkeypatch.setattr(importer, "MAX_HISTORY", 2)
    text, plan = generate(random.Random(seed))
    till = tmp_path / "till.csv"
    till.write_text(text)
    setup_shop(database)
    setup_shop(other_db)
    summary = importer.import_file(database, till, batch_rows=batch_rows, rejects=tmp_path / "rejects.csv")
    assert summary.rejected == 0, summary.first_rejects
    counter(other_db, plan)
    imported, typed = sums(database), sums(other_db)
    assert imported["ledger"] == typed["ledger"]
    assert imported["purchases"] == typed["purchases"]
    assert imported["items"] == typed["items"]
    kinds = {kind for _, kind, _, _ in imported["ledger"]}
    assert {"earn", "refund", "milestone", "referral", "welcome"} <= kinds
    with database.session(write=False) as s:  # the x2 membership was in force for some sales
        notes = s.execute(select(LedgerEntry.note).where(LedgerEntry.customer_id == 5, LedgerEntry.kind == "earn")).scalars()
        assert any(" x2)" in n or " x2.5)" in n or " x3)" in n for n in notes)
    # the points awarded are what the ledger gained, welcome bonuses (already there) aside
    with database.session(write=False) as s:
        gained = s.execute(select(func.sum(LedgerEntry.delta)).where(LedgerEntry.kind != "welcome")).scalar_one()
    assert summary.points_awarded == gained


def test_tier_follows_time_order_not_file_order(cli, tmp_path):
    assert cli("enroll", "Ann", "--card", "6000100000001", "--at", "2026-01-01T00:00:00", "--no-input").exit_code == 0
    till = tmp_path / "till.csv"
    # the 10.00 sale is later in time than the 600.00 one: it earns at Silver (x1.25 -> 12)
    till.write_text(HEADER + "S2,2026-02-10T10:00:00,6000100000001,10.00,store,A,1,10.00\n"
                             "S1,2026-02-01T10:00:00,6000100000001,600.00,store,A,1,600.00\n")
    assert cli("import", till).exit_code == 0
    assert [h["points"] for h in cli.json("history", "6000100000001")] == [50, 600, 250, 12]


class Killed(Exception):
    pass


def test_killed_import_leaves_whole_receipts_and_rerun_completes_it(database, other_db, tmp_path):
    text, _plan = generate(random.Random(9))
    till = tmp_path / "till.csv"
    till.write_text(text)
    setup_shop(database)
    setup_shop(other_db)
    batches = []

    def kill_in_third_batch(session, receipts):
        batches.append(receipts)
        if len(batches) == 3:  # writes of this batch done, commit not yet
            raise Killed()

    with pytest.raises(Killed):
        importer.import_file(database, till, batch_rows=50, after_batch=kill_in_third_batch)
    # two whole batches are in: every purchase has all its lines and its points
    with database.session(write=False) as s:
        purchases = s.execute(select(func.count()).select_from(Purchase)).scalar_one()
        assert 0 < purchases < text.count("\n") - 1
        lines_in_file = {}
        for row in text.splitlines()[1:]:
            rid = row.split(",")[0]
            lines_in_file[rid] = lines_in_file.get(rid, 0) + 1
        per_sale = s.execute(select(Purchase.receipt_id, func.count(PurchaseItem.id))
                             .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
                             .group_by(Purchase.receipt_id)).all()
        assert per_sale and all(lines_in_file[rid] == n for rid, n in per_sale)
        unearned = s.execute(select(func.count()).select_from(Purchase).where(
            Purchase.amount >= 100, ~Purchase.id.in_(select(LedgerEntry.purchase_id).where(
                LedgerEntry.kind == "earn")))).scalar_one()
        assert unearned == 0
        run = s.execute(select(ImportRun)).scalar_one()
        assert run.finished_at is None and run.imported > 0
    again = importer.import_file(database, till, batch_rows=50)
    assert again.skipped == run.imported and again.rejected == 0
    importer.import_file(other_db, till)
    assert sums(database) == sums(other_db)
    # and a third run changes nothing at all
    before = sums(database)
    third = importer.import_file(database, till)
    assert third.imported == 0 and third.points_awarded == 0 and sums(database) == before


def test_dry_run_reports_what_a_real_run_does(database, tmp_path):
    text, _plan = generate(random.Random(4), receipts=80)
    till = tmp_path / "till.csv"
    till.write_text(text)
    setup_shop(database)
    before = sums(database)
    dry = importer.import_file(database, till, dry_run=True, batch_rows=10)
    assert sums(database) == before
    real = importer.import_file(database, till, batch_rows=10)
    assert (dry.read, dry.imported, dry.points_awarded) == (real.read, real.imported, real.points_awarded)


def test_progress_reports_bytes_up_to_the_whole_file(database, tmp_path):
    text, _plan = generate(random.Random(6), receipts=40)
    till = tmp_path / "till.csv"
    till.write_text(text)
    setup_shop(database)
    seen = []
    importer.Importer(till, batch_rows=20, progress=lambda done, total: seen.append((done, total))).run(database)
    size = till.stat().st_size
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_import_command_has_help_with_an_example(cli):
    result = cli("import", "--help")
    assert result.exit_code == 0
    assert "Example: loyalty import till.csv --source shop1 --enroll-unknown" in result.stdout
    readme = (__import__("pathlib").Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "loyalty import FILE" in readme or "`loyalty import FILE" in readme
    assert "loyalty import-presets" in readme


def test_portable_write_path_gives_the_same_ledger(database, other_db, tmp_path, monkeypatch):
    """The statements used on PostgreSQL (RETURNING ids, SQLAlchemy inserts), run here on SQLite."""
    text, _plan = generate(random.Random(11), receipts=60)
    till = tmp_path / "till.csv"
    till.write_text(text)
    setup_shop(database)
    setup_shop(other_db)
    importer.import_file(other_db, till, batch_rows=25)
    monkeypatch.setattr(storage, "is_sqlite", lambda session: False)
    summary = importer.import_file(database, till, batch_rows=25)
    assert summary.rejected == 0 and summary.imported > 90
    assert sums(database) == sums(other_db)


@pytest.mark.parametrize("same_connection", [False, True])
def test_a_till_sale_between_two_batches_counts_for_the_next_batch(database, tmp_path, same_connection):
    """Customer states carry over between batches; a sale in between, through another connection (a till
    of its own) or through the import's own pooled connection (someone else using it), is seen."""
    till = tmp_path / "till.csv"
    till.write_text(HEADER + "T1,2026-02-01T10:00:00,6000100000001,10.00,store,A,1,10.00\n"
                             "T2,2026-02-10T10:00:00,6000100000001,10.00,store,A,1,10.00\n")
    with database.session() as s:
        ann = customers.enroll(s, load_program(s), "Ann", card="6000100000001", at=START)
    counter = database if same_connection else Database(database.url)
    calls = []

    def sell_at_the_till(done, total):
        calls.append(done)
        if len(calls) == 1:  # after the first batch (T1) is committed
            with counter.session() as s:
                points.post_purchase(s, load_program(s), s.get(Customer, ann.id), 60000,
                                     at=datetime(2026, 2, 5, tzinfo=timezone.utc), receipt_id="TILL1")

    importer.Importer(till, batch_rows=1, progress=sell_at_the_till).run(database)
    with database.session(write=False) as s:
        earned = dict(s.execute(select(Purchase.receipt_id, LedgerEntry.delta).join(
            LedgerEntry, LedgerEntry.purchase_id == Purchase.id).where(LedgerEntry.kind == "earn")).all())
    # T2 comes after 610.00 of spend: Silver, x1.25
    assert len(calls) == 2 and earned == {"T1": 10, "TILL1": 600, "T2": 12}
    if counter is not database:
        counter.engine.dispose()


def test_states_forgotten_or_trimmed_change_nothing_in_a_file_out_of_time_order(database, other_db, tmp_path,
                                                                               monkeypatch):
    """Blocks of a file that goes back in time: states trimmed to a later window are read again."""
    text, _plan = generate(random.Random(5), receipts=400)  # nearly three years
    lines = text.splitlines(keepends=True)
    receipts: list[list[str]] = []
    for line in lines[1:]:
        if receipts and receipts[-1][0].split(",")[0] == line.split(",")[0]:
            receipts[-1].append(line)
        else:
            receipts.append([line])
    # the first third, the last third (trimming what came before), then the middle third (which needs it)
    third = len(receipts) // 3
    order = receipts[:third] + receipts[2 * third:] + receipts[third:2 * third]
    till = tmp_path / "till.csv"
    till.write_text(lines[0] + "".join(line for receipt in order for line in receipt))
    setup_shop(database)
    setup_shop(other_db)
    monkeypatch.setattr(importer, "BLOCK_ROWS", 6)
    importer.import_file(other_db, till, batch_rows=6)
    monkeypatch.setattr(importer, "MAX_HISTORY", 1)
    importer.import_file(database, till, batch_rows=6)
    assert sums(database) == sums(other_db)


@pytest.mark.parametrize("block_rows", [1, 2, 3, 2_500])
def test_a_row_cut_short_inside_a_receipt_is_rejected_wherever_blocks_fall(database, tmp_path, monkeypatch,
                                                                          block_rows):
    """A row that stops before its amount is rejected and, as on the row-by-row path, does not end the
    receipt around it: the same outcome wherever the reader's blocks fall (a block's last receipt is found
    past it)."""
    setup_shop(database)
    at = START.replace(tzinfo=None).isoformat()
    till = tmp_path / "till.csv"
    till.write_text(f"receipt_id,timestamp,customer,amount\nR1,{at},6000100000001,5.00\nR2,{at}\n"
                    f"R1,{at},6000100000001,3.00\nR3,{at},6000100000001,2.00\n")
    monkeypatch.setattr(importer, "BLOCK_ROWS", block_rows)
    summary = importer.import_file(database, till, rejects=tmp_path / "rejects.csv")
    assert (summary.rejected, summary.receipts) == (1, 2), summary.first_rejects
    assert "till.csv:3: line 3 has 2 fields" in summary.first_rejects[0]
    assert sorted((receipt_id, amount) for receipt_id, amount, *_ in sums(database)["purchases"]) == [
        ("R1", 800), ("R3", 200)]


@pytest.mark.parametrize("seed", [4, 5])
def test_a_shuffled_file_gives_the_ledger_of_the_sorted_one_wherever_blocks_fall(database, other_db, tmp_path,
                                                                                monkeypatch, seed):
    """Rows in any order (a receipt's lines apart too) are applied in time order: the outcome does not
    depend on where the reader's blocks fall."""
    rng = random.Random(seed)
    text, _ = generate(rng, receipts=60)
    header, *rows = text.splitlines(keepends=True)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    (tmp_path / "sorted.csv").write_text(header + "".join(rows))
    (tmp_path / "shuffled.csv").write_text(header + "".join(shuffled))
    setup_shop(database)
    setup_shop(other_db)
    first = importer.import_file(other_db, tmp_path / "sorted.csv")
    monkeypatch.setattr(importer, "BLOCK_ROWS", 5)
    second = importer.import_file(database, tmp_path / "shuffled.csv", batch_rows=7)
    assert second.rejected == first.rejected == 0, second.first_rejects
    shuffled_sums, sorted_sums = sums(database), sums(other_db)
    assert shuffled_sums["ledger"] == sorted_sums["ledger"]
    assert shuffled_sums["purchases"] == sorted_sums["purchases"]
    assert shuffled_sums["items"] == sorted_sums["items"]


# goals and earning by product (engine/rules/goals.py, by_product.py)
GOALS_AND_EARNING = [
    {"goal": "SKU-0-*", "earn_rules": '[{"name": "none", "skus": ["SKU-1-*"], "earn": "0"}, '
                                      '{"name": "double", "skus": ["SKU-2-*"], "earn": "2"}]'},
    {"goal": "", "earn_mode": "cashback", "earn_rules": '[{"name": "half", "skus": ["SKU-0-*"], "earn": "2.5"}]'}]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), files=st.integers(1, 3), program_changes=st.sampled_from([
    {}, {"earn_mode": "cashback"}, {"milestone_spend": "200.00", "referral_min_purchase": "50.00"},
    {"tiers": "Bronze:0.00:1.0,Silver:100.00:1.5"}, *GOALS_AND_EARNING]))
def test_differential_counter_against_one_to_three_imported_files(tmp_path_factory, seed, files, program_changes):
    """Random sales, refunds, memberships, referrals, goals, earning by product and settings: typed at the
    counter one by one, or imported as 1 to 3 files (cut anywhere between receipts), the ledgers (points and
    goals) are identical."""
    _differential(tmp_path_factory.mktemp("diff"), seed, files, program_changes)



@pytest.mark.parametrize("seed, program_changes", [(21, GOALS_AND_EARNING[0]), (22, GOALS_AND_EARNING[1])])
def test_differential_with_goals_and_earning_by_product(tmp_path, seed, program_changes):
    """The random differential run always covers the two program types added as rules (the sampled run
    above may not draw them)."""
    imported = _differential(tmp_path, seed, 2, program_changes)
    assert {kind for _, kind, _, _ in imported["goals"]} >= {"progress", "voucher"}


def _differential(folder, seed: int, files: int, program_changes: dict) -> dict:
    """The run of the differential tests: the ledgers of the imported and the typed database, compared;
    the imported one's sums returned."""
    from loyaltycli.store.program import set_setting
    from loyaltycli.programs.goals import add_goal

    rng = random.Random(seed)
    text, plan = generate(rng, receipts=40)
    header, *rows = text.splitlines(keepends=True)
    # cut between receipts only (a receipt's lines stay in one file, as in real exports)
    bounds = [i for i in range(1, len(rows)) if rows[i].split(",")[0] != rows[i - 1].split(",")[0]]
    cuts = sorted(rng.sample(bounds, min(files - 1, len(bounds))))
    parts = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)])]
    databases = []
    for name in ("imported", "typed"):
        db = Database("sqlite:///" + str(folder / f"{name}.db"))
        db.ensure_schema()
        setup_shop(db)
        with db.session() as s:
            # the file's times are written without an offset and meant in UTC (START): in the machine's zone
            # (Europe/Bucharest on the PostgreSQL pass) a random one may fall in the spring-forward gap
            set_setting(s, "timezone", "UTC")
            for key, value in program_changes.items():
                if key == "goal":  # a goal of 150.00 a month on the pattern (empty: the whole amount)
                    add_goal(s, "Monthly", 15_000, "Free coffee", skus=[value] if value else [])
                else:
                    set_setting(s, key, value)
        databases.append(db)
    imported_db, typed_db = databases
    try:
        for n, part in enumerate(parts):
            path = folder / f"till-{n}.csv"
            path.write_text(header + "".join(part))
            assert importer.import_file(imported_db, path, batch_rows=rng.choice([5, 50, 10_000])).rejected == 0
        counter(typed_db, plan)
        found = sums(imported_db)
        assert found == sums(typed_db)
        with imported_db.session(write=False) as a, typed_db.session(write=False) as b:
            order = select(LedgerEntry.customer_id, LedgerEntry.kind, LedgerEntry.delta, LedgerEntry.at).order_by(
                LedgerEntry.customer_id, LedgerEntry.at, LedgerEntry.id)
            assert a.execute(order).all() == b.execute(order).all()  # row by row, in the order of events
        return found
    finally:
        for db in databases:
            db.engine.dispose()
