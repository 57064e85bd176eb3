"""Which countries a message names: a Russian rule is no answer to a
question about Kazakhstan.

Almost every entry of the FAQ is about Russia, and says so in its answer
rather than in its phrasings, so a question about another country ("do I
need fingerprinting in Kazakhstan", "в беларуси нужен патент?") matches
the Russian entry on every word but the country's name, and was answered
with the Russian rule at 80–98 % confidence.  The engine therefore answers
a message that names another country only from an entry whose own
phrasings, title or keywords name that country too ("does a trip to
Kazakhstan reset my days": the 90-day entry), and hands the rest to a person.

A message that names Russia as well ("приехал из казахстана в россию") is
about Russia, and is answered as any other.

Names are matched as skeletons (see `normalize`), by the start of a word,
so that "Казакстанда", "kazakhstane" and "в казахстане" are one country.
The list holds the countries Kyrgyz migrants ask about, and only forms that
no common word starts with: "груз" (cargo) is not Georgia, "казах" (a
Kazakh) is not Kazakhstan.  Uzbeks and Tajiks are named apart (`PEOPLE`):
the patent, the exam and the fingerprinting deadlines that spare Kyrgyz
citizens are theirs to meet, in Russia too.
"""

from __future__ import annotations

from collections.abc import Iterable

from .normalize import skeleton

# Country → the skeleton beginnings of its names, its capital and its big
# cities, in Kyrgyz, Russian and English, in Cyrillic and Latin letters.
FOREIGN: dict[str, tuple[str, ...]] = {
    "kazakhstan": ("kazahst", "kazakst", "almati", "almaty", "astana", "shimkent", "chimkent"),
    "belarus": ("belarus", "belorus", "minsk"),
    "uzbekistan": ("uzbekist", "uzbekst", "ozbekst", "tashkent"),
    "tajikistan": ("tajikist", "tajikst", "tadjikist", "dushanbe"),
    "turkey": ("turca", "turci", "turcu", "turkei", "turkia", "turkiy", "turkie", "turkada", "turkaga", "stambul", "istanbul"),
    "south-korea": ("korea", "korei", "koreu", "koreia", "koreya", "koree", "seul", "seoul"),
    "germany": ("germana", "germani", "germanu", "germanag", "germanad"),
    "usa": ("amerik", "america", "usa"),
    "europe": ("evrop", "europ"),
    "poland": ("polsh", "poland", "polsk"),
    "china": ("kitai", "kitae", "china"),
    "japan": ("apona", "aponi", "aponu", "japan"),
    "uae": ("dubai", "emirat", "oae", "uae"),
    "armenia": ("armena", "armeni"),
}
# Russia and its two capitals.  (Not Sakharovo: "an office like Sakharovo in
# Tajikistan" is about Tajikistan.)
RUSSIA: tuple[str, ...] = ("rosi", "rosa", "rosu", "rose", "orus", "rusa", "rusi", "russia", "moskv", "moscov", "moskov", "peterb", "piter")
RUSSIA_WORDS = frozenset({"rf", "spb", "msk"})

# Whole words only: "корее" is "kore", which "корень" (root) starts with.
FOREIGN_WORDS: dict[str, str] = {"kore": "south-korea"}

_ALL_FOREIGN = tuple(start for starts in FOREIGN.values() for start in starts)


def _named(words: list[str], table: dict[str, tuple[str, ...]], starts: tuple[str, ...]) -> set[str]:
    """The keys of `table` some word starts a name of (`starts`: all of them, for one C pass first)."""
    found = [w for w in words if w.startswith(starts)]
    return {key for key, beginnings in table.items() if any(w.startswith(beginnings) for w in found)} if found else set()


def countries_named(skeleton_text: str) -> frozenset[str]:
    """The foreign countries (keys of `FOREIGN`) a skeleton text names."""
    words = skeleton_text.split()
    return frozenset(_named(words, FOREIGN, _ALL_FOREIGN) | {FOREIGN_WORDS[w] for w in words if w in FOREIGN_WORDS})


# Citizens of another country, by the start of the word ("узбекам",
# "тажиктерге", "uzbeks"): a question about them is about their rules (the
# patent, their exam), wherever they are, Russia included.  Only the
# nationalities whose rules differ from Kyrgyz citizens' and whom users ask
# about; an entry that names them (who needs a patent) still answers.
PEOPLE: dict[str, tuple[str, ...]] = {
    "uzbekistan": ("uzbek", "ozbek"),
    "tajikistan": ("tajik", "tadjik"),
}
_ALL_PEOPLE = tuple(start for starts in PEOPLE.values() for start in starts)


def people_named(skeleton_text: str) -> frozenset[str]:
    """The countries whose citizens a skeleton text names (keys of `PEOPLE`)."""
    return frozenset(_named(skeleton_text.split(), PEOPLE, _ALL_PEOPLE))


def names_russia(skeleton_text: str) -> bool:
    return any(w in RUSSIA_WORDS or w.startswith(RUSSIA) for w in skeleton_text.split())


def elsewhere(text: str) -> frozenset[str]:
    """The foreign countries a message is about: those it names, unless it
    names Russia too, and those whose citizens it names."""
    words = skeleton(text)
    named = countries_named(words)
    if named and names_russia(words):
        named = frozenset()
    return named | people_named(words)


def known_countries(texts: Iterable[str]) -> frozenset[str]:
    """The foreign countries an entry's own texts (phrasings, title,
    keywords) name: questions about them it may answer."""
    skeletons = [skeleton(text) for text in texts]
    return frozenset().union(*map(countries_named, skeletons), *map(people_named, skeletons))
