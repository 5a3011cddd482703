"""The import's first pass over a till file: each receipt's id and time, read a block at a time, column by
column in C (store/spill.in_order tells from them whether the file may be streamed, and keeps the times for
the second pass). A mixin of ``tillcsv.reader.Reader``: it uses the reader's records (``Reader.records``),
column indexes, preset, translator and ``when``.

A receipt here is a run of consecutive rows of one id, as the second pass reads them: rows the row-by-row
path passes over (blank, unreadable, skipped by the preset, anonymous) are left out and do not end a run;
a row with no id is a receipt of its own (the import refuses it). Amounts, quantities and prices are not
read, so a receipt the import will reject for them is here too.
"""

from __future__ import annotations

from datetime import datetime
from itertools import compress, count, repeat
from operator import attrgetter, floordiv, itemgetter, ne, sub
from typing import Iterator

from loyaltycli.base.errors import LoyaltyError
from loyaltycli.base.instants import EPOCH, EPOCH_NAIVE, MICROSECOND

# the years a time is read as it is written (Reader._parse_when, and here in C); any other goes its own way
FIRST_YEAR, END_YEAR = 1901, 9998
_FIRST, _END = datetime(FIRST_YEAR, 1, 1), datetime(END_YEAR, 1, 1)
_DAY = itemgetter(slice(0, 10))


class ReceiptTimes:
    def receipt_time_blocks(self, handle, block_rows: int) -> Iterator[tuple[list[str], list]]:
        """Per block of the file, (receipt ids, times): a receipt's time is the text of its lines' one time,
        or the list of its lines' different times in file order. The ids are in file order; an empty id is
        a row with no id. The last receipt of a block waits for the next (its lines may go on there)."""
        reader = self.records(handle)
        get, translator = self._get, self._translator
        if translator is not None:
            translator.numbers = []  # amounts are not read here: their canonical text is not needed
        i_receipt, i_when, i_customer = get["receipt_id"], get["timestamp"], get["customer"]
        width = max(i for i in (i_receipt, i_when, i_customer) if i is not None) + 1
        held_ids: list[str] = []  # the rows of the last receipt of the block before
        held_whens: list[str] = []
        no_id = count()
        for rows, _starts, errors, ended in self._record_blocks(reader, block_rows):
            ids, whens = self._id_and_time_columns(rows, errors, width)
            if held_ids:
                ids[:0], whens[:0] = held_ids, held_whens
            if not ids:
                held_ids, held_whens = [], []
                if ended:
                    break
                continue
            if "" in ids:  # each row with no id a receipt of its own: never one run with its neighbours
                ids = [receipt_id or f"\x00{next(no_id)}" for receipt_id in ids]
            # runs of one id; the last one held for the next block unless the file ends here
            starts = [0, *compress(range(1, len(ids)), map(ne, ids[1:], ids[:-1]))]
            cut = len(ids) if ended else starts[-1]
            if not ended:
                held_ids, held_whens = ids[cut:], whens[cut:]
                starts.pop()
            if starts:
                yield self._runs(ids, whens, starts, cut)
            if ended:
                break

    def _id_and_time_columns(self, rows: list, errors: dict, width: int) -> tuple[list[str], list[str]]:
        """The id and time of each row the row-by-row path gives to a receipt (``_passed_over`` leaves out
        the others), stripped: in C for a plain block, else row by row."""
        get = self._get
        i_receipt, i_when, i_customer = get["receipt_id"], get["timestamp"], get["customer"]
        anonymous_skip = self.preset.anonymous == "skip"
        strip = str.strip
        if (not errors and not self._rule_columns["skip_when"] and rows
                and min(map(len, rows)) >= max(width, self._needed)):
            ids = list(map(strip, map(itemgetter(i_receipt), rows)))
            whens = list(map(strip, map(itemgetter(i_when), rows)))
            if anonymous_skip:
                keys = list(map(strip, map(itemgetter(i_customer), rows)))
                if "" in keys:
                    ids, whens = list(compress(ids, keys)), list(compress(whens, keys))
            return ids, whens
        ids, whens = [], []
        passed_over = self._passed_over
        for i, fields in enumerate(rows):
            if not passed_over(fields, i in errors):
                ids.append(fields[i_receipt].strip())
                whens.append(fields[i_when].strip())
        return ids, whens

    @staticmethod
    def _runs(ids: list[str], whens: list[str], starts: list[int], end: int) -> tuple[list[str], list]:
        """(id, time) of each run: the time text, or the list of the run's different times when they vary."""
        run_ids = [ids[i] for i in starts]
        times: list = [whens[i] for i in starts]
        # rows where the time changes inside a run (a receipt straddling a minute): rare
        changes = set(compress(range(1, end), map(ne, whens[1:end], whens[:end - 1]))).difference(starts)
        if changes:
            from bisect import bisect_right

            for k in {bisect_right(starts, i) - 1 for i in changes}:
                stop = starts[k + 1] if k + 1 < len(starts) else end
                texts = [whens[starts[k]]]
                for text in whens[starts[k] + 1:stop]:
                    if text != texts[-1]:
                        texts.append(text)
                times[k] = texts
        if "\x00" in "".join(run_ids):  # (no id of a file holds one: Lines replaces it)
            run_ids = ["" if receipt_id.startswith("\x00") else receipt_id for receipt_id in run_ids]
        return run_ids, times

    def time_values(self, texts: list[str]) -> list[int | None]:
        """Microseconds since 1970 (UTC) of each time text as ``when`` reads it; None where it cannot be read.
        Local times of days whose offset is known are read in C, the rest one by one."""
        offsets, when = self._offsets, self.when
        try:
            values = list(map(datetime.fromisoformat, texts))
        except (ValueError, TypeError):
            values = None
        if values and set(map(attrgetter("tzinfo"), values)) == {None} and min(values) >= _FIRST \
                and max(values) < _END:
            days = list(map(_DAY, texts))
            missing = set(days).difference(offsets)
            if missing:  # a day not seen yet: one of its times read the long way keeps its offset
                first = dict(zip(reversed(days), range(len(days) - 1, -1, -1)))
                for day in sorted(missing, key=first.__getitem__):  # in file order (notes keep theirs)
                    try:
                        when(texts[first[day]])
                    except LoyaltyError:
                        pass
            found = list(map(offsets.get, days))
            if None not in found:
                return list(map(floordiv, map(sub, map(sub, values, repeat(EPOCH_NAIVE)), found), repeat(MICROSECOND)))
        out: list[int | None] = []
        for text in texts:
            try:
                out.append((when(text) - EPOCH) // MICROSECOND)
            except LoyaltyError:
                out.append(None)
        return out
