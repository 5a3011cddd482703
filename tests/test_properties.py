"""Property-based checks of the ledger invariants (hypothesis)."""

from datetime import datetime, timedelta, timezone
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from loyaltycli.services import customers, points
from loyaltycli.store import ledger
from loyaltycli.base.errors import LoyaltyError
from loyaltycli.store.models import LedgerEntry, Purchase

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
names = count()

operation = st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 300_000)),
    st.tuples(st.just("refund"), st.integers(0, 10), st.integers(1, 300_000)),
    st.tuples(st.just("redeem"), st.integers(1, 3_000)),
    st.tuples(st.just("award"), st.integers(-500, 500)),
    st.tuples(st.just("expire"), st.just(0)),
)
steps = st.lists(st.tuples(st.integers(0, 200), operation), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_ledger_invariants(database, steps):
    """Whatever happens: the balance is the sum of the ledger, the statement ends on it, and no
    redemption ever takes a balance below zero."""
    with database.session() as session:
        from loyaltycli.store.program import load_program

        program = load_program(session)
        customer = customers.enroll(session, program, f"P{next(names)}", at=T0)
        at = T0
        sales = []
        for gap, op in steps:
            at += timedelta(days=gap, minutes=1)
            kind = op[0]
            before = ledger.balance(session, customer.id)
            nested = session.begin_nested()
            try:
                if kind == "buy":
                    sales.append(points.post_purchase(session, program, customer, op[1], at=at).purchase_id)
                elif kind == "refund" and sales:
                    sale = session.get(Purchase, sales[op[1] % len(sales)])
                    points.post_refund(session, program, sale, op[2], at=at)
                elif kind == "redeem":
                    result = points.redeem(session, program, customer, op[1], at=at)
                    assert result.balance >= 0
                    assert result.balance == ledger.balance(session, customer.id)
                elif kind == "award" and op[1]:
                    points.award(session, program, customer, op[1], "test", at=at)
                elif kind == "expire":
                    ledger.expire_customer(session, customer.id, at)
                nested.commit()
            except LoyaltyError:
                nested.rollback()
                assert ledger.balance(session, customer.id) == before   # a refusal changes nothing
            total = session.execute(select(func.sum(LedgerEntry.delta)).where(
                LedgerEntry.customer_id == customer.id)).scalar()
            assert ledger.balance(session, customer.id) == total
            statement = ledger.history(session, customer.id)
            assert statement[-1]["balance"] == total
            if kind == "redeem" and ledger.balance(session, customer.id) < before:
                assert ledger.balance(session, customer.id) >= 0
        # the FIFO replay agrees with the balance once every expired lot has been written off
        ledger.expire_customer(session, customer.id, at)
        state = ledger.lot_state(session, customer.id, at)
        assert sum(lot.remaining for lot in state.lots) - state.deficit == ledger.balance(session, customer.id)
        session.rollback()
