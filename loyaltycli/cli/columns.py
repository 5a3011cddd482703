"""Column and field names of tables, as people read them (marked for translation).

Tables show a row's keys with spaces for underscores (``render.label``); JSON and CSV keep the keys
themselves in every language. A key missing here is shown in English: add it and re-extract.
"""

from loyaltycli.i18n import N_

LABELS = (
    N_("active"), N_("age"), N_("all"), N_("already rebated"), N_("amount"), N_("aov"), N_("as of"),
    N_("at"), N_("avg basket"), N_("avg basket with"), N_("avg basket without"), N_("awarded"),
    N_("balance"), N_("bonuses"), N_("buyers"), N_("by tier"), N_("bytes"), N_("cancelled"),
    N_("cancelled at"), N_("candidates"), N_("card"), N_("cause"), N_("channel"), N_("channels"),
    N_("check"), N_("checks"), N_("churn"), N_("cli"), N_("close to next"), N_("clv"), N_("code"),
    N_("comment"), N_("comments"), N_("completed"), N_("consent"), N_("consent at"), N_("consent how"),
    N_("cost"), N_("counter"), N_("created at"), N_("crr"), N_("csat"), N_("csat responses"),
    N_("customers"), N_("customers enrolled"), N_("customers multi"), N_("customers single"),
    N_("database"), N_("date order"), N_("decimal"), N_("delimiter"), N_("delta"), N_("demo"),
    N_("description"), N_("detail"), N_("detractors"), N_("donations"), N_("donors"), N_("dry run"),
    N_("duplicate"), N_("duplicates"), N_("earn tier"), N_("email"), N_("e-mail"), N_("tax id"), N_("stamps taken back"), N_("stamps expired"), N_("quantity"), N_("encoding"), N_("end count"),
    N_("ends at"), N_("enrolled at"), N_("erased"), N_("expires at"), N_("expires days"),
    N_("expiring soon"), N_("fee"), N_("fees paid"), N_("file"), N_("file scrubbed"), N_("filled"),
    N_("forfeited"), N_("forgotten"), N_("frequency"), N_("from"), N_("gross"), N_("header"), N_("id"),
    N_("imported"), N_("keep"), N_("kept aside"), N_("key"), N_("kind"), N_("language"), N_("lapsed"),
    N_("ledger rows"), N_("lifespan years"), N_("loaded"), N_("lots"), N_("meaning"), N_("members"),
    N_("merged"), N_("merged into"), N_("min amount"), N_("min spend"), N_("missing"),
    N_("missing for next"), N_("monetary"), N_("month"), N_("monthly"), N_("months"), N_("moved"),
    N_("membership"), N_("e-mail offers"), N_("SMS offers"), N_("given"), N_("how"), N_("version"),
    N_("goal"), N_("goals"), N_("target"),
    N_("multiplier"), N_("name"), N_("new"), N_("next tier"), N_("note"), N_("nps"), N_("offers"),
    N_("ok"), N_("on"), N_("online"), N_("operator"), N_("orders"), N_("paid until"), N_("passives"),
    N_("per"), N_("percent"), N_("period"), N_("perk"), N_("phone"), N_("plan"), N_("points"),
    N_("points awarded"), N_("points earned"), N_("points redeemed"), N_("preset"), N_("problems"),
    N_("promoters"), N_("purchase"), N_("purchases per year"), N_("qualifying spend"), N_("rate"),
    N_("ratio"), N_("read"), N_("reason"), N_("reasons"), N_("rebates"), N_("receipt id"),
    N_("recency days"), N_("redeemed"), N_("redemption rate"), N_("redemptions"), N_("referee"),
    N_("referee name"), N_("referee points"), N_("referral code"), N_("referrer"), N_("referrer name"),
    N_("referrer points"), N_("refund id"), N_("refunds"), N_("rejected"), N_("rejects file"),
    N_("removed"), N_("responses"), N_("reward"), N_("reward points"), N_("rewarded at"), N_("rows"),
    N_("run id"), N_("sales"), N_("sales with redemption"), N_("sales without redemption"),
    N_("schema"), N_("score"), N_("segment"), N_("segments"), N_("set"), N_("share"), N_("since"),
    N_("skipped"), N_("sku"), N_("skus"), N_("source"), N_("spend"), N_("stamp cards"), N_("stamps"),
    N_("stamps needed"), N_("start count"), N_("started"), N_("started at"), N_("status"), N_("store"),
    N_("successful referrals"), N_("table"), N_("tier"), N_("tiers"), N_("to"), N_("total spend"),
    N_("trend"), N_("unit"), N_("value"), N_("vouchers"), N_("vouchers expired"),
    N_("vouchers issued"), N_("vouchers left"), N_("vouchers open"), N_("vouchers used"),
    N_("with consent"), N_("year"),
)

# Kinds of ledger and stamp-card rows, shown in the `kind` column of tables (JSON and CSV keep the code).
KINDS = (
    N_("earn"), N_("expire"), N_("milestone"), N_("redeem"), N_("referral"), N_("refund"),
    N_("welcome"), N_("award"), N_("birthday"), N_("rebate"), N_("donate"), N_("forget"),
    N_("merge in"), N_("merge out"), N_("cashback"), N_("stamp"), N_("unstamp"), N_("complete"),
    N_("voucher"), N_("voucher used"), N_("voucher expires"), N_("item"), N_("visit"),
    N_("voucher void"), N_("restate"),  # a stamp card put in time order (engine.cards.restate)
    N_("progress"), N_("unprogress"),  # a goal's progress, and what a refund took back of it
)
