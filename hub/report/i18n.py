"""The report's own words in each language, from gettext catalogues read with Babel.

English is the source language (the message ids); other languages are ``.po`` catalogues under
``hub/report/locale/<locale>/LC_MESSAGES/report.po``, shipped as package data and compiled in
memory when a report is made (no build step, nothing generated to forget). Record titles are
never translated: they are shown as written.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from importlib import resources

from hub.errors import ConfigError

#: --lang value -> Babel/gettext locale
LANGUAGES = {"en": "en", "zh-CN": "zh_CN"}
DOMAIN = "report"


@dataclass(frozen=True)
class Language:
    code: str
    locale: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def day(self, value: dt.date | None) -> str:
        """A date as the locale writes it (medium length: 'Dec 1, 2026', '2026年12月1日')."""
        if value is None:
            return "-"
        from babel.dates import format_date

        return format_date(value, format="medium", locale=self.locale)


def language(code: str) -> Language:
    """The catalogue for a ``--lang`` value; a ConfigError naming the choices for any other."""
    if code not in LANGUAGES:
        raise ConfigError(f"unknown report language {code!r}; choose one of: {', '.join(LANGUAGES)}",
                          key="--lang")
    locale = LANGUAGES[code]
    if locale == "en":
        return Language(code, locale, gettext.NullTranslations())
    return Language(code, locale, _compiled(locale))


def _compiled(locale: str) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = resources.files("hub.report") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
