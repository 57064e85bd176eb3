"""What a message names that only some entries speak of: another
country, its citizens, an app other than Amina, a price, a year, a town of
Kyrgyzstan.  A Russian rule is no answer to a question about Kazakhstan,
nor Amina's install steps to one about a bank's app, nor 2025's figures to
a question about 2023.

Almost every entry of the FAQ is about Russia, and says so in its answer
rather than in its phrasings, so a question about another country ("do I
need fingerprinting in Kazakhstan", "в беларуси нужен патент?") matches
the Russian entry on every word but the country's name, and was answered
with the Russian rule at 80–98 % confidence.  The engine therefore hands
such a message to a person, unless an entry's own phrasings, title or
keywords name that country too; even then it only offers that entry as a
choice: the 90-day entry names Kazakhstan as a place to pop out to ("does a
trip to Kazakhstan reset my days"), and had answered "how many days per
year can I be in Kazakhstan" with Russia's rule.

A message that names Russia as well ("приехал из казахстана в россию") is
about Russia, and is answered as any other.

Names are matched as skeletons (see `normalize`), by the start of a word,
so that "Казакстанда", "kazakhstane" and "в казахстане" are one country.
The list holds the countries Kyrgyz migrants ask about, and only forms that
no common word starts with: "груз" (cargo) is not Georgia, "казах" (a
Kazakh) is not Kazakhstan.  Uzbeks and Tajiks are named apart (`PEOPLE`):
the patent, the exam and the fingerprinting deadlines that spare Kyrgyz
citizens are theirs to meet, in Russia too.

A question about a price ("аминаны орнотуу акылуубу", "how much does a
lawyer charge to appeal a ban") is answered only by an entry whose
phrasings ask about one too (the patent's, consular fees', free emergency
care): the others name no price, and given as the answer they seemed to
say there is none.  No source gives most fees and fines.

A question about how long or by when ("запрет поставили без суда, в какой
срок обжаловать", "how many days in hospital are free") is answered only by
an entry whose phrasings ask about a length of time too (the 90 days, the
30 days for fingerprinting): the others give none, as with prices.  So
with an address (Amina's and the consulate's entries speak of one; the
register's says whom to apply to, not where a letter goes) and with
opening hours, which no entry gives ("Сахарово жекшемби күнү иштейби" had
the centre's entry, which says where it is and what is done there), and
with where to go in a big Russian town other than Moscow, which only the
entries whose phrasings name such a town answer (the entries that name a
place name Moscow's: fingerprinting "in Yekaterinburg" is not at Sakharovo).

An entry whose phrasings ask about a year (how many were banned in 2025)
answers only questions about the years its texts and answer name: its
figures are for those years.  An entry held to a town by its title or
keywords (the Sakharovo branch in Osh) answers only about that town.  Both
were found by reviewers' probes written to look like an entry while asking
what it does not say.

Apps, banks and services are named the same way (`APPS`): "how do I
install the Gosuslugi app" or "сбербанк онлайнды телефонго кантип
орнотом" shares every word but the name with "how do I install Amina", and
was answered with Amina's steps at 80–92 % confidence.  Only entries about
an app are held to the app a message names: a bank or Gosuslugi is often
just the way something was done ("paid my fines through Gosuslugi").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

from .faq import FAQ, LANGS
from .normalize import skeleton
from .parts import sentences

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
# At the start of a word of a skeleton (words are split by single spaces).
_WORD_START = "(?<![^ ])"
_WORD_END = "(?![^ ])"


def _alternatives(beginnings: Iterable[str]) -> str:
    return "|".join(map(re.escape, sorted(beginnings, key=len, reverse=True)))


class _Starts:
    """The keys of a table of name beginnings that a skeleton text's words
    start, found by one regular expression in C: a message passes through
    seven such tables, and a loop over its words in Python for each had
    cost ~60 µs a message.  No beginning of one key starts another key's,
    so the longest that matches at a word says the key."""

    def __init__(self, table: dict[str, tuple[str, ...]], *, unless: tuple[str, ...] = ()):
        self.key_of = {start: key for key, starts in table.items() for start in starts}
        skip = f"(?!{_alternatives(unless)})" if unless else ""
        self.pattern = re.compile(f"{_WORD_START}{skip}({_alternatives(self.key_of)})")

    def __call__(self, skeleton_text: str) -> set[str]:
        return set(map(self.key_of.__getitem__, self.pattern.findall(skeleton_text)))


def _whole(words: Iterable[str]) -> re.Pattern[str]:
    return re.compile(f"{_WORD_START}({_alternatives(words)}){_WORD_END}")


_COUNTRY_STARTS = _Starts(FOREIGN)
_COUNTRY_WORDS = _whole(FOREIGN_WORDS)


def countries_named(skeleton_text: str) -> frozenset[str]:
    """The foreign countries (keys of `FOREIGN`) a skeleton text names."""
    return frozenset(_COUNTRY_STARTS(skeleton_text) | set(map(FOREIGN_WORDS.__getitem__, _COUNTRY_WORDS.findall(skeleton_text))))


# Citizens of another country, by the start of the word ("узбекам",
# "тажиктерге", "uzbeks"): a question about them is about their rules (the
# patent, their exam), wherever they are, Russia included.  Only the
# nationalities whose rules differ from Kyrgyz citizens' and whom users ask
# about; an entry that names them (who needs a patent) still answers.
# Kazakhs ("казактарга", "kazakh citizens") share the Eurasian Union's
# rules in Russia, yet the Kyrgyz state's help, figures and consulates are
# not theirs: "how many kazakh citizens are banned" had Kyrgyz citizens'
# figures as its answer.  ("Казахстан" itself is a country, not a people.)
PEOPLE: dict[str, tuple[str, ...]] = {
    "uzbekistan": ("uzbek", "ozbek"),
    "tajikistan": ("tajik", "tadjik"),
    "kazakhstan": ("kazah", "kazak"),
}
_PEOPLE_STARTS = _Starts(PEOPLE, unless=_ALL_FOREIGN)  # "kazahstan" is a country
# Words saying the country next to them is a citizenship ("гражданин
# Казахстана", "citizen of Kazakhstan", "Казакстандын жараны"): whoever
# the message is about holds that country's passport, even in Moscow.
CITIZEN_STARTS = ("grajdan", "citizen", "jaran", "poddan")
_CITIZEN = re.compile(f"{_WORD_START}(?:{_alternatives(CITIZEN_STARTS)})")


# A nationality is an ethnicity, not a citizenship, when the message says
# so ("по национальности", "этнический", "ethnic", "улуту"), or when the
# writer names it of themselves beside a Kyrgyz passport ("мен өзбекмин,
# бирок Кыргызстандын жаранымын"): Uzbeks are a seventh of Kyrgyzstan's
# people, and a citizen's rules are the FAQ's.  "мой друг узбек, а я
# гражданин КР" still asks about the friend.
ETHNICITY = re.compile(r"\b(?:etnichesk\w*|ethnic\w*|nacionalnost\w*|ulut\w*)\b")
KYRGYZ_CITIZEN = re.compile(
    r"\b(?:(?:grajdan\w*|citizen\w*|jaran\w*|pasport\w*|passport\w*)(?: of)? (?:kr|kirgiz\w*)"
    r"|(?:kr|kirgiz\w*) (?:pasport\w*|passport\w*|grajdan\w*|jaran\w*|citizen\w*))\b"
)
OF_ONESELF = re.compile(r"\b(?:a|men|i am|im|i m) (?:an )?(?:uzbek|ozbek|tajik|tadjik)\w*|\b(?:uzbek|ozbek|tajik|tadjik)\w*min\b")


def people_named(skeleton_text: str) -> frozenset[str]:
    """The countries whose citizens a skeleton text names (keys of `PEOPLE`),
    by a nationality ("узбекам") or a country next to a word for citizen;
    not a nationality that is an ethnicity (`ETHNICITY`)."""
    nationalities = _PEOPLE_STARTS(skeleton_text)
    if nationalities and (
        ETHNICITY.search(skeleton_text) or (KYRGYZ_CITIZEN.search(skeleton_text) and OF_ONESELF.search(skeleton_text))
    ):
        nationalities = set()
    return frozenset(nationalities | _citizenships(skeleton_text))


def _citizenships(skeleton_text: str) -> set[str]:
    """The countries named within two words of a word for citizen."""
    named: set[str] = set()
    if _CITIZEN.search(skeleton_text):
        words = skeleton_text.split()
        for at in (i for i, w in enumerate(words) if w.startswith(CITIZEN_STARTS)):
            named |= countries_named(" ".join(words[max(at - 2, 0) : at + 3]))
    return named


_RUSSIA = re.compile(f"{_WORD_START}(?:{_alternatives(RUSSIA)}|(?:{_alternatives(RUSSIA_WORDS)}){_WORD_END})")


def names_russia(skeleton_text: str) -> bool:
    return _RUSSIA.search(skeleton_text) is not None


# Apps, banks and money-transfer services that people ask how to install,
# open or use, Amina among them, by the start of their skeletons.  Only
# names no common word starts with: "сбер" alone is a whole word
# (`APP_WORDS`), as "сбережения" (savings) starts with it.  RuStore is not
# here: Amina is installed from it, and its entries say so.
APPS: dict[str, tuple[str, ...]] = {
    "amina": ("amina", "aminu", "amine", "aminoi", "aminy"),
    "sberbank": ("sberb",),
    "tinkoff": ("tinkof", "tbank"),
    "mbank": ("mbank",),
    "elsom": ("elsom",),
    "odengi": ("odengi",),
    "whatsapp": ("vacap", "vocap", "uacap", "vhacap", "vhacup"),
    "gosuslugi": ("gosuslug",),
    "yandex": ("andeks", "andeh"),
    "wildberries": ("vaildber", "vildber", "valber"),
    "ozon": ("ozon",),
    "avito": ("avito",),
    "kaspi": ("kaspi",),
    "unistream": ("unistr",),
}
APP_WORDS: dict[str, str] = {"sber": "sberbank", "sbera": "sberbank", "sberu": "sberbank", "sbere": "sberbank", "sberom": "sberbank", "vtb": "vtb"}
_APP_STARTS = _Starts(APPS)
_APP_WORDS = _whole(APP_WORDS)


def apps_named(skeleton_text: str) -> frozenset[str]:
    """The apps and services (keys of `APPS`, or "vtb") a skeleton text names."""
    return frozenset(_APP_STARTS(skeleton_text) | set(map(APP_WORDS.__getitem__, _APP_WORDS.findall(skeleton_text))))


# Kyrgyzstan's towns, by the start of their skeletons; Osh by its whole
# word forms, as "ошибка" and "оштрафовали" start with it.  An entry whose
# title or keywords name a town (the Sakharovo branch in Osh) answers only
# questions about that town, or about none: "will there be a Sakharovo
# branch in Karakol too" had the Osh branch's news as its answer.
TOWNS: dict[str, tuple[str, ...]] = {
    "bishkek": ("bishkek", "bishkeg", "frunze"),
    "karakol": ("karakol",),
    "jalal-abad": ("jalal",),
    "naryn": ("narin",),
    "talas": ("talas",),
    "batken": ("batken",),
    "tokmok": ("tokmok", "tokmak"),
    "kara-balta": ("karabalt", "kara balt"),
    "uzgen": ("ozgon", "uzgen"),
    "cholpon-ata": ("cholpon",),
    "balykchy": ("balikch",),
    "issyk-kul": ("isikkol", "isikkul", "isik kol", "isik kul"),
}
OSH_WORDS = frozenset({"osh", "osha", "oshe", "oshu", "oshom", "oshto", "oshtogu", "oshko", "oshton", "oshtun", "oshsk", "oshskoi", "oshskaa", "oshskii"})
_TOWN_STARTS = _Starts(TOWNS)  # two-word names ("кара балта") written both ways
_OSH = _whole(OSH_WORDS)


def towns_named(skeleton_text: str) -> frozenset[str]:
    """The towns of Kyrgyzstan (keys of `TOWNS`, or "osh") a skeleton text names."""
    named = _TOWN_STARTS(skeleton_text)
    return frozenset(named | {"osh"} if _OSH.search(skeleton_text) else named)


# Words that ask what something costs or pays, as skeleton beginnings and
# whole words: "сколько стоит", "акысы канча", "how much does it cost", "is it
# free", "who pays".  "стоит ли" (is it worth it) is not a price.
PRICE_STARTS = (
    "stoimost", "cena", "cenu", "ceni", "platit", "zaplat", "oplat", "plata", "platat", "besplat",  # ru
    "cost", "price", "charg",  # en
    "akis", "akilu", "tolo",  # ky: акысы, акылуубу, төлөш
)
PRICE_WORDS = frozenset({"pai", "paid", "pais", "fe", "fes", "fre", "basi", "basin"})
# A sum of money asked for: "канча акча", "канча сом", "канча турат",
# "сколько рублей", "how much money", and a fine's amount ("канча штраф",
# "какой штраф", "how much is the fine"), which no source gives.  ("Канча миң" is a count: "канча миң кыргыз".)
# "Стоит" with a sum or "сколько" near it: alone it is also "is" ("в
# миграционке цель туризм стоит").
FINE_PHRASES = (  # a fine's amount (`asks_fine`)
    r"kancha shtraf\w*|shtraf\w* kancha|kandai shtraf\w*|skolk\w* shtraf\w*|shtraf\w* skolk\w*|kakoi shtraf\w*|kakaa summ\w* shtraf\w*"
    r"|razmer\w* shtraf\w*|summ\w* shtraf\w*|hov much (?:is )?(?:the )?fine\w*|vhat (?:is )?(?:the )?fine\w*|vhich fine\w*"
    r"|kancha aip\w*(?: pul\w*)?|aip\w* (?:pul\w* )?kancha|kandai aip\w*"  # ky "айып пул", a fine, in Kyrgyz words
)
PRICE_PHRASES = (
    r"kancha (?:akch|som|rubl|dollar)\w*|kancha turat|akchasi kancha|skolk\w* (?:deneg|rubl\w*|som\w*|dollar\w*)|hov much monei"
    r"|(?:in|v) (?:rubl|roubl|dollar)\w*"
    r"|skolk\w* (?:\w+ )?stoit|stoit (?:\d|skolk|deneg|dorog|rubl|dollar|som|tisach|tis)\w*|(?:\d+|dorog\w*) stoit|\w+ stoit skolk\w*"
    f"|{FINE_PHRASES}"
)
_PRICE = re.compile(
    f"{_WORD_START}(?!stoit li{_WORD_END})(?:{_alternatives(PRICE_STARTS)}|(?:{_alternatives(PRICE_WORDS)}|{PRICE_PHRASES}){_WORD_END})"
)


def asks_price(skeleton_text: str) -> bool:
    """Whether a skeleton text asks what something costs or pays."""
    return _PRICE.search(skeleton_text) is not None


# A fine's amount is a price no entry gives, the patent's entry included
# (its phrasings ask the patent's price): "какой штраф работодателю если я
# работаю без договора" had it.  Only the out-of-scope subject on fees and
# fines, whose phrasings ask one, answers it.
_FINE = re.compile(f"{_WORD_START}(?:{FINE_PHRASES}){_WORD_END}")


def asks_fine(skeleton_text: str) -> bool:
    """Whether a skeleton text asks what a fine amounts to."""
    return _FINE.search(skeleton_text) is not None


# A year, as written in any language ("2023-жылы", "в 2021 году", "2026да");
# not 2000, a common fine ("штраф 2000").
YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20(?:0[1-9]|[1-4]\d))(?!\d)")


def years_named(text: str) -> frozenset[str]:
    return frozenset(YEAR.findall(text))


# Words that ask how long something takes or lasts, or by when: "сколько
# дней", "через сколько", "в какой срок", "канча күн", "how long", "how
# many days", "deadline".  (Not "срок" alone: "снять раньше срока" asks no
# length; nor "мөөнөтү" alone: "мөөнөтү өтүп кетсе" is "if it expires".)
DURATION = re.compile(
    r"\b(?:skolk\w* (?:dn\w*|den|vrem\w*|nedel\w*|mesac\w*|let|god\w*|sutk\w*|chas\w*)|cherez skolk\w*"
    r"|v techeni\w* (?:kakog|skolk)\w*|kakoi srok|kakie sroki"  # ru
    r"|kancha (?:kun\w*|ubakit\w*|juma\w*|ai|aida|aiga|aidin|jil\w*|sat\w*|monot\w*)|monotu kancha"  # ky
    r"|hov long|hov mani (?:dai|vek|month|ear|hour)\w*|deadlin\w*|hov son|hov quick\w*|hov fast)\b"  # en
)


def asks_duration(skeleton_text: str) -> bool:
    """Whether a skeleton text asks how long, how many days, or by when."""
    return DURATION.search(skeleton_text) is not None


# Words that ask for an address ("на какой адрес отправлять", "дареги
# кайда", "what is the address"): only the entries whose phrasings ask one
# answer them (where Amina registers you, the consulate's, which the bot
# does not give), not the one about the office a letter goes to.
# A change of address is no request for one ("can I change my address",
# "адрес менять нельзя", "жаңы дарекке көчтүм"): the register's restrictions
# speak of it.
ADDRESS = re.compile(r"\b(?:adres\w*|dare[gk]\w*|address\w*|pochtov\w* indeks\w*|postcode|postal code)\b")
ADDRESS_CHANGE = re.compile(
    r"\b(?:(?:smen|pomen|izmen|chang|nov|nev|jani|moved? to)\w*(?: (?:mi|moi|svoi|the|a|nev))? (?:adres|dare[gk])\w*"
    r"|(?:adres|dare[gk])\w* (?:smen|pomen|izmen|menat|menu|ozgor|almash|chang)\w*)\b"
)


def asks_address(skeleton_text: str) -> bool:
    """Whether a skeleton text asks for an address (not of a change of one)."""
    return ADDRESS.search(ADDRESS_CHANGE.sub(" ", skeleton_text)) is not None


# Words that ask when a place is open: its hours, or whether it works on
# a day ("саат канчада ачылат", "жекшемби күнү иштейби", "часы работы",
# "open on Sunday"; a day alone is no question: "задержали в субботу").
# No entry gives opening hours; an entry about the place would answer
# where it is and what is done there instead.
OPENING_HOURS = re.compile(
    r"\b(?:chas\w* rabot\w*|grafik\w*|rezhim rabot\w*|vo skolk\w* (?:otkri|zakri|rabota|priem|prinim)\w*|v kakoe vrem\w*"  # ru
    r"|sat kancha\w*|ishto ubakt\w*|ishtoo ubakt\w*"  # ky
    r"|opening hours|opening time\w*|open hours|vorking hours|ofice hours|hours|vhat time)\b"  # en
)
DAYS = re.compile(
    r"\b(?:vihodn\w*|subot\w*|voskresen\w*|ponedelnik\w*|jekshemb\w*|ishemb\w*|dushomb\w*|dem alish\w*"
    r"|vekend\w*|saturda\w*|sunda\w*|monda\w*|holida\w*)\b"
)
OPEN_VERBS = re.compile(r"\b(?:rabota\w*|otkri\w*|priem\w*|prinima\w*|ishte\w*|achil\w*|achik\w*|open\w*|vork\w*|clos\w*)\b")


def asks_opening(skeleton_text: str) -> bool:
    """Whether a skeleton text asks when something is open."""
    return OPENING_HOURS.search(skeleton_text) is not None or (
        DAYS.search(skeleton_text) is not None and OPEN_VERBS.search(skeleton_text) is not None
    )


# Words of a death ("умер", "погиб", "каза болду", "сөөгүн", "died", "the
# body"): a question about one is answered only by an entry whose phrasings
# or titles speak of a death (bringing a body home, its documents and
# figures).  "How many Kyrgyz migrants died in Russia in 2025?" had the
# number of entry bans, whose phrasings are "how many Kyrgyz… in 2025".
# And the other way: those entries, whose titles speak of a body, answer
# only a message that speaks of a death ("father sick in moscow, state pay to
# bring home?" had the state's payment for a body).  A skeleton writes
# "сөөк" (a body) as "sok": the "sook" this once looked for never matched.
# Repatriation, freight 200 and the deceased ("маркум") speak of one too:
# without them the rule had turned away 40 of those entries' 184 own
# phrasings ("репатриацияга документтердин тизмеси"); the 6 that named no
# death at all ("what proves that I am a relative") now name the deceased.
DEATH = re.compile(
    r"\b(?:umer\w*|umir\w*|umersh\w*|skonch\w*|pokoin\w*|pogib\w*|smert\w*|pohoron\w*|grob\w*|telo|tela|(?:gruz|cargo)\w* 2\d*\w*"  # ru
    r"|repatr\w*|\d+ tel"  # repatriation: in this FAQ, of a body
    # "тел" (bodies), not "тел." (a phone)
    r"|(?:skolk\w*|perevoz\w*|perevez\w*|dostav\w*|otprav\w*|vivez\w*|vivoz\w*) tel|tel (?:vernul|privez|dostav|migrant|grajdan|na rodin)\w*"
    r"|kaza bol\w*|kaza tap\w*|kaitish bol\w*|olup|olgon\w*|oldu|olum\w*|janaza\w*|murzo\w*|markum\w*"  # ky
    r"|sok|soktu|sokto\w*|soko|sokko|soktun|soktor\w*|sogun\w*|sogu"  # ky: сөөк (a body), as a skeleton writes it
    r"|died|dead|death\w*|dies|die|deceas\w*|pas+ed avai|bod[yi]\w*|remains|corps\w*|cofin\w*|funeral\w*)\b"  # en
)


def speaks_of_death(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of someone's death."""
    return DEATH.search(skeleton_text) is not None


# Words that ask how many people ("сколько кыргызстанцев", "канча
# кыргыз", "how many migrants"): only an entry whose phrasings ask that
# gives a count of people (the bans', the register's, the bodies brought
# home).  "Сахароводо канча кыргыз аскердик контрактка кол койду" had the
# leaflets' entry, which gives no count, at 100 %.  ("How many migrant
# laws" counts laws: the English plural alone, "migrants", is people.)
HEADCOUNT = re.compile(
    r"\b(?:skolk\w* (?:kirgiz\w*|chelov\w*|migrant\w*|ludei|grajdan\w*|rabochi\w*)"  # ru
    r"|kancha (?:kirgiz\w*|kishi\w*|adam\w*|migrant\w*|jaran\w*|mekendesh\w*)"  # ky
    r"|hov mani (?:kirgiz\w*|kyrgyz\w*|people|migranc|citizen\w*|vorker\w*|person\w*))\b"  # en
)


def asks_headcount(skeleton_text: str) -> bool:
    """Whether a skeleton text asks how many people."""
    return HEADCOUNT.search(skeleton_text) is not None


# Words that ask how something is done online, through a queue or an
# appointment, or on which form ("онлайн толтурса болобу", "электронная
# очередь", "арыздын бланкы барбы", "үлгүсүн кайдан алам"): only the entries
# whose phrasings speak of one (the online ban and register checks, the
# consulate's queues, Sakharovo's) say anything of it.  "Миграциялык
# картаны онлайн алдын ала толтурса болобу" had the migration card's entry.
CHANNEL = re.compile(
    r"\b(?:onlain\w*|online|elektron\w*|zapisat\w*|zapisa\w*|blank\w*|obrazec\w*|ulgu\w*|template\w*"
    r"|kezek\w*|ochered\w*|kueue\w*)\b"
)


def asks_channel(skeleton_text: str) -> bool:
    """Whether a skeleton text asks about an online service, a queue or a form."""
    return CHANNEL.search(skeleton_text) is not None


# Words of a business of one's own: a sole proprietorship ("ИП"), self-
# employment, an entrepreneur ("ишкер"): its rules are not an employee's.
# "Нужен ли патент чтобы работать в такси на себя", after "как открыть ип",
# asks about a sole proprietor's tax patent, not the labour patent a Kyrgyz
# worker does not need; only the entries whose phrasings speak of a business
# (the register's restrictions, the out-of-scope subject) answer it.
BUSINESS = re.compile(r"\b(?:ip|samozan\w*|biznes\w*|busines\w*|predprinim\w*|ishker\w*|entrepreneur\w*|proprietor\w*|self emplo\w*)\b")


# Words that ask about being hired, or hiring ("филиалына жумушка алабы",
# "ishke alyshat", "vakansiya barby", "куда резюме отправить", "will they
# hire local people", "могу ли я взять на работу", "нанять"): no entry says
# who is hired where; the Osh branch's entry, which says the branch will
# open, had answered whether it takes on locals, and the register's
# restrictions whether an employer may take on someone in the register.
HIRING = re.compile(
    r"\b(?:vakans\w*|rezume\w*|resume|hire\w*|hiring|recruit\w*|(?:ishke|jumushka|jumushke)\s+al[aiy]\w*"
    r"|(?:berut|vozmut|prinimaut|beret|vozmet)\s+(?:li\s+)?na\s+rabotu|vz[ia]?at\w*\s+(?:\w+\s+)?na\s+rabotu|nanat\w*|nanima(?:t|ut|et))\b"
)


def asks_hiring(skeleton_text: str) -> bool:
    """Whether a skeleton text asks about being hired."""
    return HIRING.search(skeleton_text) is not None


# Words of a Russian residence permit, temporary or not ("ВНЖ", "РВП",
# "вид на жительство", "residence permit"): its rules are not a migrant
# worker's, and no entry gives them.  "Консулдуктан Россиянын ВНЖсын алса
# болобу" had the consulate's services for its answer, which are the Kyrgyz
# state's; only the out-of-scope subjects that speak of one answer it.
RESIDENCE = re.compile(r"\b(?:vnj\w*|rvp\w*|vid\w* na jitelstv\w*|residen\w* permit\w*|vremen\w* projivan\w*|temporary residen\w*)\b")


def speaks_of_residence(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of a Russian residence permit."""
    return RESIDENCE.search(skeleton_text) is not None


# Words of Russian or dual citizenship ("гражданство РФ", "российское
# гражданство", "Россиянын жарандыгы", "эки жарандык", "russian
# citizenship"), not of a Kyrgyz citizen's own ("я гражданин КР, нужен ли
# патент" is the patent's question): its rules are Russia's and no entry
# gives them.  "В Сахарово дали буклет про военный контракт, если подпишу
# гражданство РФ быстрее дадут?" had the leaflets' entry, which says nothing
# of citizenship; only the entries whose phrasings speak of it (Meken-Kart,
# for those who took Russian citizenship, and the out-of-scope subjects) answer.
CITIZENSHIP = re.compile(
    r"\b(?:(?:ros\w*|rus\w*|orus\w*|rf\w*) (?:grajdanstv\w*|jarandi\w*|citizenship)|(?:grajdanstv\w*|citizenship)(?: of)? (?:rf|ros\w*|rus\w*)"
    r"|(?:dvoin\w*|dual|double|kosh|eki) (?:grajdanstv\w*|jarandi\w*|citizenship))\b"
)


def speaks_of_citizenship(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of Russian or dual citizenship."""
    return CITIZENSHIP.search(skeleton_text) is not None


# Words of studying (a student, a university or college, "окуйм", "учусь"):
# a student's stay, registration and Amina are not a worker's, and the
# entries give a worker's ("Казандагы университетте окуйм, окуу келишимим
# 4 жылга түзүлгөн, ошол келишим бүткөнчө жүрсөм болобу" had the stay on a
# labour contract); only the entries whose phrasings speak of study answer.
STUDY = re.compile(r"\b(?:student\w*|univer\w*|institut\w*|koled\w*|kolej\w*|ucheb\w*|uchus|uchitsa|okuim|okuit|okuu\w*|study\w*|studi\w*)\b")


def speaks_of_study(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of studying."""
    return STUDY.search(skeleton_text) is not None


# Words of debts, loans and what comes of them: a bailiff ("пристав",
# "ФССП"), a collector, alimony, a mortgage ("долг", "кредит", "займ",
# "карыз", "насыя", "debt", "loan").  No entry speaks of them: "на каком
# сайте проверить запрет на выезд из рф из за долгов по кредиту" had the
# check of an ENTRY ban (выезд is a typo's distance from въезд); only the
# out-of-scope subjects about debts and an exit ban answer.  Not "долго"
# (long), nor "займет" (it will take): only the forms of the nouns.
DEBT = re.compile(
    r"\b(?:dolg(?:a|u|om|i|ov|am|ami|ah)?|zadolj\w*|kredit\w*|zaim(?:a|om|i|ov|ami|ah)?|zaem\w*|mikrozaim\w*|aliment\w*|alimoni\w*|pristav\w*|fsp"
    r"|kolektor\w*|colektor\w*|colector\w*|ipotek\w*|mortgage\w*|kariz\w*|karz\w*|nasa(?:m\w*|n\w*|s\w*|g\w*|d\w*|l\w*)?|debt\w*|debc|loan\w*|bailif\w*)\b"
)


def speaks_of_debt(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of debts or loans."""
    return DEBT.search(skeleton_text) is not None


def speaks_of_business(skeleton_text: str) -> bool:
    """Whether a skeleton text speaks of a business of one's own."""
    return BUSINESS.search(skeleton_text) is not None


# Russia's big towns other than Moscow and its region, by the start of
# their skeletons (not Omsk: "ОМСке", to the health insurance, is "omske"
# too; not Kaluga: Sakharovo is on the Kaluga road), and words that ask
# where something is or is done ("кайда", "где", "куда", "where", "which
# office").  Where to do the fingerprinting "in Yekaterinburg" is not the
# Moscow centre the entry names: only the entries whose phrasings name
# another town (the consulates', Amina's elsewhere, help after a death)
# answer where in one.  "Екатеринбургда дактилоскопия менен медкомиссияны
# кайдан отсо болот" had the entry that says it is done at Sakharovo.
RUSSIAN_TOWNS = (
    "ekaterinb", "ekb", "novosib", "kazan", "samar", "krasnoar", "krasnodar", "irkuck", "tumen", "surgut", "urengo",
    "chelabinsk", "nijn", "novgorod", "rostov", "sochi", "vladivost", "akuck", "voronej", "tomsk", "barnaul",
    "kaliningrad", "chelni", "chelnah", "tolati", "aroslavl", "habarovsk", "saratov", "volgograd", "piter", "peterb", "spb", "sankt",
)
_RUSSIAN_TOWN = re.compile(f"{_WORD_START}(?:{_alternatives(RUSSIAN_TOWNS)}|(?:perm|permi|perm[ei]|ufa|ufe|ufu){_WORD_END})")
WHERE = re.compile(r"\b(?:kaida|kaidan|kaisi jerde|kaisi mekeme\w*|gde|kuda|vhere|(?:v )?kak\w* (?:ofis|organizac|uchrejden)\w*|vhich ofice)\b")


def names_russian_town(skeleton_text: str) -> bool:
    """Whether a skeleton text names a big Russian town other than Moscow."""
    return _RUSSIAN_TOWN.search(skeleton_text) is not None


def asks_where_elsewhere(text: str, skeleton_text: str) -> bool:
    """Whether a message asks where, in a Russian town other than Moscow:
    both in one sentence ("где найти юриста? И есть ли консульство в
    Екатеринбурге" asks where a lawyer is, and whether there is a consulate)."""
    if WHERE.search(skeleton_text) is None or not names_russian_town(skeleton_text):
        return False
    return any(WHERE.search(words) is not None and names_russian_town(words) for words in map(skeleton, sentences(text)))


class Asked(NamedTuple):
    """What a message names that only some entries speak of."""

    countries: frozenset[str]  # foreign countries (none if it names Russia too)
    peoples: frozenset[str]  # the countries whose citizens it names
    apps: frozenset[str]
    price: bool = False  # it asks what something costs or pays
    years: frozenset[str] = frozenset()
    towns: frozenset[str] = frozenset()  # towns of Kyrgyzstan
    duration: bool = False  # it asks how long, or by when
    address: bool = False  # it asks for an address
    opening: bool = False  # it asks when something is open
    death: bool = False  # it speaks of a death
    headcount: bool = False  # it asks how many people
    channel: bool = False  # it asks about an online service, a queue or a form
    business: bool = False  # it speaks of a business of one's own
    hiring: bool = False  # it asks about being hired
    residence: bool = False  # it speaks of a residence permit
    study: bool = False  # it speaks of studying
    elsewhere: bool = False  # it asks where, in a Russian town other than Moscow
    # It speaks of a death, which lets the entries about a body answer: as
    # `death`, but kept for a question of it that stands alone (`Engine._parts`:
    # "брат умер… какие документы нужны?").
    of_death: bool = False
    fine: bool = False  # it asks what a fine amounts to
    debt: bool = False  # it speaks of debts or loans
    citizenship: bool = False  # it speaks of Russian or dual citizenship

    def answered_by(self, entry: Spoken) -> bool:
        """Whether an entry may answer the message: it names every country
        and people the message names, and, if it is about an app, every app
        the message names, one of them its own.  An entry about no app is not held to the apps
        ("I paid my fines through Gosuslugi, will I leave the register?" is
        about the register); one about Amina does not answer how to install
        Sberbank's."""
        return (
            self.countries | self.peoples <= entry.places
            and (not entry.about_apps or (self.apps <= entry.apps and (not self.apps or bool(self.apps & entry.about_apps))))
            and (not self.price or entry.price)
            and (not self.years or entry.years is None or self.years <= entry.years)
            and (not self.towns or not entry.towns or bool(self.towns & entry.towns))
            and (not self.duration or entry.duration)
            and (not self.address or entry.address)
            and (not self.opening or entry.opening)
            and (not self.death or entry.death)
            and (self.of_death or not entry.of_death)
            and (not self.fine or entry.fine)
            and (not self.headcount or entry.headcount)
            and (not self.channel or entry.channel)
            and (not self.business or entry.business)
            and (not self.hiring or entry.hiring)
            and (not self.residence or entry.residence)
            and (not self.study or entry.study)
            and (not self.elsewhere or entry.elsewhere)
            and (not self.debt or entry.debt)
            and (not self.citizenship or entry.citizenship)
        )

    def named_only(self) -> Asked:
        """What the message names (countries, peoples, apps, years, towns, a
        business, studying), without what it asks (a price, a length of
        time, an address, hours, a count of people, an online service or a
        form, being hired, a residence permit): the context a question
        sentence of it is read in (`Engine.reply`).  A residence permit
        asked about beside another question does not hold that one back
        ("как оформить рвп и нужен ли мне патент")."""
        return self._replace(
            price=False, duration=False, address=False, opening=False, headcount=False, channel=False, hiring=False, residence=False, elsewhere=False,
            fine=False,
        )

    def lets_answer(self, entry: Spoken) -> bool:
        """Whether the engine may give the entry as the answer outright: it
        answers the message, and the message names no foreign country (an
        entry about Russia that names one in passing is only offered)."""
        return not self.countries and self.answered_by(entry)


class Spoken(NamedTuple):
    """What an entry's own texts name."""

    places: frozenset[str]  # countries and peoples
    apps: frozenset[str]
    # The apps its title names (Amina's entries; not one that names a bank in
    # passing): a message naming apps must name one of these too, as an app
    # its phrasings name only as where a link came from ("ссылку в ватсап
    # скинули") is not what it is about ("how to install whatsapp").
    about_apps: frozenset[str]
    price: bool  # its phrasings ask what something costs ("сколько стоит патент")
    # The years its texts and answers name, if its phrasings ask about a
    # year ("сколько тел вернули в 2025"); None: it is held to no year.
    years: frozenset[str] | None = None
    towns: frozenset[str] = frozenset()  # the towns its title and keywords name (the Osh branch's)
    duration: bool = False  # its phrasings ask how long, or by when ("канча күн жүрсө болот")
    address: bool = False  # its phrasings ask for an address ("какой адрес указывать в амине")
    opening: bool = False  # its phrasings ask when something is open
    death: bool = False  # its phrasings or titles speak of a death
    headcount: bool = False  # its phrasings ask how many people
    channel: bool = False  # its phrasings speak of an online service, a queue or a form
    business: bool = False  # its phrasings speak of a business of one's own
    hiring: bool = False  # its phrasings ask about being hired
    residence: bool = False  # its phrasings speak of a residence permit
    study: bool = False  # its phrasings speak of studying
    elsewhere: bool = False  # its phrasings name a big Russian town other than Moscow
    # Its titles speak of a death (the body brought home): it answers only
    # a message that does too ("will the state pay to bring my sick father home").
    of_death: bool = False
    fine: bool = False  # its phrasings ask what a fine amounts to
    debt: bool = False  # its phrasings speak of debts or loans
    citizenship: bool = False  # its phrasings speak of Russian or dual citizenship


# A quotation in a message ("…«84 тысяч граждан Кыргызстана имеют запрет
# на въезд в РФ» деп жазыптыр. а Казакстанга канча?"): Russia named in the
# text quoted is not the country the user asks about.
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|„[^“”]*[“”]|\"[^\"]*\"")


# A country named as not the one meant ("я ж из кыргызстана а не из
# узбекистана", "Өзбекстандан эмес"): the message is not about it.  (Russia
# so named still makes the message one about Russia: "брат умер в
# казахстане на заработках, не в россии. государство кр оплатит доставку
# тела?" asks the Kyrgyz state's help, which the entry gives anywhere.)
_NEGATED = re.compile(r"\b(?:ne|not)\s+(?:(?:iz|v|vo|s|so|from|in|to|of)\s+)?\w+|\b\w+\s+emes\b")


# A message's subjects are asked for at several steps of its reply (the
# whole message, its question sentence, the answer's check), some thirty
# patterns each time: ~50 µs a message saved.  The engine gives the text
# cut to 600 characters with personal data masked, as its match cache keeps
# it: at most a few MB.
@lru_cache(maxsize=4096)
def asked_about(text: str) -> Asked:
    """What a message is about that only some entries speak of: the
    foreign countries it names, unless it names Russia too; those whose
    citizens it names; the apps, years and towns it names; whether it asks
    a price, a length of time, an address, opening hours, a count of
    people, an online service or a form, about being hired, where in
    another Russian town, or a fine's amount; whether it speaks of a death,
    a business of one's own, a residence permit, studying, debts or
    Russian or dual citizenship."""
    words = skeleton(text)
    named = countries_named(_NEGATED.sub(" ", words))
    if named and names_russia(skeleton(_QUOTED.sub(" ", text))):
        named = frozenset()
    death = speaks_of_death(words)
    return Asked(
        named, people_named(words), apps_named(words), asks_price(words), years_named(text), towns_named(words),
        asks_duration(words), asks_address(words), asks_opening(words), death, asks_headcount(words),
        asks_channel(words), speaks_of_business(words), asks_hiring(words), speaks_of_residence(words), speaks_of_study(words),
        asks_where_elsewhere(text, words), death, asks_fine(words), speaks_of_debt(words), speaks_of_citizenship(words),
    )


def spoken_of(texts: Sequence[str], titles: Sequence[str], answers: Sequence[str] = (), keywords: Sequence[str] = ()) -> Spoken:
    """What an entry's own texts (phrasings, keywords) and titles name, in
    the terms of `asked_about`: questions about those it may answer.  Its
    answers count only for the years of an entry whose phrasings ask about
    one: figures "as of 2025" answer a question about 2025, not 2023."""
    skeletons = [skeleton(text) for text in (*texts, *titles)]
    # Each pattern run once over the texts joined, rather than once a text
    # (some sixty an entry; 0.1 s of every start-up): " | " is no word, so no
    # name or phrase runs on from one text into the next.  (A citizen's
    # country is looked for beside the word, so text by text.)
    joined = " | ".join(skeletons)
    return Spoken(
        frozenset().union(countries_named(joined), _PEOPLE_STARTS(joined), *map(_citizenships, skeletons)),
        apps_named(joined),
        apps_named(" | ".join(map(skeleton, titles))),
        asks_price(joined),
        years_named(" | ".join((*texts, *titles, *answers))) if YEAR.search(" | ".join(texts)) else None,
        towns_named(" | ".join(skeleton(text) for text in (*titles, *keywords))),
        asks_duration(joined),
        asks_address(joined),
        asks_opening(joined),
        speaks_of_death(joined),
        asks_headcount(joined),
        asks_channel(joined),
        speaks_of_business(joined),
        asks_hiring(joined),
        speaks_of_residence(joined),
        speaks_of_study(joined),
        names_russian_town(joined),
        speaks_of_death(" | ".join(map(skeleton, titles))),
        asks_fine(joined),
        speaks_of_debt(joined),
        speaks_of_citizenship(joined),
    )


def entry_subjects(faq: FAQ) -> dict[str, Spoken]:
    """`spoken_of` every entry and out-of-scope subject of a FAQ: what the
    engine holds a message's best entry to, built once per FAQ (the engine,
    and the tuner, which must judge its thresholds by the same rules)."""
    return {
        entry.id: spoken_of(
            [q for lang in LANGS for q in entry.questions.get(lang, ())] + list(entry.keywords),
            list(entry.title.values()),
            list(entry.answer.values()),
            list(entry.keywords),
        )
        for entry in faq.matchable()
    }
