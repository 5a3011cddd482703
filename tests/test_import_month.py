"""Done when of issue 25: a Romanian shop's nightly import over a whole month of its till's own files (Windows-1250,
`;`, decimal comma, dates 01.05.2026 to 31.05.2026 and the time apart), imported night after night with no
--date-order, one night late (the cron was down on the 4th: imported after the 6th), exits 0 every night and
gives the ledger that typing the same receipts at the counter gives."""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

HEADER = "Nr. bon;Data;Ora;Client;Cod produs;Denumire;Cantitate;Preţ unitar;Valoare;Bon iniţial"
ZONE = ZoneInfo("Europe/Bucharest")
# customers: how the counter types them, and the ways the till's cashiers typed them
PHONES = {"0722123456": ["0722 123 456", "0722123456", "+40722123456"],
          "0744555666": ["0744555666", "0744 555 666"],
          "0733111222": ["0733111222"],
          "0755000111": ["0755 000 111"],
          "ana.pop@example.ro": ["ana.pop@example.ro", "Ana.Pop@Example.ro"],
          "0766222333": ["0766222333"]}
PRODUCTS = [("PAINE", "Pâine albă", 350), ("APA", "Apă plată 2 l", 420), ("CAFEA", "Cafea măcinată", 2450),
            ("BRANZA", "Brânză telemea", 1890), ("ŞUNCĂ", "Şuncă presată", 1275)]
LATE = 4  # the night imported after the 6th


def comma(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def local(day: int, minute_of_day: int) -> datetime:
    return datetime(2026, 5, day, minute_of_day // 60, minute_of_day % 60, tzinfo=ZONE)


def month():
    """Per night: the file's rows, and the counter's commands in time order (what typing it would be)."""
    rng = random.Random(25)
    spent = {key: 0 for key in PHONES}
    sales: list[tuple] = []  # (receipt id, key, at, [(sku, qty, price)], returned so far per sku)
    nights = {}
    for day in range(1, 32):
        rows, typed = [], []
        minute = 8 * 60
        keys = list(PHONES)
        if day == LATE:  # the late night holds the first sale of a customer who buys again on the 5th and 6th
            keys = ["0766222333"]
        elif day in (5, 6):
            keys = ["0766222333", *keys[:2]]
        else:
            keys = [k for k in keys if k != "0766222333" or day > 6]
        for n, key in enumerate(rng.sample(keys, min(len(keys), rng.randint(1, 3)))):
            minute += rng.randint(20, 90)
            receipt = f"BF {day:02d}{n:02d}"
            lines = [PRODUCTS[i] for i in sorted(rng.sample(range(len(PRODUCTS)), rng.randint(1, 3)))]
            items = [(sku, rng.randint(1, 2), price) for sku, _, price in lines]
            total = sum(q * p for _, q, p in items)
            if spent[key] + total > 40_000:  # under every tier and milestone: nights in any order earn alike
                continue
            spent[key] += total
            typed_key = rng.choice(PHONES[key])
            straddle = n == 0 and day % 5 == 0  # the lines of this one straddle a minute
            for i, ((sku, name, _), (_, qty, price)) in enumerate(zip(lines, items)):
                at = minute + (1 if straddle and i else 0)
                rows.append(f"{receipt};{day:02d}.05.2026;{at // 60:02d}:{at % 60:02d};{typed_key};{sku};{name};"
                            f"{qty};{comma(price)};{comma(qty * price)};")
            when = local(day, minute)
            if key not in {s[1] for s in sales}:
                typed.append(("enroll", key, when))
            typed.append(("purchase", key, when, receipt, total))
            sales.append((receipt, key, when, items, {}))
        # a return of one item of an earlier sale, naming it; every third one written positive (a credit note)
        if day % 3 == 0 and sales:
            receipt, key, when, items, returned = rng.choice(sales[:-1] or sales)
            sku, qty, price = items[0]
            if returned.get(sku, 0) < qty:
                returned[sku] = returned.get(sku, 0) + 1
                minute += 30
                sign = 1 if day % 9 == 0 else -1
                rows.append(f"BR {day:02d};{day:02d}.05.2026;{minute // 60:02d}:{minute % 60:02d};"
                            f"{PHONES[key][0]};{sku};retur;{sign};{comma(price)};{comma(sign * price)};{receipt}")
                typed.append(("refund", key, local(day, minute), receipt, price))
        # a return of a customer never seen (their sale predates the database), and an anonymous sale
        if day % 7 == 0:
            rows.append(f"BR X{day};{day:02d}.05.2026;19:00;0788999000;APA;Apă;-1;4,20;-4,20;")
            rows.append(f"BF X{day};{day:02d}.05.2026;19:30;Client ocazional;APA;Apă;1;4,20;4,20;")
        nights[day] = (rows, typed)
    return nights


@pytest.mark.sqlite_only  # two database files side by side
def test_a_month_of_romanian_nights_one_late_gives_the_counters_ledger(cli, db_path, tmp_path):
    assert cli("program", "set", "country", "RO").exit_code == 0
    counter = tmp_path / "counter.db"
    shutil.copy(db_path, counter)
    nights = month()
    order = [d for d in range(1, 32) if d != LATE]
    order.insert(order.index(6) + 1, LATE)
    for day in order:
        rows, _ = nights[day]
        path = tmp_path / f"bonuri-2026-05-{day:02d}.csv"
        path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1250"))
        result = cli("import", path, "--preset", "ro-bonuri", "--source", "cluj", "--enroll-unknown", "--json")
        assert result.exit_code == 0, (day, result.stderr)
        data = json.loads(result.stdout)
        assert data["rejected"] == 0 and data["returns_without_sale"] == (1 if day % 7 == 0 else 0), day
        assert data["read"] == (data["imported"] + data["skipped"] + data["anonymous"]
                                + data["returns_without_sale"] + data["rejected"])
        if day <= 12:
            assert (data["date_order"], data["date_order_source"]) == ("DMY", "shop"), day
    # the same receipts typed at the counter, in time order
    typed = sorted((c for day in range(1, 32) for c in nights[day][1]), key=lambda c: (c[2], c[0] != "enroll"))
    for command in typed:
        kind, key, when = command[:3]
        at = when.isoformat()
        if kind == "enroll":
            contact = ["--email", key] if "@" in key else ["--phone", key]
            args = ["enroll", "Client", *contact, "--at", at, "--no-input"]
        elif kind == "purchase":
            args = ["purchase", key, comma(command[4]).replace(",", "."), "--receipt", command[3], "--at", at]
        else:
            args = ["refund", command[3], "--amount", comma(command[4]).replace(",", "."), "--at", at]
        result = cli("--db", str(counter), *args)
        assert result.exit_code == 0, (args, result.stderr)

    def ledger(db, key):
        return [(h["at"], h["kind"], h["points"]) for h in cli.json("--db", str(db), "history", key)]

    for key in PHONES:
        imported, at_counter = ledger(db_path, key), ledger(counter, key)
        assert imported == at_counter, key
        assert len(imported) > 3
    assert cli("--db", str(db_path), "balance", "0788999000").exit_code != 0  # a return enrolls no one
