"""Report commands (`loyalty report ...`) and `customer suggest`. The figures come from core.reports."""

from __future__ import annotations

from typing import Optional

import typer

from loyaltycli.cli import options
from loyaltycli.cli.render import emit
from loyaltycli.i18n import _

report_app = typer.Typer(help="Reports for the owner: tiers, NPS, retention, CLV, redemption, upsell, channels, "
                              "segments and a one-screen summary. Each takes --from/--to, --json and --csv.",
                         no_args_is_help=True)

# Keys that hold cents in the core's answers; printed as decimal strings.
AMOUNT_KEYS = {"spend", "total_spend", "min_spend", "qualifying_spend", "missing", "aov", "clv", "value",
               "avg_basket", "avg_basket_with", "avg_basket_without", "gross", "refunds", "monetary"}


def amounts(data):
    """Cents -> decimal strings for every amount key, recursively."""
    from loyaltycli.base.money import Money

    if isinstance(data, list):
        return [amounts(v) for v in data]
    if isinstance(data, dict):
        return {k: (Money(v) if k in AMOUNT_KEYS and isinstance(v, int) and not isinstance(v, bool)
                    else amounts(v)) for k, v in data.items()}
    return data


def _from_option():
    return typer.Option(None, "--from", metavar="YYYY-MM-DD",
                        help="First day of the period, or an ISO-8601 time (default: 365 days before --to).")


def _to_option():
    return typer.Option(None, "--to", metavar="YYYY-MM-DD",
                        help="Day after the period, excluded, or an ISO-8601 time (default: now).")


def _period(from_: Optional[str], to: Optional[str]):
    """The report period from --from/--to: dates (local midnight) or ISO-8601 timestamps."""
    from loyaltycli.shop import clock
    from loyaltycli.reports import sql as report_sql

    def moment(text: Optional[str], what: str):
        if text is None:
            return None
        if len(text.strip()) <= 10:
            return clock.parse_date(text, what=what)
        return clock.parse_timestamp(text, what=what, local_formats=True)

    return report_sql.make_period(moment(from_, "--from"), moment(to, "--to"))


def _run(report: str, from_: Optional[str], to: Optional[str], **kwargs):
    """Open a read-only session and run core.reports.<report>_report over the period."""
    from loyaltycli.reports import aggregates as reports
    from loyaltycli.store.program import load_program

    period = _period(from_, to)
    with options.database().session(write=False) as session:
        program = load_program(session)
        data = getattr(reports, f"{report}_report")(session, program, period, **kwargs)
    return amounts(data)


def _title(name: str, data: dict) -> str:
    from loyaltycli.shop.clock import local_text

    period = data["period"]
    return _("{report}, {start} to {end}").format(report=name, start=local_text(period["from"])[:10],
                                                  end=local_text(period["to"])[:16])


def _machine() -> bool:
    return options.current.json or options.current.csv


def _shares(rows: list[dict]) -> list[dict]:
    """Rows with their ``share`` as people read a percentage ('61,4 %'); scripts keep the number."""
    if _machine():
        return rows
    from loyaltycli.cli.render import Percent

    return [{**r, "share": Percent(r["share"])} if r.get("share") is not None else r for r in rows]


def _fields(data: dict, keys) -> dict:
    return {k: data[k] for k in keys}


def _emit_figures(data: dict, keys: list[str], name: str, *, csv_period: bool = False) -> None:
    """A report of single figures: all of ``data`` as JSON, one CSV row of ``keys`` (with the period
    first when ``csv_period``), or a two-column table for people."""
    if options.current.csv:
        period = {"from": data["period"]["from"], "to": data["period"]["to"]} if csv_period else {}
        emit([{**period, **_fields(data, keys)}], columns=[*period, *keys])
        return
    emit(data if options.current.json else _fields(data, keys), title=_title(name, data))


@report_app.command("tiers")
def report_tiers(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Customers and net spend by tier (the tier at the end of the period), and who is close to the next.

    Example: loyalty report tiers --json
    """
    from loyaltycli.cli.render import table

    data = _run("tiers", from_, to, close_list=0 if _machine() else 20)
    columns = ["tier", "customers", "spend", "share", "close_to_next"]
    if _machine():
        emit(data["tiers"], columns=columns)
        return
    table(_shares(data["tiers"]), columns=columns, title=_title(_("Tiers"), data))
    from loyaltycli.cli.customers import who

    close = [{**r, "name": who(r["name"], r.pop("phone"))} for r in data["close_to_next"]]  # nameless: the phone
    table(close, columns=["code", "name", "tier", "qualifying_spend", "next_tier", "missing"],
          title=_("Close to the next tier"))


@report_app.command("nps")
def report_nps(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Net Promoter Score (% promoters 9-10 minus % detractors 0-6), CSAT, CLI, by tier, recent comments.

    Example: loyalty report nps --from 2026-01-01
    """
    from loyaltycli.cli.render import sparkline, table, table_of_fields

    data = _run("nps", from_, to)
    head = ["responses", "promoters", "passives", "detractors", "nps", "csat_responses", "csat", "cli"]
    if options.current.csv:
        emit([_fields(data, head)], columns=head)
        return
    if options.current.json:
        emit(data)
        return
    fields = _fields(data, head)
    fields["trend"] = sparkline([t["nps"] for t in data["trend"]])
    table_of_fields(fields, title=_title(_("NPS"), data))
    table(data["by_tier"], columns=["tier", "responses", "nps"], title=_("By tier"))
    table(data["comments"], columns=["at", "code", "nps", "comment"], title=_("Recent comments"))


@report_app.command("retention")
def report_retention(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Customer retention rate CRR = (E - N) / S x 100 and churn = (S + N - E) / (S + N) x 100.

    Example: loyalty report retention --from 2026-01-01 --to 2026-07-01
    """
    data = _run("retention", from_, to)
    _emit_figures(data, ["start_count", "end_count", "new", "crr", "churn"], _("Retention"), csv_period=True)


@report_app.command("clv")
def report_clv(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Customer lifetime value = average order value x purchases per customer per year x lifespan, by tier.

    Example: loyalty report clv --json
    """
    from loyaltycli.cli.render import table, table_of_fields

    data = _run("clv", from_, to)
    keys = ["customers", "orders", "spend", "aov", "purchases_per_year", "lifespan_years", "clv"]
    rows = [{"tier": "all", **_fields(data, keys)}] + data["by_tier"]
    if options.current.csv:
        emit(rows, columns=["tier", *keys])
        return
    if options.current.json:
        emit(data)
        return
    table_of_fields(_fields(data, keys), title=_title(_("Customer lifetime value"), data))
    table(data["by_tier"], columns=["tier", *keys], title=_("By tier"))


@report_app.command("redemption")
def report_redemption(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Redemption rate = points redeemed / points earned; value given; average basket with vs without.

    Example: loyalty report redemption --from 2026-01-01
    """
    data = _run("redemption", from_, to)
    _emit_figures(data, ["points_earned", "points_redeemed", "rate", "redemptions", "value",
                         "sales_with_redemption", "avg_basket_with", "sales_without_redemption",
                         "avg_basket_without"], _("Redemption"))


@report_app.command("upsell")
def report_upsell(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Upsell ratio = customers who bought 2+ distinct products / customers who bought exactly one; and the
    period's most bought products with their names (the description column of imports).

    Example: loyalty report upsell --json
    """
    data = _run("upsell", from_, to)
    _emit_figures(data, ["customers", "customers_multi", "customers_single", "ratio"], _("Upsell"))
    if not _machine() and data["products"]:
        from loyaltycli.cli.render import table

        table(data["products"], columns=["sku", "description", "customers", "quantity"],
              title=_("Most bought products"))


@report_app.command("channels")
def report_channels(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Sales, refunds, net spend, customers, average basket and share by channel (store, online...).

    Example: loyalty report channels --csv
    """
    data = _run("channels", from_, to)
    emit(_shares(data["channels"]), columns=["channel", "sales", "gross", "refunds", "spend", "customers",
                                             "avg_basket", "share"], title=_title(_("Channels"), data))


@report_app.command("cards")
def report_cards(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """Stamp cards in the period: customers who started each, stamps given, taken back and expired, cards
    completed, vouchers issued, used, expired; vouchers open at the end of the period.

    Example: loyalty report cards --from 2026-01-01 --to 2026-07-01 --csv
    """
    data = _run("cards", from_, to)
    emit(data["cards"], columns=["card", "reward", "stamps_needed", "started", "stamps", "stamps_taken_back",
                                 "stamps_expired", "completed", "vouchers_issued", "vouchers_used",
                                 "vouchers_expired", "vouchers_open"], title=_title(_("Stamp cards"), data))


@report_app.command("segments")
def report_segments(
    from_: Optional[str] = _from_option(), to: Optional[str] = _to_option(),
    segment: Optional[str] = typer.Option(None, "--segment", help="Only this segment (e.g. 'at risk')."),
    consented: bool = typer.Option(False, "--consented", help="Only customers who agreed to receive offers "
                                                              "(the default for the lists)."),
    all_: bool = typer.Option(False, "--all", help="List every customer, with or without consent: for internal "
                                                   "use only, never for sending offers."),
    members: bool = typer.Option(False, "--members", help="With --json: list the customers too (--csv always does)."),
) -> None:
    """Recency/frequency/monetary segments: champions, loyal, occasional, new, at risk, lapsed.

    The table (and --json) counts each segment; --csv lists the customers who agreed to receive offers,
    with name, phone, e-mail and when and how they agreed, ready for an e-mail or SMS campaign (--all
    lists everyone, for internal use); --json --members adds that list to the JSON.

    Example: loyalty report segments --segment "at risk" --csv > win-back.csv
    """
    from loyaltycli.reports import aggregates as reports
    from loyaltycli.store.program import load_program

    period = _period(from_, to)
    with options.database().session(write=False) as session:
        program = load_program(session)
        summary = reports.segments_report(session, program, period)
        listed = options.current.csv or (options.current.json and (members or segment or consented or all_))
        # GDPR and ePrivacy (PT, RO, IT, ES...): offers go only to customers who agreed; --all is for
        # the shop's own analysis.
        rows = (reports.segment_members(session, program, period, segment=segment, consent_only=not all_)
                if listed else None)
    columns = ["code", "name", "phone", "email", "consent", "segment", "recency_days", "frequency", "monetary",
               "consent_at", "consent_how"]
    if rows is not None:
        from loyaltycli.base.money import format_amount, money

        # flat rows: format in place rather than walking them recursively (CSV: an amount, so that
        # --excel writes it with the locale's decimal mark)
        shown = money if options.current.csv else format_amount
        for row in rows:
            row["monetary"] = shown(row["monetary"])
    if options.current.csv:
        emit(rows, columns=columns)
        return
    if options.current.json:
        emit({**amounts(summary), "members": rows} if rows is not None else amounts(summary))
        return
    emit(_shares(amounts(summary["segments"])), columns=["segment", "customers", "share", "spend", "with_consent"],
         title=_title(_("Segments"), summary))


@report_app.command("summary")
def report_summary(from_: Optional[str] = _from_option(), to: Optional[str] = _to_option()) -> None:
    """One-screen dashboard: headline figures, monthly sales and points, NPS trend, latest comments.

    Example: loyalty report summary
    """
    data = _run("summary", from_, to)
    if options.current.csv:
        emit(data["monthly"], columns=["month", "sales", "spend", "points_earned", "points_redeemed", "nps"])
        return
    if options.current.json:
        emit(data)
        return
    _dashboard(data)


def _dashboard(data: dict) -> None:
    """Headline figures on top, charts below (where a picture reads faster than a table), sized to the
    width (``render.fit_width``): the figures three, two or one pair a row, the charts side by side or one
    above the other, never a figure dropped or cut; piped without COLUMNS, plain text without borders."""
    from decimal import Decimal

    from rich.console import Group
    from rich.measure import Measurement
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from loyaltycli.base.money import format_number, format_percent, money
    from loyaltycli.cli.render import (
        Words,
        bar,
        console,
        fit_width,
        printable,
        sparkline,
    )

    def show(value, suffix=""):
        if value is None:
            return "-"
        if suffix == "%":
            return format_percent(value)
        return format_number(value) if isinstance(value, (float, Decimal)) else f"{value}"

    rate = data["redemption_rate"]
    cells = [(_("customers"), show(data["customers"])), (_("new"), show(data["new"])),
             (_("sales"), show(data["sales"])), (_("net spend"), show(data["spend"])),
             (_("avg order"), show(data["aov"])), (_("CLV"), show(data["clv"])),
             (_("points earned"), show(data["points_earned"])), (_("points redeemed"), show(data["points_redeemed"])),
             (_("redeemed %"), "-" if rate is None else format_percent(rate * 100)), (_("NPS"), show(data["nps"])),
             (_("retention"), show(data["crr"], "%")), (_("churn"), show(data["churn"], "%"))]
    width = fit_width()
    plain = width is None
    wide = console(width=10_000)

    def needs(renderable) -> int:
        return Measurement.get(wide, wide.options, renderable).maximum

    def boxed(body, title):
        if plain or len(title) + 6 > width:  # a title longer than the width: a line above, not cut
            return Group(Text(title, style="bold", overflow="fold"), body, Text(""))
        return Panel(body, title=title, title_align="left", width=min(width, max(needs(body) + 4, len(title) + 6)))

    def head_grid(per_row: int):
        grid = Table.grid(padding=(0, 2))
        for _column in range(per_row):
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
        for i in range(0, len(cells), per_row):
            grid.add_row(*[x for cell in cells[i:i + per_row] for x in cell])
        return grid

    title = _title(_("Summary"), data)
    for per_row in (3, 2, 1):
        head = boxed(head_grid(per_row), title)
        if plain or needs(head_grid(per_row)) + 4 <= width:
            break

    monthly = data["monthly"][-12:]
    spend = [Decimal(m["spend"]) for m in monthly]
    largest = max(spend, default=0)
    shown_spend = [f"{money(int(value * 100))}" for value in spend]

    def sales_chart(bar_width: int):
        chart = Table.grid(padding=(0, 1))
        chart.add_column(no_wrap=True)
        chart.add_column(style="green", no_wrap=True)
        chart.add_column(justify="right", no_wrap=True)
        for m, value, text in zip(monthly, spend, shown_spend):
            chart.add_row(m["month"], bar(value, largest, bar_width), text)
        return chart

    earned = [m["points_earned"] for m in monthly]
    redeemed = [m["points_redeemed"] for m in monthly]
    nps = [m["nps"] for m in monthly]
    known = [v for v in nps if v is not None]
    lines = [(_("earned"), Text(sparkline(earned), style="cyan"), _("max {value}").format(value=max(earned, default=0))),
             (_("redeemed"), Text(sparkline(redeemed), style="magenta"),
              _("max {value}").format(value=max(redeemed, default=0))),
             (_("NPS"), Text(sparkline(nps), style="yellow"),
              _("last {value}").format(value=format_number(known[-1])) if known else _("no answers"))]
    span = Text(f"{monthly[0]['month']} .. {monthly[-1]['month']}", style="dim") if monthly else Text("")
    trends = Table.grid(padding=(0, 2))
    trends.add_column(style="bold", no_wrap=True)
    trends.add_column(no_wrap=True)
    trends.add_column(justify="right", no_wrap=True)
    for name, chart, note in lines:
        trends.add_row(name, chart, note)
    trends.add_row("", span, "")
    if not plain and needs(trends) + 4 > width:  # narrow: the label above its chart
        trends = Table.grid()
        trends.add_column(no_wrap=True)
        for name, chart, note in lines:
            trends.add_row(Text.assemble((name, "bold"), "  ", note))
            trends.add_row(chart)
        trends.add_row(span)
    comments = Group(*[Words(printable(f"{c['nps'] if c['nps'] is not None else '-'}  {c['comment']}"))
                       for c in data["comments"]]) if data["comments"] else Text(_("no comments in the period"))

    out = console(width=10_000 if plain else width)
    out.print(head)
    trend_box = boxed(trends, _("Trends by month"))
    for bar_width in (16, 10, 6, 3):
        sales = boxed(sales_chart(bar_width), _("Net spend by month"))
        if plain or needs(sales_chart(bar_width)) + needs(trends) + 9 <= width:
            side = Table.grid(padding=(0, 1))
            side.add_column()
            side.add_column()
            side.add_row(sales, trend_box)
            out.print(side)
            break
        if needs(sales_chart(bar_width)) + 4 <= width:  # one above the other, the widest bars that fit
            out.print(sales)
            out.print(trend_box)
            break
    else:
        out.print(sales)
        out.print(trend_box)
    if plain:
        out.print(Text(_("Latest comments"), style="bold"))
        out.print(comments)
    else:
        out.print(Panel(comments, title=_("Latest comments"), title_align="left", width=width))
    for card in data.get("cards", []):  # stamp cards, one line each (words whole on a narrow terminal)
        line = _("stamp card {card}: {started} customers started, {completed} completed; vouchers {issued} "
                 "issued, {used} used, {expired} expired, {open} open").format(
            card=card["card"], started=card["started"], completed=card["completed"], issued=card["vouchers_issued"],
            used=card["vouchers_used"], expired=card["vouchers_expired"], open=card["vouchers_open"])
        out.print(Words(printable(line)))


def suggest(key: str = typer.Argument(..., help="Customer code, card, e-mail or phone."),
            limit: int = typer.Option(5, "--limit", min=1, max=100, help="How many products to suggest.")) -> None:
    """Products that customers with similar baskets bought and this customer has not: for a personal offer.

    Example: loyalty customer suggest C000001 --limit 3
    """
    from loyaltycli.services import customers
    from loyaltycli.reports import products
    from loyaltycli.store.program import load_program

    with options.database().session(write=False) as session:
        customer = customers.find(session, key, load_program(session), usable=False)
        rows = products.suggest_products(session, customer.id, limit=limit)
    if not rows and not _machine():
        emit(rows, message=_("{code}: nothing to suggest: customers with similar baskets bought nothing new to them "
                             "(suggestions come from sales recorded with --item line items)").format(code=customer.code))
        return
    emit(rows, columns=["sku", "description", "score", "buyers"], title=_("Suggestions for {code}").format(code=customer.code))


def register(app: typer.Typer) -> None:
    from loyaltycli.cli.customers import customer_app

    app.add_typer(report_app, name="report")
    customer_app.command("suggest")(suggest)
