"""The command line: `jardam ask` contract, `jardam chat`, and the docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("JARDAM_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("OPERATOR_CHAT_ID", raising=False)
    return CliRunner()


def test_ask_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "kak proverit zapret na vezd"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"outcome", "id", "lang", "confidence", "text", "choices"}
    assert data["outcome"] == "answer" and data["id"] == "ban-check" and data["lang"] == "ru"
    assert 0 <= data["confidence"] <= 100
    assert data["text"].startswith("Проверить запрет") or "📚 Источники" in data["text"]
    assert data["choices"] == []


def test_ask_json_stdin_one_object_per_line(runner: CliRunner) -> None:
    lines = "patent kerekpi\nАмина?\nhow to buy a plane ticket to Moscow\n\n"
    result = runner.invoke(cli, ["ask", "--json", "--lang", "ky", "-"], input=lines)
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert [o["outcome"] for o in objects] == ["answer", "clarify", "handoff"]
    assert objects[0]["id"] == "patent-not-needed" and objects[0]["lang"] == "ky"
    clarify = objects[1]
    assert clarify["id"] is None and clarify["lang"] == "ky"  # one word: the chosen language
    assert 2 <= len(clarify["choices"]) <= 3
    assert all(set(c) == {"id", "title"} and c["id"].startswith("amina-") for c in clarify["choices"])
    assert all(c["title"] in clarify["text"] for c in clarify["choices"])
    handoff = objects[2]
    assert handoff["id"] is None and handoff["lang"] == "en" and handoff["choices"] == []
    assert "no one will answer it in this chat" in handoff["text"]  # no OPERATOR_CHAT_ID


def test_ask_promises_a_person_only_where_there_is_an_operators_group(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """`text` is what the user is shown: without OPERATOR_CHAT_ID the bot
    says no one will answer, and `ask` had shown the engine's "I have
    passed your question to a person, who will answer here"."""
    alone = runner.invoke(cli, ["ask", "как отправить деньги домой"])
    assert alone.exit_code == 0, alone.output
    assert alone.output == (
        "У меня нет проверенного ответа на этот вопрос, а в юридических вопросах я не гадаю. "
        "Ваш вопрос записан, чтобы улучшить ответы, но в этом чате на него никто не ответит. "
        "Попробуйте спросить другими словами или откройте /topics.\n"
    )
    as_json = json.loads(runner.invoke(cli, ["ask", "--json", "-"], input="как отправить деньги домой\n").output)
    assert as_json["outcome"] == "handoff" and as_json["text"] == alone.output.rstrip("\n")
    monkeypatch.setenv("OPERATOR_CHAT_ID", "-1001234567890")
    operators = runner.invoke(cli, ["ask", "как отправить деньги домой"])
    assert operators.output.endswith("Я передал ваш вопрос человеку, он ответит здесь.\n")


def test_ask_plain_prints_user_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "Do", "Kyrgyz", "citizens", "need", "a", "work", "patent?"])
    assert result.exit_code == 0
    assert "📚 Sources:" in result.output


def test_chat_session_records_handoff(runner: CliRunner, tmp_path: Path) -> None:
    session = "\n".join(["patent kerekpi", "Амина?", "1", "how to buy a plane ticket to Moscow", "/quit"]) + "\n"
    result = runner.invoke(cli, ["chat", "--lang", "ru"], input=session)
    assert result.exit_code == 0, result.output
    assert "Здравствуйте! Я бот Jardam" in result.output
    assert "Кыргызстандын жарандарына" in result.output or "ЕАЭБ" in result.output
    assert "1. " in result.output  # the clarification's numbered choices
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "cli.db")
    assert [r["text"] for r in db["questions"].rows] == ["how to buy a plane ticket to Moscow"]
    assert [r["outcome"] for r in db["events"].rows] == ["answer", "clarify", "answer", "handoff"]
    # No one answers in a terminal: neither the greeting nor the hand-off promises a person.
    assert "человек" not in result.output and "person" not in result.output
    assert "Your question is recorded" in result.output and "no one will answer it here" in result.output  # asked in English


def test_chat_records_the_question_no_entry_answers_beside_an_answer(runner: CliRunner, tmp_path: Path) -> None:
    session = "где проверить запрет и сколько стоит билет до Оша\n/quit\n"
    result = runner.invoke(cli, ["chat", "--lang", "ru"], input=session)
    assert result.exit_code == 0, result.output
    assert "В вашем сообщении есть ещё вопрос: «сколько стоит билет до Оша»." in result.output
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "cli.db")
    assert [(r["text"], r["reason"]) for r in db["questions"].rows] == [("сколько стоит билет до Оша", "part")]
    assert [r["outcome"] for r in db["events"].rows] == ["answer"]


def test_ask_json_names_the_question_no_entry_answers(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["ask", "--json", "где проверить запрет и сколько стоит билет до Оша"])
    data = json.loads(result.output)
    assert (data["outcome"], data["id"], data["unanswered"]) == ("answer", "ban-check", ["сколько стоит билет до Оша"])


def test_no_subcommand_without_token_starts_chat(runner: CliRunner) -> None:
    result = runner.invoke(cli, [], input="/quit\n")
    assert result.exit_code == 0
    assert "Jardam" in result.output and "/quit" in result.output


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = ["jardam " + name for name in cli.commands if name != "faq"]
    for group in ("faq", "review"):
        commands += [f"jardam {group} " + name for name in cli.commands[group].commands]  # type: ignore[attr-defined]
    missing = [c for c in commands if c not in readme]
    assert not missing, f"README does not document: {missing}"


def test_installed_console_script_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert re.search(r"^\s+ask\s", result.stdout, re.M)


def test_faq_links(runner: CliRunner, faq: object) -> None:
    result = runner.invoke(cli, ["faq", "links", "--bot", "@jardam_bot", "--lang", "ru"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(faq.entries)  # type: ignore[attr-defined]
    assert any(line.startswith("https://t.me/jardam_bot?start=ban-check\t") for line in lines)


@pytest.mark.parametrize("given", ["jardam_bot", "@jardam_bot", "t.me/jardam_bot", "https://t.me/jardam_bot", " https://t.me/jardam_bot/ "])
def test_faq_links_take_the_bot_as_people_copy_it(runner: CliRunner, given: str) -> None:
    """A t.me link had given https://t.me/https://t.me/jardam_bot?start=…"""
    result = runner.invoke(cli, ["faq", "links", "--bot", given])
    assert result.exit_code == 0, result.output
    assert all(line.startswith("https://t.me/jardam_bot?start=") for line in result.output.splitlines())


@pytest.mark.parametrize(
    "given", ["bad name!", "jardam", "jardam_bot?start=x", "https://example.com/jardam_bot", "bot", "a" * 30 + "bot", "_jardam_bot", "1jardam_bot"]
)
def test_faq_links_refuse_what_is_not_a_bot_username(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    for args in (["--bot", given], []):
        monkeypatch.setenv("TELEGRAM_BOT_USERNAME", given)  # the same check for the environment's
        result = runner.invoke(cli, ["faq", "links", *args])
        assert result.exit_code == 2
        assert result.output.splitlines()[-1] == (
            f"Error: Invalid value for '--bot': {given!r} is not a Telegram bot username: "
            "5 to 32 letters, digits or _, starting with a letter and ending in 'bot' (e.g. jardam_bot, @jardam_bot or t.me/jardam_bot)"
        )


def test_review_and_stats_commands(runner: CliRunner, tmp_path: Path) -> None:
    session = "\n".join(
        ["как купить билет на самолёт в Москву", "Как купить билет на самолет в москву??", "patent kerekpi", "какой курс доллара сегодня", "/quit"]
    )
    assert runner.invoke(cli, ["chat", "--lang", "ru"], input=session + "\n").exit_code == 0
    listing = runner.invoke(cli, ["review"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.startswith("1. ×2  [ru]")
    # Plane tickets and exchange rates are known out-of-scope subjects, not gaps in the FAQ.
    assert "known out-of-scope subject: tickets-travel" in listing.output and "known out-of-scope subject: money-transfers" in listing.output
    as_json = json.loads(runner.invoke(cli, ["review", "--json"]).output)
    assert [c["count"] for c in as_json] == [2, 1]
    as_csv = runner.invoke(cli, ["review", "--csv"]).output.splitlines()
    assert len(as_csv) == 3 and "count" in as_csv[0]

    assert runner.invoke(cli, ["review", "ignore", "1"]).output.strip() == "1 marked ignored."
    # the retyped look-alike goes with it; the other question stays
    remaining = json.loads(runner.invoke(cli, ["review", "--json"]).output)
    assert [c["examples"] for c in remaining] == [["какой курс доллара сегодня"]]
    bad = runner.invoke(cli, ["review", "resolve", "999"])
    assert bad.exit_code == 1 and "no such question: #999" in bad.output

    figures = json.loads(runner.invoke(cli, ["stats", "--json"]).output)
    assert figures["messages"] == 4 and figures["users"] == 1
    assert figures["handoffs"]["total"] == 3
    table = runner.invoke(cli, ["stats"]).output
    assert "Messages: 4" in table


REPORTING = (
    ["stats"],
    ["stats", "--json"],
    ["review"],
    ["review", "--csv"],
    ["review", "resolve", "1"],
    ["review", "ignore", "1"],
    ["review", "reopen", "1"],
    ["review", "promote", "1", "ban-check"],
    ["purge"],
)


def test_reporting_commands_do_not_create_a_database(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "elsewhere" / "jardam.db"
    monkeypatch.setenv("JARDAM_DB", str(missing))
    for args in REPORTING:
        result = runner.invoke(cli, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (args, result.output)
        assert result.output == f"Error: no database at {missing} (set JARDAM_DB)\n", args
        assert not missing.parent.exists(), args
    # The default is relative to the current directory: the message says where it looked.
    monkeypatch.delenv("JARDAM_DB")
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["stats"]).output == f"Error: no database at {tmp_path / 'data' / 'jardam.db'} (set JARDAM_DB)\n"
    # The bot (here the terminal chat) still creates it, and then they report.
    monkeypatch.setenv("JARDAM_DB", str(missing))
    assert runner.invoke(cli, ["chat"], input="/quit\n").exit_code == 0
    assert missing.is_file()
    assert json.loads(runner.invoke(cli, ["stats", "--json"]).output)["messages"] == 0
    assert runner.invoke(cli, ["review"]).exit_code == 0


def test_review_refuses_a_huge_reference_and_two_formats(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["chat"], input="/quit\n").exit_code == 0  # a database
    result = runner.invoke(cli, ["review", "resolve", "99999999999999999999"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output == f"Error: not a question reference: '99999999999999999999' (too big: at most {2**63 - 1})\n"
    largest = runner.invoke(cli, ["review", "resolve", str(2**63 - 1)])
    assert largest.output == f"Error: no such question: #{2**63 - 1}\n"
    both = runner.invoke(cli, ["review", "--json", "--csv"])
    assert both.exit_code == 2 and "Error: choose one of --json and --csv" in both.output
    assert runner.invoke(cli, ["review", "--csv"]).exit_code == 0


def test_a_bad_setting_or_eval_file_is_one_clear_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ask", "salam"], env={"JARDAM_LOG_LEVEL": "verbose"})
    assert result.exit_code == 1
    assert "JARDAM_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'VERBOSE'" in result.output
    broken = tmp_path / "questions.yaml"
    broken.write_text('- q: "unterminated\n  lang: ru\n', encoding="utf-8")
    result = runner.invoke(cli, ["eval", str(broken)])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert f"Error: cannot read {broken}: while scanning a quoted scalar" in result.output


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "- {q: patent kerekpi, lang: ky, expect: patent-not-needed}\n- {q: kak proverit zapret, lang: ru, expect: [ban-chek]}\n",
            "item 2: unknown entry ban-chek",
        ),
        ("- {q: patent kerekpi, lang: ky, expect: 5}\n", "item 1: 'expect' must be an entry id, a list of entry ids or empty, not 5"),
        (
            "- {q: patent kerekpi, lang: ky, expect: [patent-not-needed, 5]}\n",
            "item 1: 'expect' must be an entry id, a list of entry ids or empty, not ['patent-not-needed', 5]",
        ),
        ("[]\n", "no questions"),
        ("", "no questions"),
        (
            "- {q: kak proverit zapret, lang: ru, expected: ban-check}\n",
            "item 1: unknown key expected (known: expect, lang, q, split)",
        ),
        ("- {q: kak proverit zapret, lang: ru, expect: ban-check, split: hodlout}\n", "item 1: split must be one of dev, holdout, not 'hodlout'"),
    ],
    ids=["unknown-entry", "number", "list-with-a-number", "empty-list", "empty-file", "misspelt-key", "misspelt-split"],
)
def test_a_bad_eval_item_is_one_line_naming_it(runner: CliRunner, tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--json", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output == f"Error: {path}: {error}\n"


def test_a_token_with_a_stray_character_is_refused_without_being_shown(runner: CliRunner) -> None:
    token = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\u200b"  # a zero-width space copied with it
    result = runner.invoke(cli, ["run"], env={"TELEGRAM_BOT_TOKEN": token})
    assert result.exit_code == 1
    assert "TELEGRAM_BOT_TOKEN does not look like a bot token" in result.output
    assert "AAHdqTcv" not in result.output and "123456" not in result.output


def test_faq_check_runs_where_there_is_no_fcntl() -> None:
    """Editors check the FAQ on Windows, which has no `fcntl`: only `jardam
    run` needs it (its single-instance lock), so importing it with the CLI
    had made every command fail there."""
    code = "import sys; sys.modules['fcntl'] = None; from bot.cli import main; sys.argv = ['jardam', 'faq', 'check']; main()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")


def test_tune_fits_on_the_review_sets_dev_split_too(runner: CliRunner, tmp_path: Path) -> None:
    """`--tune --thresholds-only` refits the confidence model and the
    thresholds on the dev splits of the labelled set and of `--also` (the
    review set by default), keeping the matcher's weights."""
    labelled = tmp_path / "questions.yaml"
    labelled.write_text(
        "- {q: kak proverit zapret na vezd, lang: ru, expect: ban-check}\n"
        "- {q: patent kerekpi, lang: ky, expect: patent-not-needed}\n"
        "- {q: как отправить деньги домой, lang: ru}\n"
        "- {q: аминаны кантип орнотом, lang: ky, expect: amina-how-to-use, split: holdout}\n",
        encoding="utf-8",
    )
    reviews = tmp_path / "reviews.yaml"
    reviews.write_text(
        "- {q: в ммц сахарово оплата картой принимается или только наличка, lang: ru}\n"
        "- {q: how do I check if I have an entry ban, lang: en, expect: ban-check}\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["eval", str(labelled), "--tune", "--thresholds-only", "--also", str(reviews)])
    assert result.exit_code == 0, result.output
    assert f"tuning on 5 dev messages from {labelled}, {reviews}" in result.stderr
    found = json.loads(result.stdout)
    assert (found["coverage_share"], found["cosine_share"], found["unknown_word_weight"]) == (0.3, 0.35, 0.8)
    assert 0.2 <= found["answer_probability"] <= 0.98 and len(found["confidence"]["weights"]) == 8
    assert "dev objective through the engine's replies" in result.stderr

    alone = runner.invoke(cli, ["eval", str(labelled), "--also", str(reviews)])
    assert alone.exit_code == 2 and "--also and --thresholds-only go with --tune" in alone.output
    reviews.write_text("- {q: patent, lang: ru, expect: no-such-entry}\n", encoding="utf-8")
    broken = runner.invoke(cli, ["eval", str(labelled), "--tune", "--thresholds-only", "--also", str(reviews)])
    assert broken.exit_code == 1 and broken.output.endswith(f"Error: {reviews}: item 1: unknown entry no-such-entry\n")
