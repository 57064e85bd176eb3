"""What a user is told when their question goes to no one (no operators'
group configured): that it is recorded, and that no one will answer in
this chat; never the promise of a person."""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI

from .test_telegram import USER, buttons, last_to


@pytest.mark.parametrize(
    ("code", "question", "told"),
    [
        ("ru", "какой курс доллара сегодня", "Ваш вопрос записан, чтобы улучшить ответы, но в этом чате на него никто не ответит"),
        ("en", "/human what is the dollar rate today", "no one will answer it in this chat"),
        ("ky", "/human бүгүн доллардын курсу канча", "бул чатта ага эч ким жооп бербейт"),
    ],
)
def test_without_an_operators_group_no_person_is_promised(
    api: FakeBotAPI, run_bot: Any, db_path: Any, code: str, question: str, told: str
) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, question, language_code=code)
    reply = last_to(api, USER)["text"]
    assert told in reply
    assert "human" not in reply and "человек" not in reply and "адам" not in reply
    runner.stop()
    assert sqlite_utils.Database(db_path)["questions"].count == 1


def test_without_an_operators_group_asking_for_a_person_promises_none(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot(operator_chat_id=None)
    api.push_text(USER, "/human", language_code="ru")
    prompt = last_to(api, USER)["text"]
    assert "никто не ответит" in prompt and "передам" not in prompt


def test_without_an_operators_group_the_question_after_human_is_answered_from_the_faq(
    api: FakeBotAPI, run_bot: Any, db_path: Any
) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "/human", language_code="en")
    prompt = last_to(api, USER)["text"]
    assert prompt.startswith("No one answers you in person in this chat") and "pass it to a person" not in prompt
    mark = api.checkpoint()
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    reply = last_to(api, USER, since=mark)["text"]
    assert "📚 Sources:" in reply and "no checked answer" not in reply
    runner.stop()
    assert sqlite_utils.Database(db_path)["questions"].count == 0


def test_a_request_for_a_person_saved_with_operators_is_ignored_without_them(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """/human with operators, a restart without them: the next question had
    been recorded for no one and told there was no checked answer."""
    runner = run_bot()
    api.push_text(USER, "/human", language_code="en")
    last_to(api, USER)
    runner.stop()
    run_bot(operator_chat_id=None)
    mark = api.checkpoint()
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert "📚 Sources:" in last_to(api, USER, since=mark)["text"]


# What /start and /help promise: a person only where there is one.  Without
# an operators' group, a question the bot cannot answer is only recorded
# (see above), so neither may say that a person answers, nor offer /human.
PROMISES = {
    "ru": ("передаю ваш вопрос человеку", "передаю вопрос человеку", "/human"),
    "en": ("pass your question to a person", "who answers here", "/human"),
    "ky": ("адамга өткөрүп берем", "адамга өткөрөм", "/human"),
}
NO_PERSON = {
    "ru": ("нет проверенного ответа, я так и скажу", "в этом чате на него никто не ответит"),
    "en": ("have no checked answer, I say so", "no one answers in this chat"),
    "ky": ("жообум жок болсо, ошону ачык айтам", "бул чатта ага эч ким жооп бербейт"),
}


@pytest.mark.parametrize("code", ["ky", "ru", "en"])
def test_start_and_help_promise_a_person_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any, code: str) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER)["text"]
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code=code)
    help_text = last_to(api, USER, since=mark)["text"]
    runner.stop()
    says_so, no_one = NO_PERSON[code]
    assert says_so in greeting, greeting
    assert says_so in help_text and no_one in help_text, help_text
    assert "/topics" in help_text and "/lang" in help_text
    for promise in PROMISES[code]:
        assert promise not in greeting and promise not in help_text, (promise, greeting, help_text)

    run_bot()  # with an operators' group: the texts as they were
    mark = api.checkpoint()
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER, since=mark)["text"]
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code=code)
    help_text = last_to(api, USER, since=mark)["text"]
    start_promise, help_promise, human = PROMISES[code]
    assert start_promise in greeting and says_so not in greeting
    assert help_promise in help_text and human in help_text and says_so not in help_text


# The buttons of a "did you mean": "Ask a person" only where a person
# answers.  Without an operators' group it would only record the question,
# which its label does not say: the choices alone are offered (the text
# already says "or ask in other words").
ASK_A_PERSON = {"ky": "Адамдан сураңыз", "ru": "Спросить человека", "en": "Ask a person"}


@pytest.mark.parametrize("code", ["ky", "ru", "en"])
def test_did_you_mean_offers_a_person_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any, code: str) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "Амина?", language_code=code)
    clarify = last_to(api, USER)
    runner.stop()
    offered = buttons(clarify)
    assert 2 <= len(offered) <= 3 and all(data.startswith("e:amina-") for _, data in offered), offered
    assert "h:" not in str(clarify["reply_markup"]) and ASK_A_PERSON[code] not in str(clarify["reply_markup"])

    run_bot()  # with an operators' group: the buttons as they were
    mark = api.checkpoint()
    api.push_text(USER, "Амина?", language_code=code)
    assert buttons(last_to(api, USER, since=mark)) == [*offered, (ASK_A_PERSON[code], "h:")]


# 👎 under an answer records the question for the review either way; what
# it says must match: a person only where there is one, and, pressed again
# (on another device), "already recorded" rather than "already passed to a person".
THUMBS_DOWN = {
    "ky": (
        "Кыргызстандыктарга Орусияда иштөө үчүн патент керекпи?",
        "patent-not-needed",
        "Кечиресиз, бул жардам бербептир. Сурооңуз жоопторду жакшыртуу үчүн жазылып алынды, бирок бул чатта ага эч ким жооп бербейт. "
        "Башка сөздөр менен сурап көрүңүз же /topics ачыңыз.\n\nСуроонун номери: #1",
        "Бул суроо буга чейин эле жазылып алынган. Суроонун номери: #1",
        ("Кечиресиз, бул жардам бербептир. Сурооңузду адамга өткөрдүм", "Бул суроону мен адамга өткөрүп бергем. Суроонун номери: #2"),
    ),
    "ru": (
        "как проверить запрет на въезд",
        "ban-check",
        "Жаль, что это не помогло. Ваш вопрос записан, чтобы улучшить ответы, но в этом чате на него никто не ответит. "
        "Попробуйте спросить другими словами или откройте /topics.\n\nНомер обращения: #1",
        "Этот вопрос я уже записал. Номер обращения: #1",
        ("Жаль, что это не помогло. Я передал ваш вопрос человеку, он ответит здесь.", "Этот вопрос я уже передал человеку. Номер обращения: #2"),
    ),
    "en": (
        "how do I check if I have an entry ban",
        "ban-check",
        "Sorry this did not help. Your question is recorded so that the answers can be improved, but no one will answer it in this chat. "
        "Try asking in other words, or open /topics.\n\nReference: #1",
        "I have already recorded this question. Reference: #1",
        (
            "Sorry this did not help. I have passed your question to a person, who will answer here.",
            "I have already passed this question to a person. Reference: #2",
        ),
    ),
}


@pytest.mark.parametrize("code", ["ky", "ru", "en"])
def test_thumbs_down_promises_a_person_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any, db_path: Any, code: str) -> None:
    question, entry_id, recorded, recorded_again, (passed_on, passed_on_again) = THUMBS_DOWN[code]
    down = f"f:{entry_id}:down"
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, question, language_code=code)
    answer = last_to(api, USER)
    assert ("👎", down) in buttons(answer)
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down, language_code=code)
    assert last_to(api, USER, since=mark)["text"] == recorded
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down, language_code=code, force=True)  # another device
    assert last_to(api, USER, since=mark)["text"] == recorded_again
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert [(r["reason"], r["text"]) for r in db["questions"].rows] == [("feedback", question)]  # for the review
    assert db.execute("select count(*) from outbox where kind = 'operator_post'").fetchone() == (0,)

    run_bot()  # with an operators' group: the texts as they were
    mark = api.checkpoint()
    api.push_text(USER, question, language_code=code)
    answer = last_to(api, USER, since=mark)
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down, language_code=code)
    assert last_to(api, USER, since=mark)["text"].startswith(passed_on)
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down, language_code=code, force=True)
    assert last_to(api, USER, since=mark)["text"] == passed_on_again


# Telegram's command menu (setMyCommands, per language and the default):
# /human only where a person answers it.
MENU = {
    "ky": {"start": "Баштоо жана тил тандоо", "human": "Адамдан сураңыз", "forget": "Бот мен жөнүндө сактаганын өчүрүү"},
    "ru": {"start": "Начать и выбрать язык", "human": "Спросить человека", "forget": "Удалить то, что бот хранит обо мне"},
    "en": {"start": "Start and choose a language", "human": "Ask a person", "forget": "Delete what the bot stored about me"},
}


def menus(api: FakeBotAPI) -> dict[str, dict[str, str]]:
    """What each setMyCommands call set, by language ("" for the default)."""
    calls = api.calls_of("setMyCommands")
    assert all(c.params.get("scope", {}).get("type") == "all_private_chats" for c in calls), [c.params for c in calls]
    return {c.params.get("language_code") or "": {cmd["command"]: cmd["description"] for cmd in c.params["commands"]} for c in calls}


def test_the_command_menu_offers_a_person_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot(operator_chat_id=None).stop()
    without = menus(api)
    assert set(without) == {"ky", "ru", "en", ""}
    for code, menu in without.items():
        assert list(menu) == ["start", "topics", "lang", "help", "forget"], (code, menu)
        expected = MENU[code or "ru"]  # the default menu is the Russian one
        assert menu["start"] == expected["start"] and menu["forget"] == expected["forget"]

    api.clear_calls()
    run_bot()  # with an operators' group: the menu as it was
    with_operators = menus(api)
    assert set(with_operators) == {"ky", "ru", "en", ""}
    for code, menu in with_operators.items():
        assert list(menu) == ["start", "topics", "lang", "human", "help", "forget"], (code, menu)
        assert menu["human"] == MENU[code or "ru"]["human"]
        assert {k: v for k, v in menu.items() if k != "human"} == without[code]


# The reply to a command the bot does not have lists its commands: /human
# only where a person answers it.
UNKNOWN = {
    "ky": ("Мен бул буйрукту билбейм.", "/human: Адамдан сураңыз"),
    "ru": ("Я не знаю такой команды.", "/human: Спросить человека"),
    "en": ("I do not know this command.", "/human: Ask a person"),
}


@pytest.mark.parametrize("code", ["ky", "ru", "en"])
def test_an_unknown_command_lists_human_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any, code: str) -> None:
    said, human = UNKNOWN[code]
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "/menu", language_code=code)
    without = last_to(api, USER)["text"]
    runner.stop()
    assert without.startswith(said), without
    assert [line.split(":")[0] for line in without.splitlines()[2:]] == ["/start", "/topics", "/lang", "/help", "/forget"]
    assert "/human" not in without

    run_bot()  # with an operators' group: the list as it was
    mark = api.checkpoint()
    api.push_text(USER, "/menu", language_code=code)
    with_operators = last_to(api, USER, since=mark)["text"]
    lines = with_operators.splitlines()
    assert lines[5] == human and lines[:5] + lines[6:] == without.splitlines()
