"""What `import` and `import inspect` both find out about a till file before reading it: its encoding when it is
not UTF-8 (Windows-1250 for a Romanian till, Windows-1252 for a Portuguese, Italian or Spanish one), told by
charset-normalizer where the letters each reading gives differ, and where it cannot tell (a short file reads as
well either way) by those letters; Windows-1252 when no letter tells them apart. One detection, so that the two
never disagree."""

from __future__ import annotations

SAMPLE_BYTES = 1 << 20
LEGACY = ("cp1250", "cp1252")

# letters only one of the two encodings gives for the bytes of real words (ă ş ţ are Romanian, ã õ ç Portuguese)
_CENTRAL = set("ăşţłřěůőűčćęąńśźżďťľĺŕĂŞŢŁŘĚŮŐŰČĆĘĄŃŚŹŻĎŤĽĹŔ")
_WESTERN = set("ãõàèìòùñçÃÕÀÈÌÒÙÑÇºª")
_ODD = set("þðÞÐ¾¼½³¹²")


def sample(path) -> bytes:
    """The first megabyte of a file (BOM left out)."""
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def is_utf8(raw: bytes) -> bool:
    """True when ``raw`` is UTF-8 (a character cut at the end of a sample counts as UTF-8)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data"
    return True


def legacy_encoding(raw: bytes) -> str:
    """cp1250 or cp1252 for bytes that are not UTF-8 (see the module's docstring)."""
    from charset_normalizer import from_bytes

    central = raw.decode("cp1250", errors="replace")
    western = raw.decode("cp1252", errors="replace")
    score_central = sum(ch in _CENTRAL for ch in central) - sum(ch in _ODD for ch in central)
    score_western = sum(ch in _WESTERN for ch in western) - sum(ch in _ODD for ch in western)
    if score_central == score_western:  # no letter tells them apart (É reads the same in both): Western
        return "cp1252"
    matches = list(from_bytes(raw, cp_isolation=list(LEGACY)))
    if matches:
        best = min((m.chaos, -m.coherence) for m in matches)
        tied = [m.encoding for m in matches if (m.chaos, -m.coherence) <= (best[0] + 0.005, best[1] + 0.005)]
        if len(tied) == 1 and tied[0] in LEGACY:
            return tied[0]
    return "cp1250" if score_central > score_western else "cp1252"


def file_encoding(path) -> str:
    """utf-8, or the legacy encoding of a file that is not UTF-8."""
    raw = sample(path)
    return "utf-8" if is_utf8(raw) else legacy_encoding(raw)
