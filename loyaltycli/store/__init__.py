"""The database: SQLModel tables, engine and transactions, migrations, the program's settings as
stored, the ledger, and the loader/writer the rules engine is fed by and writes through."""
