"""Interface strings in the user's language, from gettext catalogues.

The catalogues live in `locales/<lang>/LC_MESSAGES/messages.po` and are
compiled to `.mo` with Babel (see the README).  A translation is chosen per
call, never installed process-wide: two users in one update loop may speak
different languages.  Message ids are English.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from babel import Locale
from babel.support import Translations

from .faq import LANGS

DOMAIN = "messages"


class Catalogs:
    """The loaded translations, one per supported language."""

    def __init__(self, locales_dir: Path):
        self.locales_dir = Path(locales_dir)
        self._translations: dict[str, gettext.NullTranslations] = {}
        for lang in LANGS:
            loaded = Translations.load(str(self.locales_dir), [lang], DOMAIN)
            self._translations[lang] = loaded

    def get(self, lang: str) -> gettext.NullTranslations:
        """Translations for `lang`; English (the message ids) for anything else."""
        return self._translations.get(lang) or self._translations["en"]

    def gettext(self, lang: str, message: str) -> str:
        return self.get(lang).gettext(message)

    def missing(self, lang: str) -> bool:
        """True when no compiled catalogue was found for `lang`."""
        return not isinstance(self._translations.get(lang), Translations)


def babel_locale(lang: str) -> Locale:
    """The Babel locale used to format dates for a reply language."""
    return Locale.parse(lang if lang in LANGS else "en")


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
