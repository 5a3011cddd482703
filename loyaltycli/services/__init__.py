"""Use cases, one transaction each: enroll, sale, refund, redeem, import, expire, merge and forget,
backup... Each opens its transaction, loads, asks the engine, writes. No Typer or Rich."""
