"""Messages in the shop's language: standard gettext catalogs, read on first use.

English is the source language: an English message is its own msgid and needs no catalog. A catalog
(``locale/<lang>/LC_MESSAGES/loyaltycli.mo``) is opened only when the first message is translated into
another language, so `loyalty --help` and counter commands in English never read one.

Which language:
  1. ``LOYALTY_LANG`` (one person's choice, e.g. ``LOYALTY_LANG=pt_PT``);
  2. the shop's ``locale`` setting (``program set locale ro_RO``), once the program's settings are known;
  3. ``LANGUAGE`` (a colon list), ``LC_ALL``, ``LC_MESSAGES``, ``LANG``;
  4. English.
A source that names a language without a catalog (``fr_FR``) is skipped; ``C``, ``POSIX`` and ``en*``
mean English. Help texts are drawn before any database is opened: they follow 1 and 3 only
(``help_gettext``), so `--help` never reads the database. A usage error (Click's words, the usage line)
is worded inside ``usage_errors``, in the language of messages: the CLI reads the shop's setting then,
on the way out.

A block of output may be rendered in another language (a customer's statement, slip or e-mail in the
customer's own language): ``with speaking("pt_PT"): ...`` makes messages and the amounts shown
(``base.money.format_money``) speak it inside the block, whatever the order above says.

Plural forms come from the catalogs (Babel writes each language's ``Plural-Forms``: Romanian has three).
No Typer or Rich here: the core and the CLI both use it.
"""

from __future__ import annotations

import os
import sys

DOMAIN = "loyaltycli"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
ENGLISH = "en"

_UNSET = object()
_shop_locale = _UNSET        # the shop's `locale` setting once known ("" or None: not set)
_message_language = None     # resolved language for messages (None: not resolved yet)
_resolving = False           # re-entrancy guard: reading the settings may itself raise a message
_catalogs: dict = {}         # language -> gettext translations object (opened once)
_available = None            # languages with a catalog, listed on first need
_speaking: list = []         # languages of ``speaking`` blocks, innermost last
_usage_language: list = []   # the language of a usage error being drawn (``usage_errors``)

# The locale a language's amounts are written in when the shop's own locale speaks another language.
LANGUAGE_LOCALES = {"pt_PT": "pt_PT", "ro": "ro_RO", "it": "it_IT", "es": "es_ES", "en": "en_IE"}


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (translated where it is shown)."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with its plural form for extraction (translated where shown, with ``ngettext``)."""
    return singular, plural


def available_languages() -> list[str]:
    """Languages with a compiled catalog in the package."""
    global _available
    if _available is None:
        try:
            names = sorted(os.listdir(LOCALE_DIR))
        except OSError:
            names = []
        _available = [n for n in names
                      if os.path.isfile(os.path.join(LOCALE_DIR, n, "LC_MESSAGES", DOMAIN + ".mo"))]
    return _available


def match(tag: str | None) -> str | None:
    """The language we speak for a locale tag: 'pt_PT.UTF-8' -> 'pt_PT', 'ro_RO' -> 'ro', 'es-MX' -> 'es',
    'C'/'POSIX'/'en_IE' -> 'en'; None when we have no catalog for it (or the tag is empty)."""
    if not tag:
        return None
    tag = str(tag).strip().split(".")[0].split("@")[0].replace("-", "_")
    if not tag:
        return None
    if tag in ("C", "POSIX") or tag.lower() == "en" or tag.lower().startswith("en_"):
        return ENGLISH
    langs = available_languages()
    lower = {name.lower(): name for name in langs}
    if tag.lower() in lower:
        return lower[tag.lower()]
    base = tag.split("_")[0].lower()
    if base in lower:
        return lower[base]
    for name in langs:  # pt_BR -> pt_PT: the same language, another country, beats English
        if name.split("_")[0].lower() == base:
            return name
    return None


def _from_environment() -> str | None:
    for var in ENV_VARS:
        value = os.environ.get(var)
        if not value:
            continue
        for tag in value.split(":") if var == "LANGUAGE" else [value]:
            found = match(tag)
            if found:
                return found
    return None


def help_language() -> str:
    """The language of help texts: LOYALTY_LANG, then the environment (no database); inside ``usage_errors``
    the language of messages."""
    if _usage_language:
        return _usage_language[-1]
    return match(os.environ.get("LOYALTY_LANG")) or _from_environment() or ENGLISH


class usage_errors:
    """A usage error (unknown command or option, a missing argument...) drawn, Click's words and the
    command's usage line included, in the language of messages: LOYALTY_LANG, then the shop's locale
    (``shop_locale``: the caller reads it on the way out; help and a command's start never open the
    database for it), then the environment."""

    def __init__(self, shop_locale: str | None):
        self.shop_locale = shop_locale

    def __enter__(self) -> str:
        lang = (match(os.environ.get("LOYALTY_LANG")) or (match(self.shop_locale) if self.shop_locale else None)
                or _from_environment() or ENGLISH)
        _usage_language.append(lang)
        return lang

    def __exit__(self, *exc) -> None:
        _usage_language.pop()


def _shop_language() -> str | None:
    global _shop_locale
    if _shop_locale is _UNSET:
        place = sys.modules.get("loyaltycli.base.place")
        if place is None:
            return None
        value = place.get("locale")  # reads the settings on first need (the CLI installs the reader)
        if place._values is None and place._loader is None:
            return None  # nothing known yet: asked again later
        _shop_locale = value or None
    return match(_shop_locale) if _shop_locale else None


def language() -> str:
    """The language of messages (see the module's docstring for the order)."""
    global _message_language, _resolving
    if _speaking:
        return _speaking[-1]
    if _message_language is not None:
        return _message_language
    explicit = match(os.environ.get("LOYALTY_LANG"))
    if explicit:
        _message_language = explicit
        return explicit
    if _resolving:  # a message raised while the settings are read: the environment decides
        return _from_environment() or ENGLISH
    _resolving = True
    try:
        chosen = _shop_language() or _from_environment() or ENGLISH
    finally:
        _resolving = False
    _message_language = chosen
    return chosen


def languages() -> list[str]:
    """The languages the program speaks: English and every language with a catalog (pt_PT, ro, it, es)."""
    return [ENGLISH, *[name for name in available_languages() if name != ENGLISH]]


def language_of(tag: str | None) -> str:
    """The language we speak for a tag a person typed ('pt', 'pt_PT', 'ro_RO', 'EN'); ValueError when
    there is no catalog for it (the caller words the refusal)."""
    found = match(tag)
    if found is None:
        raise ValueError(tag)
    return found


class speaking:
    """Messages, and the amounts shown, in ``lang`` inside the block (None, '' or a tag without a
    catalog: the block speaks as its surroundings do). Blocks nest:

        with speaking(customer.language):
            text = render(...)
    """

    def __init__(self, lang: str | None):
        self.lang = match(lang) if lang else None

    def __enter__(self) -> str:
        if self.lang:
            _speaking.append(self.lang)
        return language()

    def __exit__(self, *exc) -> None:
        if self.lang:
            _speaking.pop()


def speaking_locale() -> str | None:
    """The locale amounts are shown in inside a ``speaking`` block (None outside one, or when the block
    speaks the shop's own language: the shop's locale then)."""
    if not _speaking:
        return None
    lang = _speaking[-1]
    shop = _shop_locale if isinstance(_shop_locale, str) else None
    if shop is None:
        place = sys.modules.get("loyaltycli.base.place")
        shop = (place.get("locale", "") if place is not None else "") or None
    if shop and match(shop) == lang:
        return None
    return LANGUAGE_LOCALES.get(lang) or lang


def set_shop_locale(locale: str | None) -> None:
    """The shop's `locale` setting is in force (called when the program's settings are loaded)."""
    global _shop_locale, _message_language
    if locale != _shop_locale:
        _shop_locale = locale or None
        _message_language = None


def forget_shop() -> None:
    """A new command (or test) starts: the shop's locale is read again when first needed."""
    global _shop_locale, _message_language
    _shop_locale = _UNSET
    _message_language = None


def reset() -> None:
    """Forget everything resolved or opened (tests that switch languages or catalogs)."""
    global _available
    forget_shop()
    _speaking.clear()
    _catalogs.clear()
    _available = None


class Catalog:
    """A compiled .mo catalog looked up in place: one read of the file, then a binary search of its
    sorted msgid table per message (gettext.GNUTranslations decodes every message first: some 5 ms for
    a thousand messages, paid by every command in another language)."""

    def __init__(self, data: bytes):
        import struct

        magic, = struct.unpack("<I", data[:4])
        order = "<" if magic == 0x950412DE else ">"
        _rev, self.count, self.originals, self.translated = struct.unpack(order + "4I", data[4:20])
        self.data, self.unpack = data, struct.Struct(order + "II").unpack_from
        self.plural = lambda n: int(n != 1)
        header = self._lookup(b"")
        for line in (header or b"").decode("utf-8", "replace").splitlines():
            if line.lower().startswith("plural-forms:"):
                import gettext

                expression = line.split("plural=", 1)[1].rstrip().rstrip(";")
                self.plural = gettext.c2py(expression)

    def _lookup(self, key: bytes) -> bytes | None:
        low, high = 0, self.count - 1
        data, unpack = self.data, self.unpack
        while low <= high:
            middle = (low + high) // 2
            length, offset = unpack(data, self.originals + 8 * middle)
            found = data[offset:offset + length]
            if found == key:
                length, offset = unpack(data, self.translated + 8 * middle)
                return data[offset:offset + length]
            if found < key:
                low = middle + 1
            else:
                high = middle - 1
        return None

    def gettext(self, message: str) -> str:
        found = self._lookup(message.encode("utf-8"))
        return found.decode("utf-8") if found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._lookup(singular.encode("utf-8") + b"\0" + plural.encode("utf-8"))
        if found:
            forms = found.decode("utf-8").split("\0")
            index = self.plural(n)
            if 0 <= index < len(forms) and forms[index]:
                return forms[index]
        return singular if n == 1 else plural


class _English:
    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def translations(lang: str):
    """The catalog for ``lang`` (read on first use; English and a missing catalog translate nothing)."""
    found = _catalogs.get(lang)
    if found is None and lang == ENGLISH:
        found = _catalogs[lang] = _English()
    if found is None:
        import struct

        path = os.path.join(LOCALE_DIR, lang, "LC_MESSAGES", DOMAIN + ".mo")
        try:
            with open(path, "rb") as fh:
                found = Catalog(fh.read())
        except (OSError, ValueError, IndexError, struct.error):  # missing, or truncated / not a .mo
            found = _English()
        _catalogs[lang] = found
    return found


class Message(str):
    """A translated message that quotes what the user typed (``{value!r}``): ``format`` quotes each such
    value shortened (``base.errors.shortened``: 40 characters and an ellipsis), so that a refusal never
    echoes a 5,000-character name or value whole. Other fields are formatted as ``str.format`` does."""

    __slots__ = ()

    def format(self, *args, **kwargs) -> str:
        from loyaltycli.base.errors import shortened

        names, places = _quoted_fields(str(self))
        if names or places:
            args = tuple(shortened(a) if i in places else a for i, a in enumerate(args))
            kwargs = {k: shortened(v) if k in names else v for k, v in kwargs.items()}
        return str.format(self, *args, **kwargs)


_QUOTED: dict[str, tuple[frozenset, frozenset]] = {}


def _quoted_fields(text: str) -> tuple[frozenset, frozenset]:
    """(names, positions) of the fields of ``text`` formatted with ``!r`` (read once per message)."""
    found = _QUOTED.get(text)
    if found is None:
        import string

        names, places, auto = set(), set(), 0
        try:
            for _literal, field, _spec, conversion in string.Formatter().parse(text):
                if field is None:
                    continue
                root = field.split(".")[0].split("[")[0]
                if root == "":
                    root, auto = str(auto), auto + 1
                if conversion == "r":
                    (places.add(int(root)) if root.isdigit() else names.add(root))
        except ValueError:  # not a format string after all: formatted as it is
            names, places = set(), set()
        found = _QUOTED[text] = (frozenset(names), frozenset(places))
    return found


def _quoting(text: str) -> str:
    """``text`` as a Message when it quotes a field (``!r``), else as it is."""
    return Message(text) if "!r" in text else text


def gettext(message: str) -> str:
    """``message`` in the language of messages."""
    lang = language()
    if lang == ENGLISH or not message:
        return _quoting(message)
    return _quoting(translations(lang).gettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` (the language's own plural rules)."""
    lang = language()
    if lang == ENGLISH:
        return _quoting(singular if n == 1 else plural)
    return _quoting(translations(lang).ngettext(singular, plural, n))


def help_gettext(message: str) -> str:
    """``message`` in the language of help texts (no database read)."""
    lang = help_language()
    if lang == ENGLISH or not message:
        return _quoting(message)
    return _quoting(translations(lang).gettext(message))


def help_ngettext(singular: str, plural: str, n: int) -> str:
    lang = help_language()
    if lang == ENGLISH:
        return _quoting(singular if n == 1 else plural)
    return _quoting(translations(lang).ngettext(singular, plural, n))


_ = gettext
