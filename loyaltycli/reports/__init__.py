"""Reports: SQL aggregates over the ledger and the purchases, as plain dicts (no Rich)."""
