"""`jardam faq check`: every class of mistake an editor can make is reported
as file:line: reason, all at once, with exit status 1."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import Settings, default_seeds_dir
from bot.faq import FAQError, load_faq

SMALL = Path(__file__).parent / "fixtures" / "faq_small"
UNREAD = "; the file could not be read, so its entries were not checked"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(SMALL, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str, occurrence: int = 1, *, exact: bool = False) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if (line == needle if exact else needle in line)]
    return hits[occurrence - 1]


def problems(faq_dir: Path, seeds: Path | None = None) -> list[str]:
    with pytest.raises(FAQError) as info:
        load_faq(faq_dir, seeds or default_seeds_dir(), shown_root=faq_dir.parent)
    return [str(p) for p in info.value.problems]


def test_small_fixture_and_shipped_faq_are_valid(faq_dir: Path) -> None:
    assert len(load_faq(faq_dir, default_seeds_dir()).entries) == 2
    shipped = load_faq(ROOT / "faq", default_seeds_dir())
    assert len(shipped.entries) >= 30
    for entry in shipped.entries.values():
        for lang in ("ky", "ru", "en"):
            assert len(entry.questions[lang]) >= 5
            assert len(entry.answer[lang]) < 1200


def test_yaml_syntax_error_has_line(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "      ru: Нет, не нужен.", "      ru: [Нет, не нужен.")
    (found,) = problems(faq_dir)
    assert re.match(r"faq/work\.yaml:\d+: YAML syntax error", found)
    line = int(found.split(":")[1])
    assert abs(line - line_of(work, "[Нет, не нужен.")) <= 2


# (what the editor changed, the reason they are told): each is reported at
# the line they changed.  PyYAML had said one line below ("while scanning a
# simple key could not find expected ':'"), a screen below ("mapping values
# are not allowed here" where the next key is), or at the end of the file
# ("found unexpected end of stream").
SYNTAX_MISTAKES = {
    "missing colon": ("    reviewed: 2026-11-23", "    reviewed 2026-11-23", "missing ':' after 'reviewed'?"),
    "missing colon before a list": ("      ky:\n        - патент керекпи", "      ky\n        - патент керекпи", "missing ':' after 'ky'?"),
    "missing colon before text": ("      ky: Патент керекпи?", "      ky Патент керекпи?", "missing ':' after 'ky'?"),
    "unclosed quote": ("        - patent kerekpi", '        - "patent kerekpi', "a quote opened here is never closed"),
    "tab": ("        - patent kerekpi", "\t- patent kerekpi", "tab characters are not allowed for indentation: use spaces"),
    "key indented more": ("    reviewed: 2026-11-23", "     reviewed: 2026-11-23", "this line is indented differently from the lines around it"),
    "key indented less": ("    reviewed: 2026-11-23", "   reviewed: 2026-11-23", "this line is indented differently from the lines around it"),
    "phrasing indented less": ("        - patent kerekpi", "       - patent kerekpi", "this line is indented differently from the lines around it"),
    "colon in text": ("      ru: Нет, не нужен.", "      ru: Нет: не нужен.", "a ': ' (colon and space) inside a text makes YAML read a key"),
    "unclosed bracket": ("    sources: [eaeu-treaty-art97]", "    sources: [eaeu-treaty-art97", "a '[' opened here is not closed with ']'"),
    "text after a quote": ("        - patent kerekpi", '        - "patent" kerekpi', "there is text after the closing quote: put the whole text in quotes"),
    "dash without a space": ("        - patent kerekpi", "        -patent kerekpi", "a '-' must be followed by a space"),
    "starts with @": ("        - patent kerekpi", "        - @patent kerekpi", "a text cannot start with '@': put the whole text in quotes"),
    "backslash in quotes": ("      en: No, you do not.", '      en: "No, C:\\q"', "inside double quotes a backslash starts an escape"),
}


@pytest.mark.parametrize("old, new, reason", SYNTAX_MISTAKES.values(), ids=SYNTAX_MISTAKES.keys())
def test_a_syntax_error_is_reported_at_the_line_the_editor_broke_in_plain_words(
    faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, reason: str
) -> None:
    work = faq_dir / "work.yaml"
    edit(work, old, new)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["faq", "check", "--dir", str(faq_dir)])
    assert result.exit_code == 1
    (found,) = result.stdout.splitlines()
    assert found.startswith(f"faq/work.yaml:{line_of(work, new.split(chr(10))[0], exact=True)}: YAML syntax error: {reason}"), found
    assert "<block" not in found.split(" (YAML: ")[0] and found.endswith(UNREAD)


def test_a_missing_colon_is_found_in_the_shipped_faq_too(tmp_path: Path) -> None:
    """The reviewer's cases, on a copy of the real amina.yaml: PyYAML said
    24 lines below for `ky`, and at the end of the file for a quote."""
    faq = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", faq)
    amina = faq / "amina.yaml"
    original = amina.read_text(encoding="utf-8")
    for old, new, reason in [
        ("    reviewed: 2026-11-24", "    reviewed 2026-11-24", "missing ':' after 'reviewed'?"),
        ("      ky:\n        - Амина деген эмне?", "      ky\n        - Амина деген эмне?", "missing ':' after 'ky'?"),
        ("        - amina degen emne", '        - "amina degen emne', "a quote opened here is never closed"),
    ]:
        amina.write_text(original.replace(old, new, 1), encoding="utf-8")
        (found,) = problems(faq)
        assert found.startswith(f"faq/amina.yaml:{line_of(amina, new.split(chr(10))[0], exact=True)}: YAML syntax error: {reason}"), found
    amina.write_text(original, encoding="utf-8")
    # A quote left open where another comes further on: YAML read on to
    # it, and stopped later still (it had said line 125, or 555).
    work = faq / "work.yaml"
    kept = work.read_text(encoding="utf-8")
    for quote in "\"'":
        work.write_text(kept.replace("        - patent kerekpi\n", f"        - {quote}patent kerekpi\n", 1), encoding="utf-8")
        (found,) = problems(faq)
        where = line_of(work, quote + "patent kerekpi")
        assert found.startswith(f"faq/work.yaml:{where}: YAML syntax error: a quote opened here is closed only on line "), found


def test_missing_language(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "      en: No, you do not.\n", "")
    assert problems(faq_dir) == [f"faq/work.yaml:{line_of(work, 'answer:')}: 'answer' has no 'en' text"]


def test_too_few_questions(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "        - is a patent required\n", "")
    line = line_of(work, "      en:", exact=True)
    assert problems(faq_dir) == [f"faq/work.yaml:{line}: entry patent-not-needed: 4 'en' questions; at least 5 are needed"]


def test_duplicate_id_across_files(faq_dir: Path) -> None:
    shutil.copy(faq_dir / "work.yaml", faq_dir / "zz_copy.yaml")
    edit(faq_dir / "zz_copy.yaml", "id: work", "id: copy")
    edit(faq_dir / "zz_copy.yaml", "topic: work", "topic: copy", count=2)
    found = problems(faq_dir)
    line = line_of(faq_dir / "zz_copy.yaml", "- id: patent-not-needed")
    assert f"faq/zz_copy.yaml:{line}: duplicate entry id 'patent-not-needed' (first at faq/work.yaml:{line})" in found


def test_unknown_related_id(faq_dir: Path) -> None:
    """At the line of the id, not of the entry (a screen or two above)."""
    work = faq_dir / "work.yaml"
    edit(work, "related: [crocus-laws]", "related: [crocus-law]")
    line = line_of(work, "related: [crocus-law]")
    assert problems(faq_dir) == [f"faq/work.yaml:{line}: entry patent-not-needed: related id 'crocus-law' does not exist"]
    edit(work, "    related: [crocus-law]", "    related:\n      - crocus-laws\n      - patent-not-needed")
    line = line_of(work, "      - patent-not-needed")
    assert problems(faq_dir) == [f"faq/work.yaml:{line}: entry patent-not-needed: an entry cannot be related to itself"]


def test_same_phrasing_claimed_twice(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "        - какие законы приняли", "        - НУЖЕН ЛИ ПАТЕНТ?!")
    line = line_of(work, "НУЖЕН ЛИ ПАТЕНТ?!")
    first = line_of(work, "- нужен ли патент", exact=False)
    assert problems(faq_dir) == [
        f"faq/work.yaml:{first}: entry patent-not-needed: question 'нужен ли патент' is also claimed by entry crocus-laws "
        f"('НУЖЕН ЛИ ПАТЕНТ?!', at faq/work.yaml:{line})",
        f"faq/work.yaml:{line}: entry crocus-laws: question 'НУЖЕН ЛИ ПАТЕНТ?!' is also claimed by entry patent-not-needed "
        f"('нужен ли патент', at faq/work.yaml:{first})",
    ]


def test_a_phrasing_copied_into_a_file_read_earlier_is_reported_where_the_copy_is(faq_dir: Path) -> None:
    """visas.yaml is read before work.yaml: the copy added to it had been
    reported only at the original, in work.yaml, as if that were the mistake."""
    visas = faq_dir / "visas.yaml"
    visas.write_text(VISAS.replace("ru: [нужна ли виза,", "ru: [нужна ли виза, нужен ли патент,"), encoding="utf-8")
    copy = line_of(visas, "нужен ли патент")
    original = line_of(faq_dir / "work.yaml", "        - нужен ли патент", exact=True)
    found = problems(faq_dir)
    assert (
        f"faq/visas.yaml:{copy}: entry visa-free: question 'нужен ли патент' is also claimed by entry patent-not-needed "
        f"('нужен ли патент', at faq/work.yaml:{original})"
    ) in found
    assert len(found) == 2 and any(p.startswith(f"faq/work.yaml:{original}: ") and p.endswith(f"at faq/visas.yaml:{copy})") for p in found)


def test_unknown_source_and_missing_seed(faq_dir: Path, tmp_path: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "sources: [eaeu-treaty-art97]", "sources: [eaeu-treaty]")
    empty_seeds = tmp_path / "seeds"
    empty_seeds.mkdir()
    found = problems(faq_dir, empty_seeds)
    line = line_of(work, "sources: [eaeu-treaty]")
    assert f"faq/work.yaml:{line}: entry patent-not-needed: unknown source 'eaeu-treaty' (add it to _sources.yaml)" in found
    sources = faq_dir / "_sources.yaml"
    assert f"faq/_sources.yaml:{line_of(sources, '001_6e02d39214dd83fa.txt')}: seed file '001_6e02d39214dd83fa.txt' does not exist in {empty_seeds}" in found


def test_schema_mistakes(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "    reviewed: 2026-11-23\n    related", "    reviewed: last week\n    related")
    edit(work, "    topic: work\n    title:\n      ky: Мыйзамдар", "    topic: law\n    title:\n      ky: Мыйзамдар")
    edit(work, "      ky: Ооба, катаалдады.", "      ky: Ооба, катаалдады.\n      kg: Ооба.")
    edit(work, "  - id: crocus-laws", "  - id: Crocus Laws")
    found = problems(faq_dir)
    assert f"faq/work.yaml:{line_of(work, 'reviewed: last week')}: entry patent-not-needed: 'reviewed' must be a date like 2026-11-23" in found
    bad_id_line = line_of(work, "- id: Crocus Laws")
    assert f"faq/work.yaml:{line_of(work, 'topic: law')}: entry <entry at line {bad_id_line}>: topic 'law' differs from the file's topic 'work'" in found
    assert f"faq/work.yaml:{line_of(work, 'kg: Ооба.')}: 'answer' has unknown language 'kg' (use ky, ru, en)" in found
    assert f"faq/work.yaml:{line_of(work, '- id: Crocus Laws')}: entry id 'Crocus Laws' must be a slug (a-z, 0-9, dashes)" in found


def test_duplicate_key_and_long_answer(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "    reviewed: 2026-11-23\n    related", "    reviewed: 2026-11-23\n    reviewed: 2026-11-24\n    related")
    edit(work, "      en: Yes, they were.", "      en: " + "Yes. " * 300)
    found = problems(faq_dir)
    assert f"faq/work.yaml:{line_of(work, 'reviewed: 2026-11-24')}: duplicate key 'reviewed'" in found
    assert f"faq/work.yaml:{line_of(work, 'en: Yes. Yes.')}: 'answer.en' is 1499 characters; the limit is 1200" in found


def test_cli_reports_and_exits_1(faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(cli, ["faq", "check", "--dir", str(faq_dir)])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("OK: 2 entries in 1 topics, 30 phrasings")
    edit(faq_dir / "work.yaml", "related: [crocus-laws]", "related: [nope]")
    edit(faq_dir / "work.yaml", "      en: Yes, they were.\n", "")
    bad = runner.invoke(cli, ["faq", "check", "--dir", str(faq_dir)])
    assert bad.exit_code == 1
    lines = [line for line in bad.output.splitlines() if line.startswith("faq/")]
    assert len(lines) == 2
    assert all(re.match(r"faq/work\.yaml:\d+: ", line) for line in lines)


OUT_OF_SCOPE = """\
out_of_scope:
  - id: money-transfers
    about: Sending money home.
    questions:
      ky: [акча жиберүү, акча которуу, которуунун комиссиясы, акчаны кантип жиберем, арзан которуу]
      ru: [перевод денег, отправить деньги домой, комиссия за перевод, как перевести деньги, дешевый перевод]
      en: [send money home, money transfer, transfer fee, how to send money, cheap transfer]
"""


def test_out_of_scope_subjects_load_and_are_matched_but_never_answered(faq_dir: Path) -> None:
    from bot.engine import Engine
    from bot.i18n import Catalogs

    (faq_dir / "_out_of_scope.yaml").write_text(OUT_OF_SCOPE, encoding="utf-8")
    faq = load_faq(faq_dir, default_seeds_dir())
    assert list(faq.out_of_scope) == ["money-transfers"] and "money-transfers" not in faq.entries
    engine = Engine(faq, Catalogs(ROOT / "locales"))
    (best, *_) = engine.matcher.match("how to send money home cheaply")
    assert best.entry_id == "money-transfers" and best.out_of_scope
    reply = engine.reply("how to send money home cheaply")
    assert reply.outcome == "handoff" and reply.entry_id is None and not reply.choices


def test_out_of_scope_mistakes_have_file_and_line(faq_dir: Path) -> None:
    path = faq_dir / "_out_of_scope.yaml"
    text = OUT_OF_SCOPE.replace("    about: Sending money home.\n", "    colour: red\n")
    text = text.replace("en: [send money home,", "en: [do i need a patent,")
    text += "  - id: Money Transfers\n    about: again\n    questions: {ky: [a], ru: [b], en: [c]}\n"
    path.write_text(text, encoding="utf-8")
    found = problems(faq_dir)
    shown = "faq/_out_of_scope.yaml"
    assert f"{shown}:{line_of(path, 'colour')}: unknown field 'colour'" in found
    assert any(p.startswith(f"{shown}:{line_of(path, 'id: Money')}: subject id 'Money Transfers' must be a slug") for p in found)
    assert any(p.startswith(f"{shown}:") and "'about' must say what it covers" in p for p in found)
    assert any(p.startswith(f"{shown}:{line_of(path, 'en: [do i need')}:") and "also claimed by entry" in p for p in found), found


def test_values_yaml_reads_but_cannot_hold_are_reported_with_their_line(faq_dir: Path) -> None:
    """A date that does not exist, a list used as a key, a list where a word
    is expected: each is file:line: reason, never a traceback."""
    work = faq_dir / "work.yaml"
    edit(work, "    reviewed: 2026-11-23", "    reviewed: 2026-02-30")
    edit(faq_dir / "_sources.yaml", "    kind: law", "    kind: [law]")
    found = problems(faq_dir)
    date_line = line_of(work, "reviewed: 2026-02-30")
    assert f"faq/work.yaml:{date_line}: YAML syntax error: '2026-02-30' is not a real date (day is out of range for month){UNREAD}" in found
    assert any(p.startswith(f"faq/_sources.yaml:{line_of(faq_dir / '_sources.yaml', 'kind: [law]') - 1}:") and "'kind' must be" in p for p in found), found

    edit(work, "    reviewed: 2026-02-30", "    reviewed: 2026-11-23")
    edit(faq_dir / "_sources.yaml", "    kind: [law]", "    kind: law")
    with work.open("a", encoding="utf-8") as tail:
        tail.write("? [a, b]\n: c\n")
    (found,) = problems(faq_dir)
    assert found.startswith(f"faq/work.yaml:{line_of(work, '? [a, b]')}: YAML syntax error:") and "a key must be plain text" in found


def test_empty_entries_and_an_empty_topic_file_are_reported_where_they_are(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "  - id: crocus-laws", "  -\n  - just text\n  - id: crocus-laws")
    (faq_dir / "visas.yaml").write_text("# to be written\n", encoding="utf-8")
    found = problems(faq_dir)
    assert f"faq/work.yaml:{line_of(work, '  -', exact=True)}: each entry must be a mapping" in found
    assert f"faq/work.yaml:{line_of(work, '  - just text')}: each entry must be a mapping" in found
    assert "faq/visas.yaml:1: the file is empty: a topic file needs 'topic' and 'entries'" in found


def test_an_entry_cannot_point_to_an_out_of_scope_subject(faq_dir: Path) -> None:
    (faq_dir / "_out_of_scope.yaml").write_text(OUT_OF_SCOPE, encoding="utf-8")
    work = faq_dir / "work.yaml"
    edit(work, "    related: [crocus-laws]", "    related: [crocus-laws, money-transfers]")
    (found,) = problems(faq_dir)
    assert found.startswith("faq/work.yaml:") and "related id 'money-transfers' is an out-of-scope subject" in found


def test_an_id_too_long_for_a_button_is_reported(faq_dir: Path) -> None:
    work = faq_dir / "work.yaml"
    long_id = "crocus-laws-" + "and-what-they-changed-for-migrants-" * 2  # 82 characters: "f:ID:down" would pass 64 bytes
    edit(work, "  - id: crocus-laws", f"  - id: {long_id.rstrip('-')}")
    edit(work, "    related: [crocus-laws]", "    related: []")
    (found,) = problems(faq_dir)
    assert found.startswith(f"faq/work.yaml:{line_of(work, '  - id: crocus-laws-and')}: entry id") and "longer than 50 characters" in found


def test_a_control_character_is_a_faq_error_with_its_file_and_line(faq_dir: Path) -> None:
    """Word's Shift+Enter (U+000B) in a phrasing: PyYAML's reader refuses it
    as it is made, which had escaped as a ReaderError with no file or line
    (a traceback for `faq check`, and a reload that said nothing to operators)."""
    work = faq_dir / "work.yaml"
    edit(work, "      en: No, you do not.", "      en: No, you do\x0bnot.")
    line = work.read_text(encoding="utf-8").split("\n").index("      en: No, you do\x0bnot.") + 1
    with pytest.raises(FAQError) as info:
        load_faq(faq_dir, default_seeds_dir(), shown_root=faq_dir.parent)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("faq/work.yaml", line)
    assert problem.reason == (
        "control character U+000B is not allowed (Word's Shift+Enter line break, invisible in most editors): delete it, after 'en: No, you do'" + UNREAD
    )


def test_control_characters_are_reported_once_a_line_by_the_cli(faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = faq_dir / "work.yaml"
    edit(work, "        - patent kerekpi", "        - \x01patent\x01 kerekpi\x7f")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["faq", "check", "--dir", str(faq_dir)])
    assert result.exit_code == 1
    line = work.read_text(encoding="utf-8").split("\n").index("        - \x01patent\x01 kerekpi\x7f") + 1
    assert result.stdout.splitlines() == [
        f"faq/work.yaml:{line}: control character U+0001 is not allowed (a control code, invisible in most editors): "
        f"delete it (and the 2 more on this line), after '- '{UNREAD}"
    ]


def test_yaml_nested_too_deeply_is_a_problem_not_a_traceback(faq_dir: Path) -> None:
    (faq_dir / "deep.yaml").write_text("topic: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert problems(faq_dir) == ["faq/deep.yaml:1: YAML error: lists or mappings nested too deeply" + UNREAD]


def test_check_defaults_to_the_faq_of_the_current_directory(faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a second checkout, with the first one's Jardam installed, `faq
    check` had checked the installed FAQ and said OK about a broken ./faq."""
    monkeypatch.delenv("JARDAM_FAQ_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # faq_dir is tmp_path / "faq"
    edit(faq_dir / "work.yaml", "    topic: work\n", "\ttopic: work\n")
    result = CliRunner().invoke(cli, ["faq", "check"])
    assert result.exit_code == 1
    line = line_of(faq_dir / "work.yaml", "\ttopic: work")
    assert result.stdout == (
        f"faq/work.yaml:{line}: YAML syntax error: tab characters are not allowed for indentation: use spaces{UNREAD}\n"
    )
    assert result.stderr == f"1 problem(s) found in {faq_dir}.\n"


def test_check_says_which_directory_it_checked(faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JARDAM_FAQ_DIR, as the bot reads it, comes before ./faq; --dir before both."""
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(faq_dir, elsewhere)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(elsewhere))
    result = CliRunner().invoke(cli, ["faq", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"OK: 2 entries in 1 topics, 30 phrasings, languages ky, ru, en; checked {elsewhere}.\n"
    result = CliRunner().invoke(cli, ["faq", "check", "--dir", "faq"])
    assert result.stdout.endswith(f"; checked {faq_dir}.\n")
    monkeypatch.delenv("JARDAM_FAQ_DIR")
    assert Settings.from_env().faq_dir == faq_dir  # and so `review promote` edits ./faq, as `faq check` checks it
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert Settings.from_env().faq_dir == ROOT / "faq"  # no ./faq: the FAQ installed with Jardam


def test_editors_files_are_skipped_and_a_yml_file_is_reported(faq_dir: Path) -> None:
    """Emacs's lock (a dangling symlink) and macOS's AppleDouble file had
    blocked the FAQ with "cannot read file"; a topic saved as .yml had been
    left out without a word."""
    (faq_dir / ".#work.yaml").symlink_to("editor@host.4242:1700000000")
    (faq_dir / "._work.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \xa0\xff")
    assert len(load_faq(faq_dir, default_seeds_dir()).entries) == 2
    visas = (faq_dir / "work.yaml").read_text(encoding="utf-8").replace("work", "visas").replace("crocus-laws", "visa-laws")
    visas = visas.replace("patent-not-needed", "visa-not-needed")
    (faq_dir / "visas.yml").write_text(visas, encoding="utf-8")
    (faq_dir / "Old.YAML").write_text(visas, encoding="utf-8")
    assert problems(faq_dir) == [
        "faq/Old.YAML:1: not read: FAQ files must end in .yaml; rename it to Old.yaml",
        "faq/visas.yml:1: not read: FAQ files must end in .yaml; rename it to visas.yaml",
    ]


def test_a_phrasing_yaml_does_not_read_as_text_is_reported_at_its_line_with_why(faq_dir: Path) -> None:
    """It had been "every 'ky' question must be non-empty text" at the line
    of `ky:`, with no word of which phrasing or why."""
    work = faq_dir / "work.yaml"
    edit(work, "        - патент керекпи\n", "        - патент: керекпи?\n")
    edit(work, "        - patent nuzhen\n", "        - 112\n")
    edit(work, "        - is a patent required\n", "        - yes\n")
    edit(work, "        - жаңы мыйзамдар барбы\n", "        -\n")
    assert problems(faq_dir) == [
        f"faq/work.yaml:{line_of(work, '- патент: керекпи?')}: entry patent-not-needed: this 'ky' question was read as a mapping "
        "('патент: керекпи?': a colon followed by a space makes a key), not text; put it in quotes: \"патент: керекпи?\"",
        f"faq/work.yaml:{line_of(work, '- 112')}: entry patent-not-needed: this 'ru' question was read as a number, not text; put it in quotes: \"112\"",
        f"faq/work.yaml:{line_of(work, '- yes')}: entry patent-not-needed: this 'en' question was read as a yes/no value, not text "
        "(a bare yes, no, on, off, true or false is one); put it in quotes, e.g. \"yes\"",
        f"faq/work.yaml:{line_of(work, '        -', exact=True)}: entry crocus-laws: this 'ky' question is empty; write it, or delete its line",
    ]


def test_a_single_source_or_related_id_not_in_a_list_says_to_make_it_one(faq_dir: Path) -> None:
    """`sources: x` had been "'sources' must list at least one source", which
    it seemed to do."""
    work = faq_dir / "work.yaml"
    edit(work, "    sources: [eaeu-treaty-art97]", "    sources: eaeu-treaty-art97")
    edit(work, "    related: [crocus-laws]", "    related: crocus-laws")
    assert problems(faq_dir) == [
        f"faq/work.yaml:{line_of(work, 'sources: eaeu')}: entry patent-not-needed: 'sources' must be a list, e.g. [eaeu-treaty-art97]",
        f"faq/work.yaml:{line_of(work, 'related: crocus')}: entry patent-not-needed: 'related' must be a list, e.g. [crocus-laws]",
    ]


def test_a_file_not_in_utf8_is_reported_at_the_line_of_the_bad_byte(faq_dir: Path) -> None:
    """It had been line 1 and "'utf-8' codec can't decode byte 0xcd in
    position 1234", with no word of what to do."""
    work = faq_dir / "work.yaml"
    text = work.read_text(encoding="utf-8")
    at = text.index("      ru: Нет, не нужен.")
    work.write_bytes(text[:at].encode("utf-8") + text[at:].encode("cp1251", errors="replace"))  # Kyrgyz letters become ?
    line = text.count("\n", 0, at) + 1
    assert problems(faq_dir) == [f"faq/work.yaml:{line}: the file is not UTF-8 text (byte 0xCD, after 'ru: '): save the file as UTF-8{UNREAD}"]
    work.write_text(text, encoding="utf-16")
    assert problems(faq_dir) == ["faq/work.yaml:1: the file is UTF-16 (Notepad's \"Unicode\"), not UTF-8: save the file as UTF-8" + UNREAD]


VISAS = """\
topic:
  id: visas
  title: {ky: Виза, ru: Визы, en: Visas}
entries:
  - id: visa-free
    topic: visas
    title: {ky: Виза керекпи, ru: Нужна ли виза, en: Do I need a visa}
    questions:
      ky: [виза керекпи, viza kerekpi, визасыз барсам болобу, виза алыш керекпи, кыргыздарга виза керекпи]
      ru: [нужна ли виза, виза нужна, можно без визы, vizu nado, киргизам виза нужна]
      en: [do i need a visa, visa needed, can i go without a visa, is a visa required, visa for kyrgyz]
    answer: {ky: Жок., ru: Нет., en: No.}
    sources: [eaeu-treaty-art97]
    reviewed: 2026-11-23
"""


def test_a_file_that_cannot_be_read_adds_no_knock_on_errors_elsewhere(faq_dir: Path) -> None:
    """One syntax error had also been "related id … does not exist" in every
    file pointing into the broken one; ids that exist nowhere still are."""
    visas = faq_dir / "visas.yaml"
    visas.write_text(VISAS, encoding="utf-8")
    work = faq_dir / "work.yaml"
    edit(work, "    related: [crocus-laws]", "    related: [crocus-laws, visa-free, no-such-entry]")
    edit(visas, "    answer: {ky: Жок., ru: Нет., en: No.}", "    answer: {ky: Жок., ru: [Нет., en: No.}")
    assert problems(faq_dir) == [
        f"faq/visas.yaml:{line_of(visas, 'answer:')}: YAML syntax error: a '[' opened here is not closed with ']' where YAML expects it "
        "(quote an item with a comma or colon) (YAML: expected ',' or ']', but got '}')"
        "; the file could not be read, so its entries were not checked",
        f"faq/work.yaml:{line_of(work, 'related: [crocus-laws, visa-free')}: entry patent-not-needed: related id 'no-such-entry' does not exist",
    ]
    edit(visas, "ru: [Нет.", "ru: Нет.")
    edit(work, ", no-such-entry]", "]")
    assert len(load_faq(faq_dir, default_seeds_dir()).entries) == 3
    edit(faq_dir / "_sources.yaml", "  eaeu-treaty-art97:\n", "  eaeu-treaty-art97:\n\t\n")
    sources = faq_dir / "_sources.yaml"
    (found,) = problems(faq_dir)  # not "unknown source 'eaeu-treaty-art97'" for the two entries citing it
    assert found.startswith(f"faq/_sources.yaml:{line_of(sources, chr(9))}: YAML syntax error: ")
    assert found.endswith("; the file could not be read, so the sources that entries cite were not checked")


def test_a_source_that_is_not_a_mapping_is_reported_once(faq_dir: Path) -> None:
    sources = faq_dir / "_sources.yaml"
    edit(sources, "  eaeu-treaty-art97:\n    kind: law\n", "  eaeu-treaty-art97: law\n    # kind: law\n")
    edit(sources, '    label: {en: "EAEU Treaty', '    # label: {en: "EAEU Treaty')
    line = line_of(sources, "eaeu-treaty-art97: law")
    assert problems(faq_dir) == [f"faq/_sources.yaml:{line}: source 'eaeu-treaty-art97' must be a mapping with 'kind' and 'label'"]


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml"])
def test_a_phrasing_written_over_two_lines_is_reported(faq_dir: Path, libyaml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A phrasing indented under the one above had been joined to it without
    a word ('мыйзамдар катаалдадыбы - Крокустан кийин эмне өзгөрдү')."""
    import bot.faq

    if not libyaml:
        monkeypatch.setattr(bot.faq, "_CLineLoader", None)
    work = faq_dir / "work.yaml"
    edit(work, "        - Крокустан кийин эмне өзгөрдү\n", "          - Крокустан кийин эмне өзгөрдү\n")
    edit(work, "        - do I need a patent\n", "        - |\n          do I need a patent\n")
    assert problems(faq_dir) == [
        f"faq/work.yaml:{line_of(work, '- |')}: entry patent-not-needed: this 'en' question is a block of lines (| or >); write it on one line after the '-'",
        # one phrasing fewer than the five needed
        f"faq/work.yaml:{line_of(work, '      ky:', 2, exact=True)}: entry crocus-laws: 4 'ky' questions; at least 5 are needed",
        f"faq/work.yaml:{line_of(work, '- мыйзамдар катаалдадыбы')}: entry crocus-laws: this 'ky' question goes on to line "
        f"{line_of(work, '- Крокустан кийин')}, and YAML joined the lines into one phrasing "
        "('мыйзамдар катаалдадыбы - Крокустан кийин эмне өзгөрдү'): write each phrasing on one line, its '-' indented as the others'",
    ]


def test_an_unknown_language_of_phrasings_is_reported_in_topics_and_out_of_scope(faq_dir: Path) -> None:
    """`kg:` beside `ky:` had been ignored, its phrasings dropped without a word
    (as `title` and `answer` already report)."""
    work = faq_dir / "work.yaml"
    edit(work, "      ru:\n        - нужен ли патент\n", "      kg:\n        - патент керекпиби\n      ru:\n        - нужен ли патент\n")
    path = faq_dir / "_out_of_scope.yaml"
    path.write_text(OUT_OF_SCOPE.replace("      en: [send money", "      EN: [send money home now]\n      en: [send money"), encoding="utf-8")
    assert problems(faq_dir) == [
        f"faq/_out_of_scope.yaml:{line_of(path, 'EN: [')}: subject money-transfers: 'questions' has unknown language 'EN' (use ky, ru, en)",
        f"faq/work.yaml:{line_of(work, '      kg:')}: entry patent-not-needed: 'questions' has unknown language 'kg' (use ky, ru, en)",
    ]


def test_a_review_date_in_the_future_is_reported_and_today_is_not(faq_dir: Path) -> None:
    """`reviewed: 2062-11-24` had been accepted, and would have been shown
    to users under the answer."""
    import datetime as dt

    work = faq_dir / "work.yaml"
    edit(work, "    reviewed: 2026-11-23\n    related", f"    reviewed: {dt.date.today()}\n    related")
    assert len(load_faq(faq_dir, default_seeds_dir()).entries) == 2
    # Today where it already is (an editor east of the server): not refused.
    first_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    edit(work, f"    reviewed: {dt.date.today()}\n    related", f"    reviewed: {first_today}\n    related")
    assert len(load_faq(faq_dir, default_seeds_dir()).entries) == 2
    edit(work, f"    reviewed: {first_today}\n    related", "    reviewed: 2062-11-24\n    related")
    assert problems(faq_dir) == [
        f"faq/work.yaml:{line_of(work, 'reviewed: 2062-11-24')}: entry patent-not-needed: 'reviewed' 2062-11-24 is in the future "
        f"(today is {dt.date.today()}); write the date the answer was last checked"
    ]


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml"])
def test_a_quoted_phrasing_wrapped_over_two_lines_is_accepted(faq_dir: Path, libyaml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Quoted text wrapped over lines is valid YAML, joined as its editor
    meant: only a plain phrasing over lines is a mistake."""
    import bot.faq

    if not libyaml:
        monkeypatch.setattr(bot.faq, "_CLineLoader", None)
    work = faq_dir / "work.yaml"
    edit(work, "        - do I need a patent\n", '        - "do I need a patent\n          to work in Russia"\n')
    faq = load_faq(faq_dir, default_seeds_dir())  # no FAQError
    assert "do I need a patent to work in Russia" in faq.entries["patent-not-needed"].questions["en"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_character_yaml_takes_for_a_line_break_is_reported_at_the_editors_line(faq_dir: Path, separator: str) -> None:
    """A line separator pasted from a web page (U+2028), which an editor does
    not show as a break: YAML had counted it as one, and reported a syntax
    error, or a later problem, lines away from where they were."""
    work = faq_dir / "work.yaml"
    edit(work, "      en: No, you do not.", f"      en: No, you do{separator}not.")
    line = work.read_text(encoding="utf-8").split("\n").index(f"      en: No, you do{separator}not.") + 1
    with pytest.raises(FAQError) as info:
        load_faq(faq_dir, default_seeds_dir(), shown_root=faq_dir.parent)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("faq/work.yaml", line)
    assert problem.reason.startswith(f"character U+{ord(separator):04X} is not allowed (")
    assert "which YAML reads as a line break" in problem.reason and "replace it with a space, after 'en: No, you do'" in problem.reason


def test_a_second_checkout_is_checked_against_its_own_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ./faq checked (a second checkout), the seeds beside it are used,
    not the installed checkout's: a seed added there had been 'missing'."""
    from bot.config import default_seeds_dir

    checkout = tmp_path / "second" / "repo"
    (checkout / "faq").mkdir(parents=True)
    seeds = tmp_path / "second" / "shared" / "seeds"
    seeds.mkdir(parents=True)
    monkeypatch.delenv("JARDAM_FAQ_DIR", raising=False)
    monkeypatch.chdir(checkout)
    assert default_seeds_dir() == seeds.resolve()


def test_a_file_that_cannot_be_used_is_listed_before_what_follows_from_it(tmp_path: Path) -> None:
    """Sorted by file and line alone, an emptied work.yaml came last, after
    the other files' "related id … does not exist", which it causes, and
    a refused /reload's notice could cut it off."""
    faq = tmp_path / "faq"
    shutil.copytree(Path(__file__).resolve().parents[1] / "faq", faq)
    (faq / "work.yaml").write_text("", encoding="utf-8")
    with pytest.raises(FAQError) as info:
        load_faq(faq, default_seeds_dir(), shown_root=tmp_path)
    found = [str(p) for p in info.value.problems]
    assert found[0] == "faq/work.yaml:1: the file is empty: a topic file needs 'topic' and 'entries'"
    assert len(found) > 1 and all("related id" in line for line in found[1:])
    assert found[1:] == sorted(found[1:], key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    assert str(info.value).splitlines() == found


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml"])
def test_a_text_starting_with_an_ampersand_or_asterisk_is_reported_at_its_line(faq_dir: Path, libyaml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`- &a text` had loaded as "text", the '&a' dropped without a word
    (YAML reads it as an anchor), and `- *a` as a copy of that phrasing;
    `- *b text` had been a syntax error about a reference."""
    import bot.faq

    if not libyaml:
        monkeypatch.setattr(bot.faq, "_CLineLoader", None)
    work = faq_dir / "work.yaml"
    edit(work, "        - patent kerekpi\n", "        - &a patent kerekpi\n        - *a\n")
    edit(work, "        - patent nuzhen\n", "        - *b patent nuzhen\n")
    edit(work, "      en: Do I need a patent?", "      en: &ref Do I need a patent?")
    anchor = (
        "a text cannot start with '&': YAML reads '&{}' as an anchor (a name for a value to repeat) and drops it from the text; "
        "put the whole text in quotes: "
    )
    alias = "a text cannot start with '*': YAML reads '*{0}' as an alias (a repeat of the value named &{0}), not as text; put the whole text in quotes: "
    assert problems(faq_dir) == [
        f"faq/work.yaml:{line_of(work, 'en: &ref')}: " + anchor.format("ref") + '"&ref Do I need a patent?"',
        f"faq/work.yaml:{line_of(work, '- &a patent')}: " + anchor.format("a") + '"&a patent kerekpi"',
        f"faq/work.yaml:{line_of(work, '- *a')}: " + alias.format("a") + '"*a"',
        f"faq/work.yaml:{line_of(work, '- *b patent')}: " + alias.format("b") + '"*b patent nuzhen"' + UNREAD,
    ]
    # In quotes, or inside a text, they are text.
    edit(work, "- &a patent kerekpi\n        - *a\n", '- "&a patent kerekpi"\n')
    edit(work, "- *b patent nuzhen", "- patent *b nuzhen & &c")
    edit(work, "en: &ref Do I need a patent?", "en: 'Do I need a patent? &ref'")
    entry = load_faq(faq_dir, default_seeds_dir()).entries["patent-not-needed"]
    assert "&a patent kerekpi" in entry.questions["ky"] and "patent *b nuzhen & &c" in entry.questions["ru"]
    assert entry.title["en"] == "Do I need a patent? &ref"
