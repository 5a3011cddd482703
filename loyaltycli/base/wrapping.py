"""Words packed into lines no wider than a width, greedily: the one packing that the terminal's cells
(cli/render.wrap_words) and the receipt printer's paper (customer/slip.fit) share, each with its own measure
of a text's width and its own way of cutting a word wider than a whole line."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def pack(words: Iterable[str], width: int, measure: Callable[[str], int],
         cut: Callable[[str], list[str]], indent: str = "", holds: Callable[[str], object] = bool) -> list[str]:
    """``words`` joined by single spaces into lines no wider than ``width`` (as ``measure`` tells): a word
    that does not fit starts the next line; a word wider than a whole line is cut (``cut(word)``: pieces no
    wider, each on its own line, the last one going on with the next words). The first line starts with
    ``indent``, which holds nothing. ``holds(line)``: whether a line holds anything yet (the screen keeps a
    word of spaces; the paper counts a line of nothing but spaces as empty): a line that holds nothing is not
    kept, and the next word goes on it with no space before."""
    def filled(text: str) -> bool:
        return text != indent and bool(holds(text))

    out: list[str] = []
    line = indent
    for word in words:
        # widths added, not the joined text measured: a terminal's width of a text is not always the sum of
        # its parts' (a zero-width joiner makes the next character, the space here, count as nothing)
        if filled(line):
            joined, wide = f"{line} {word}", measure(line) + 1 + measure(word)
        else:
            joined, wide = line + word, measure(line) + measure(word)
        if wide <= width:
            line = joined
            continue
        if filled(line):
            out.append(line)
        pieces = (cut(word) if measure(word) > width else None) or [word]
        out.extend(pieces[:-1])
        line = pieces[-1]
    if filled(line) or not out:
        out.append(line if filled(line) else "")
    return out
