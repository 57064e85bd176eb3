"""Every interface string is translated in every catalogue, and the compiled
catalogues match their sources."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.engine import Engine
from bot.faq import LANGS

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


# The same keywords as the extract command in the README.
KEYWORDS = {"_": (2,), "tr": (3,), "N_": None, "gettext": (2,)}


def extracted_ids() -> set[str]:
    """Message ids in the code, as `pybabel extract` finds them."""
    found = extract_from_dir(str(ROOT), method_map=[("bot/**.py", "python")], keywords=KEYWORDS)
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_translates_every_string(lang: str) -> None:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    ids = extracted_ids()
    assert len(ids) >= 25
    missing = ids - translated
    assert not missing, f"{lang}: untranslated: {sorted(missing)}"


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_is_up_to_date(lang: str) -> None:
    folder = LOCALES / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    mo = {m.id: m.string for m in read_mo(io.BytesIO((folder / "messages.mo").read_bytes())) if m.id}
    assert po == mo, f"run: pybabel compile -d locales -D messages -l {lang}"


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_translations_keep_placeholders(lang: str) -> None:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        for m in read_po(f):
            if m.id:
                for placeholder in ("{ref}", "{sources}", "{date}"):
                    assert (placeholder in m.id) == (placeholder in m.string), (lang, m.id)


@pytest.mark.parametrize("lang", LANGS)
def test_an_answers_footer_ends_in_one_full_stop(engine: Engine, lang: str) -> None:
    """Babel's long Russian date ends in "г.", and the footer's sentence in
    a full stop: users once read "Проверено: 23 ноября 2026 г..".  Checked on
    every entry, whose review dates differ."""
    for entry in engine.faq.entries.values():
        footer = engine.render_answer(entry, lang).rsplit("\n", 1)[-1]
        assert footer.endswith(".") and not footer.endswith(".."), (entry.id, footer)
