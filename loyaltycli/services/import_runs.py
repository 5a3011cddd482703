"""Files already imported: each run records its file's SHA-256 and size. The same file under another source
(a forgotten or mistyped ``--source``) is refused unless ``--again``, and so is a file most of whose receipts
another source already has. Under the same source a re-run goes on: its receipts are skipped one by one
(idempotent), and a run killed half-way is completed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from loyaltycli.shop import clock
from loyaltycli.base.errors import InvalidInput
from loyaltycli.store.models import ImportFile, ImportRun, Purchase
from loyaltycli.store.storage import receipts_in
from loyaltycli.i18n import _

# a file is "mostly known" when more than this share of its first receipts exist under other sources
KNOWN_SHARE = 0.5
SAMPLE_RECEIPTS = 500


def digest(path: Path) -> tuple[str, int]:
    """(SHA-256 in hex, size in bytes) of a file, read a megabyte at a time."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def check_not_imported(session: Session, sha256: str, size: int, label: str, source: str) -> None:
    """Refuse a file an earlier finished run imported under another source (same SHA-256 and size)."""
    # a run killed half-way (not finished) does not count: its re-run completes it; nor does a file that
    # had no rows (a day the shop was closed: every till's export is the same header line)
    earlier = session.execute(
        select(ImportFile.imported_at, ImportFile.source, ImportFile.run_id)
        .join(ImportRun, ImportRun.id == ImportFile.run_id)
        .where(ImportFile.sha256 == sha256, ImportFile.size == size, ImportFile.source != source,
               ImportRun.finished_at.is_not(None), ImportRun.read > 0)
        .order_by(ImportFile.id).limit(1)).first()
    if earlier is not None:
        raise InvalidInput(_('{label} was already imported on {imported_at} (source {source}, run {run_id}); nothing changed. Give --again to import it anyway').format(label=label, imported_at=clock.local_text(earlier.imported_at), source=earlier.source, run_id=earlier.run_id))


def record(session: Session, run_id: int, sha256: str, size: int, source: str) -> None:
    session.add(ImportFile(run_id=run_id, sha256=sha256, size=size, source=source, imported_at=clock.now()))


def check_other_sources(session: Session, receipt_ids: list[str], source: str, label: str) -> None:
    """Refuse when most of these receipt ids (the file's first receipts) exist under another source and
    none under this one: the same export under a forgotten or new --source."""
    sample = sorted(set(receipt_ids))[:SAMPLE_RECEIPTS]
    if len(sample) < 2:
        return
    # (receipt ids in any case through the receipts' index, then those in the exact case)
    wanted = set(sample)
    found_where: dict[str, set[str]] = {}
    for where, receipt in session.execute(select(Purchase.source, Purchase.receipt_id).where(receipts_in(sample))):
        if receipt in wanted:
            found_where.setdefault(where, set()).add(receipt)
    if found_where.get(source):
        return
    rows = sorted(((where, len(ids)) for where, ids in found_where.items() if where != source),
                  key=lambda row: (-row[1], row[0]))
    if not rows or rows[0][1] <= len(sample) * KNOWN_SHARE:
        return
    other, found = rows[0]
    last = session.execute(select(func.max(ImportRun.started_at)).where(ImportRun.source == other)).scalar()
    when = _(", last imported on {day}").format(day=clock.local_text(last)) if last else ""
    raise InvalidInput(_('{label}: {found} of its first {count} receipts already exist under source {other}{when}; is this the same export under another --source? Nothing changed. Give --again to import it anyway').format(label=label, found=found, count=len(sample), other=other, when=when))


def unfinished(session: Session) -> list[dict]:
    """Import runs that did not finish (stopped half-way: killed, interrupted, the disk full; or running
    now) and that no later run completed: a later run of the same source that finished, over the same file
    (by its digest, or by its name when a run read no file it could digest). Its receipts are skipped by
    such a re-run, which writes the rest."""
    later, mine, theirs = aliased(ImportRun), aliased(ImportFile), aliased(ImportFile)
    same_file = exists().where(mine.run_id == ImportRun.id, theirs.run_id == later.id,
                               theirs.sha256 == mine.sha256, theirs.size == mine.size)
    completed = exists().where(later.id > ImportRun.id, later.source == ImportRun.source,
                               later.finished_at.is_not(None), or_(later.file == ImportRun.file, same_file))
    rows = session.execute(select(ImportRun.id, ImportRun.file, ImportRun.source, ImportRun.started_at,
                                  ImportRun.imported)
                           .where(ImportRun.finished_at.is_(None), ~completed).order_by(ImportRun.id))
    return [{"run_id": run_id, "file": file, "source": source, "started_at": started, "imported": imported}
            for run_id, file, source, started, imported in rows]
