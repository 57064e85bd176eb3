"""FAQ reload in a running bot: /reload from the operators' group and SIGHUP.
A broken FAQ is refused with file:line: reason, and the last good one stays."""

from __future__ import annotations

import gc
import shutil
import signal
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

from bot import telegram_app
from bot.engine import Engine
from bot.fakebotapi import FakeBotAPI
from bot.faq import FAQError, load_faq
from bot.i18n import Catalogs
from bot.textlimits import utf16_len

from .conftest import OPERATORS, ROOT, TOKEN, BotRunner, bot_settings
from .test_run_process import base_env, jardam, run_env

QUESTION = "как проверить запрет на въезд"


@pytest.fixture
def faq_copy(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", target)
    return target


def change_answer(faq_dir: Path, old: str, new: str) -> None:
    path = faq_dir / "entry_bans.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def first_ru_answer_line(faq_dir: Path) -> str:
    lines = (faq_dir / "entry_bans.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- id: ban-check")
    ru = next(i for i in range(start, len(lines)) if lines[i].strip() == "ru: |" and "answer" in "".join(lines[start:i]))
    return lines[ru + 1].strip()


def test_reload_good_then_broken(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    run_bot(faq_dir=faq_copy)
    api.push_text(1, QUESTION, language_code="ru")
    before = api.wait_for_sent(chat_id=1)[0]["text"]
    old_line = first_ru_answer_line(faq_copy)
    assert before.startswith(old_line)

    change_answer(faq_copy, old_line, "ОБНОВЛЕНО. " + old_line)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    ok = api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]
    assert ok["text"].startswith("✅ FAQ reloaded: 36 entries")
    api.push_text(1, QUESTION, language_code="ru")
    assert api.wait_for_sent(chat_id=1, since=mark)[0]["text"].startswith("ОБНОВЛЕНО. ")

    # Break it: a YAML syntax error and an unknown related id in another file.
    (faq_copy / "amina.yaml").write_text("topic: [unclosed\n", encoding="utf-8")
    change_answer(faq_copy, "related: [ban-grounds, ban-remove", "related: [no-such-entry, ban-remove")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    refused = api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"]
    assert refused.startswith("⚠️ FAQ reload refused (")
    assert "faq/amina.yaml:" in refused and "YAML syntax error" in refused
    assert "related id 'no-such-entry' does not exist" in refused
    # Still answering from the last good FAQ (with the change that was good).
    mark = api.checkpoint()
    api.push_text(1, QUESTION, language_code="ru")
    assert api.wait_for_sent(chat_id=1, since=mark)[0]["text"].startswith("ОБНОВЛЕНО. ")
    api.push_text(1, "/start amina-what-is", language_code="ru")
    assert "Амина" in api.wait_for_sent(chat_id=1, since=mark, count=2)[-1]["text"]


def test_the_old_faq_answers_while_the_new_one_is_indexed(api: FakeBotAPI, run_bot: Any, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_bot(faq_dir=faq_copy)
    indexing, indexed = threading.Event(), threading.Event()
    building: list[int] = []  # reloads indexing at each start of one

    def slow_engine(*args: Any, **kwargs: Any) -> Engine:
        """The real engine, built only once the test lets it: a big FAQ's seconds of indexing."""
        building.append(len(building))
        indexing.set()
        assert indexed.wait(30)
        engine = Engine(*args, **kwargs)
        building.append(-1)
        return engine

    monkeypatch.setattr(telegram_app, "Engine", slow_engine)
    old_line = first_ru_answer_line(faq_copy)
    change_answer(faq_copy, old_line, "ОБНОВЛЕНО. " + old_line)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    assert indexing.wait(10)
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)  # a second one waits for the first
    api.push_text(1, QUESTION, language_code="ru")
    assert api.wait_for_sent(chat_id=1, since=mark)[0]["text"].startswith(old_line)
    assert not api.sent_messages(OPERATORS, since=mark)  # not reloaded yet
    indexed.set()
    done = api.wait_for_sent(chat_id=OPERATORS, since=mark, count=2)
    assert all(m["text"].startswith("✅ FAQ reloaded: 36 entries") for m in done)
    assert building == [0, -1, 2, -1]  # one after the other, never both at once
    mark = api.checkpoint()
    api.push_text(1, QUESTION, language_code="ru")
    assert api.wait_for_sent(chat_id=1, since=mark)[0]["text"].startswith("ОБНОВЛЕНО. ")


def test_the_faq_a_reload_replaces_is_freed(api: FakeBotAPI, db_path: Path, faq_copy: Path, catalogs: Catalogs) -> None:
    """The bot holds the only reference to its engine, and the engine holds
    no reference cycle (which, frozen out of the cyclic collector's sight
    at start-up, nothing would ever break): the index a reload replaces is
    freed, rather than kept beside the new one for the life of the bot."""
    engine = Engine(load_faq(faq_copy, None), catalogs)
    index = weakref.ref(engine.matcher)
    runner = BotRunner(bot_settings(api, db_path, faq_dir=faq_copy), engine)
    del engine
    runner.start()
    try:
        runner.engine = None  # type: ignore[assignment]  # handed to the bot; the test lets go of it
        api.push_text(1, QUESTION, language_code="ru")
        api.wait_for_sent(chat_id=1)
        assert index() is not None  # answering from it
        mark = api.checkpoint()
        api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
        assert api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"].startswith("✅ FAQ reloaded: 36 entries")
        # Asked on the bot's loop, as a yes or no: handing the index itself
        # back to the test would keep it alive a little longer.
        deadline = time.monotonic() + 10
        while not runner.on_loop(lambda: index() is None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert index() is None
        api.push_text(1, QUESTION, language_code="ru")
        assert api.wait_for_sent(chat_id=1, since=mark)[0]["text"]  # the new one answers
    finally:
        runner.stop()


def collectable(obj: object) -> bool:
    """Whether the cyclic garbage collector would walk `obj` (not frozen)."""
    return any(o is obj for o in gc.get_objects())


def test_the_index_a_reload_builds_is_frozen_as_the_first_was(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    """A reloaded index, like the one built at start-up, is out of the
    cyclic collector's sight, or every full collection would walk it again
    (measured: 7 ms for the shipped FAQ's index alone, 73 ms for one a
    hundred times its size; nothing once it is frozen)."""
    runner = run_bot(faq_dir=faq_copy)
    assert not runner.on_loop(lambda: collectable(runner.app.bot_data["services"].engine.matcher.profiles))
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"].startswith("✅ FAQ reloaded: 36 entries")
    assert runner.on_loop(lambda: not collectable(runner.app.bot_data["services"].engine.matcher.profiles))


@pytest.mark.parametrize("huge_pages", [True, False])
def test_the_index_is_moved_onto_huge_pages_at_start_and_after_a_reload(
    api: FakeBotAPI, run_bot: Any, faq_copy: Path, monkeypatch: pytest.MonkeyPatch, huge_pages: bool
) -> None:
    """As it is frozen, the index is handed to the kernel to move onto huge
    pages (`bot.hugepages`), unless JARDAM_HUGE_PAGES is off."""
    started: list[threading.Thread | None] = []
    real = telegram_app.collapse_heap_in_background
    monkeypatch.setattr(telegram_app, "collapse_heap_in_background", lambda: started.append(real()) or started[-1])
    run_bot(faq_dir=faq_copy, huge_pages=huge_pages)
    api.push_text(1, QUESTION, language_code="ru")
    assert api.wait_for_sent(chat_id=1)
    assert len(started) == (1 if huge_pages else 0)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"].startswith("✅ FAQ reloaded: 36 entries")
    assert len(started) == (2 if huge_pages else 0)
    for thread in started:
        assert thread is not None
        thread.join(timeout=30)
        assert not thread.is_alive()


def remove_entry(faq_dir: Path, entry_id: str) -> None:
    path = faq_dir / "sakharovo.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"  - id: {entry_id}\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - id: ")), len(lines))
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def test_a_button_pressed_during_a_reload_is_answered_from_one_faq(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    """The entry a button names is checked, then answered after an await: a
    reload landing between the two, removing the entry, must not lose the answer."""
    run_bot(faq_dir=faq_copy)
    first_line = load_faq(faq_copy, None).entries["sakharovo-osh-branch"].answer["en"].splitlines()[0]
    api.push_text(1, "/topics", language_code="en")
    menu = api.wait_for_sent(chat_id=1)[0]
    mark = api.checkpoint()
    api.push_callback(1, menu["message_id"], "t:sakharovo:en", language_code="en")
    api.wait_for_call("editMessageText", since=mark)
    release = api.hold("answerCallbackQuery")
    mark = api.checkpoint()
    api.push_callback(1, menu["message_id"], "e:sakharovo-osh-branch:en", language_code="en")
    api.wait_for_call("answerCallbackQuery", since=mark)  # the bot now waits for Telegram
    remove_entry(faq_copy, "sakharovo-osh-branch")
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"].startswith("✅ FAQ reloaded: 35 entries")
    release.set()
    answer = api.wait_for_sent(chat_id=1, since=mark)[0]["text"]
    assert answer.startswith(first_line), answer  # the entry the button named, from the FAQ it was pressed in


def test_reload_only_from_operators(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    run_bot(faq_dir=faq_copy)
    api.push_text(1, "/reload", language_code="ru")
    api.push_text(1, QUESTION, language_code="ru")
    api.wait_for_sent(chat_id=1)
    assert api.sent_messages(OPERATORS) == []


@pytest.mark.slow
def test_sighup_reloads(tmp_path: Path, faq_copy: Path) -> None:
    with FakeBotAPI(token=TOKEN) as api:
        env = base_env(tmp_path) | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "OPERATOR_CHAT_ID": str(OPERATORS),
            "JARDAM_FAQ_DIR": str(faq_copy),
        }
        proc = jardam("run", env=env)
        try:
            api.wait_for_polling(timeout=30)
            (faq_copy / "health.yaml").write_text("entries: [\n", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            refused = api.wait_for_sent(chat_id=OPERATORS, timeout=10)[0]["text"]
            assert "faq/health.yaml:" in refused
            shutil.copy(ROOT / "faq" / "health.yaml", faq_copy / "health.yaml")
            proc.send_signal(signal.SIGHUP)
            api.wait_for_sent(chat_id=OPERATORS, count=2, timeout=10)
            assert api.sent_messages(OPERATORS)[-1]["text"].startswith("✅ FAQ reloaded")
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0
        assert "FAQ reload refused" in out


@pytest.mark.parametrize(
    ("original", "broken", "reason"),
    [
        # A character YAML refuses (Word's Shift+Enter) had failed the reload
        # with a ReaderError: nothing to the operators, nothing in the log but
        # a traceback.
        ("Amina is an app for digital migration", "Amina is an app for digital\x0bmigration", "control character U+000B is not allowed"),
        # `- &a text` had been taken as "text" without a word.
        ("        - amina degen emne\n", "        - &a amina degen emne\n", "a text cannot start with '&': YAML reads '&a' as an anchor"),
    ],
)
def test_reload_refuses_what_yaml_would_misread_at_its_line(
    api: FakeBotAPI, run_bot: Any, faq_copy: Path, original: str, broken: str, reason: str
) -> None:
    """Refused as any broken FAQ, with its file and line, and the last good FAQ answers on."""
    run_bot(faq_dir=faq_copy)
    path = faq_copy / "amina.yaml"
    text = path.read_text(encoding="utf-8")
    at = text.index(original)
    path.write_text(text.replace(original, broken, 1), encoding="utf-8")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    refused = api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"]
    assert refused.startswith("⚠️ FAQ reload refused (")
    assert f"\nfaq/amina.yaml:{text.count(chr(10), 0, at) + 1}: {reason}" in refused
    api.push_text(1, "/start amina-what-is", language_code="en")
    assert "Amina" in api.wait_for_sent(chat_id=1, since=mark)[0]["text"]


def refused_notice(api: FakeBotAPI, faq_dir: Path) -> tuple[str, list[str]]:
    """/reload with a broken FAQ: the notice the operators got, and every problem."""
    with pytest.raises(FAQError) as broken:
        load_faq(faq_dir, None, shown_root=faq_dir.parent)
    problems = [str(p) for p in broken.value.problems]
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/reload", chat_type="supergroup", user_id=77)
    return api.wait_for_sent(chat_id=OPERATORS, since=mark, timeout=10)[0]["text"], problems


def assert_whole_lines_then_the_rest_counted(notice: str, problems: list[str]) -> None:
    assert utf16_len(notice) <= 4096
    head, body = notice.split("\n\n", 1)
    assert head == f"⚠️ FAQ reload refused ({len(problems)} problem(s)); still answering from the last good FAQ."
    *shown, last = body.split("\n")
    assert shown == problems[: len(shown)]  # whole lines, in order: none cut in the middle
    assert last == f"…and {len(problems) - len(shown)} more problems: run `jardam faq check`"
    assert len(shown) > 10  # and the message is filled, not left short
    assert utf16_len(notice + "\n" + problems[len(shown)]) > 4096  # as full as whole lines let it be


def test_a_long_refusal_is_cut_at_a_line_and_says_how_many_more(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    """With `_sources.yaml` emptied every entry's sources are unknown: some
    10,000 characters of problems.  The notice holds whole lines and ends
    by counting the rest and naming the command that lists them all."""
    run_bot(faq_dir=faq_copy)
    (faq_copy / "_sources.yaml").write_text("sources: {}\n", encoding="utf-8")
    notice, problems = refused_notice(api, faq_copy)
    assert_whole_lines_then_the_rest_counted(notice, problems)


def test_a_refusal_of_emoji_fits_what_telegram_counts(api: FakeBotAPI, run_bot: Any, faq_copy: Path) -> None:
    """Problems quoting phrasings of emoji: an emoji is one character to
    Python and two units to Telegram, which refuses a message of more than
    4096 units.  The notice still arrives, counted in Telegram's units."""
    run_bot(faq_dir=faq_copy)
    path = faq_copy / "amina.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    phrasings = [f"        - 😀 амина {i} {'😀' * 20}\n" for i in range(80)]
    first, second = [i for i, line in enumerate(lines) if line == "      ky:\n"][:2]  # the first two entries'
    lines[second + 1 : second + 1] = phrasings
    lines[first + 1 : first + 1] = phrasings
    path.write_text("".join(lines), encoding="utf-8")
    notice, problems = refused_notice(api, faq_copy)
    assert len(problems) == 160 and sum(len(p) + 1 for p in problems) > 4096  # each phrasing claimed twice, reported at both copies
    assert_whole_lines_then_the_rest_counted(notice, problems)


def sighup_taken(pid: int) -> bool:
    """Whether the process catches or ignores SIGHUP (rather than dying of it)."""
    status = Path(f"/proc/{pid}/status").read_text()
    masks = dict(line.split(":\t") for line in status.splitlines() if line.startswith(("SigCgt", "SigIgn")))
    return any(int(masks[name], 16) & (1 << (signal.SIGHUP - 1)) for name in ("SigCgt", "SigIgn"))


@pytest.mark.slow
def test_sighup_while_starting_does_not_stop_the_bot_and_reloads_once(tmp_path: Path, faq_copy: Path) -> None:
    """A deploy's `git pull && kill -HUP` may catch the bot starting: from
    the very start of `jardam run` a SIGHUP is taken, not the end of the
    process, and the FAQ is reloaded once the bot is ready, once however
    many came."""
    with FakeBotAPI(token=TOKEN) as api:
        release = api.hold("getMe")  # the start stays before the bot's own handler
        proc = jardam("run", env=run_env(tmp_path, api, JARDAM_FAQ_DIR=str(faq_copy)))
        try:
            deadline = time.monotonic() + 5
            while not sighup_taken(proc.pid):
                assert proc.poll() is None and time.monotonic() < deadline, "SIGHUP is not taken while the bot starts"
                time.sleep(0.005)
            proc.send_signal(signal.SIGHUP)  # as soon as it can be: the FAQ is still being read
            api.wait_for_call("getMe", timeout=10)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
            assert proc.poll() is None, "a SIGHUP while starting ended the bot"
            release.set()
            api.wait_for_polling(timeout=30)
            reloaded = api.wait_for_sent(chat_id=OPERATORS, timeout=10)[0]["text"]
            assert reloaded.startswith("✅ FAQ reloaded: 36 entries")
            time.sleep(0.5)
            assert len(api.sent_messages(OPERATORS)) == 1  # once
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        assert "SIGHUP received while starting: reloading the FAQ" in out
        assert "PTBUserWarning" not in out, out  # the reload is a task of its own, kept and awaited at stop
