"""End-to-end conversations: the real bot against the fake Bot API server.

Assertions are on what users and operators would see: the texts and
buttons the bot sent, and what is stored in the SQLite file.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.store import Store
from bot.telegram_app import BUTTON_LIMIT

from .conftest import OPERATORS

USER = 5001


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def last_to(api: FakeBotAPI, chat_id: int, since: int = 0, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:
    return api.wait_for_sent(chat_id=chat_id, count=count, since=since, timeout=timeout)[-1]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ky", "Саламатсызбы! Мен Jardam"), ("ru", "Здравствуйте! Я бот Jardam"), ("en", "Hello! I am Jardam"), ("de", "Здравствуйте! Я бот Jardam")],
)
def test_start_greets_in_telegram_language(api: FakeBotAPI, run_bot: Any, code: str, expected: str) -> None:
    run_bot()
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER)
    assert greeting["text"].startswith(expected)
    assert [data for _, data in buttons(greeting)] == ["l:ky", "l:ru", "l:en"]


def test_language_choice_is_remembered_across_restarts(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    greeting_msg = api.push_text(USER, "/start", language_code="ru")
    greeting = last_to(api, USER)
    assert greeting_msg["message_id"] < greeting["message_id"]
    mark = api.checkpoint()
    api.push_callback(USER, greeting["message_id"], "l:ky")
    confirm = last_to(api, USER, since=mark)
    assert confirm["text"].startswith("Билдирүүңүздүн тили билинбесе, кыргызча жооп берем")
    runner.stop()
    assert sqlite_utils.Database(db_path)["users"].get(USER)["lang"] == "ky"

    run_bot()
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith("Мен Кыргызстандан келген")


def test_commands_registered_in_three_languages(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    calls = api.calls_of("setMyCommands")
    codes = {c.params.get("language_code") for c in calls}
    assert {"ky", "ru", "en"} <= codes
    ky = next(c for c in calls if c.params.get("language_code") == "ky")
    assert {cmd["command"] for cmd in ky.params["commands"]} == {"start", "topics", "lang", "human", "help", "forget"}
    assert any(cmd["description"] == "Адамдан сураңыз" for cmd in ky.params["commands"])


@pytest.mark.parametrize(
    ("text", "entry_start", "lang"),
    [
        ("Кыргызстандыктарга Орусияда иштөө үчүн патент керекпи?", "patent-not-needed", "ky"),
        ("как проверить запрет на въезд", "ban-check", "ru"),
        ("how do I check if I have an entry ban", "ban-check", "en"),
    ],
)
def test_answer_in_each_language(
    api: FakeBotAPI, run_bot: Any, engine: Any, text: str, entry_start: str, lang: str
) -> None:
    run_bot()
    api.push_text(USER, text, language_code="ru")
    reply = last_to(api, USER)
    entry = engine.faq.entries[entry_start]
    assert reply["text"].startswith(entry.answer[lang][:40])
    assert ("👍", f"f:{entry_start}:up") in buttons(reply)
    assert ("👎", f"f:{entry_start}:down") in buttons(reply)


def test_clarify_then_choose(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    question = last_to(api, USER)
    offered = [data for _, data in buttons(question) if data.startswith("e:")]
    assert 2 <= len(offered) <= 3
    assert all(data.startswith("e:amina-") for data in offered)
    assert ("Спросить человека", "h:") in buttons(question)
    mark = api.checkpoint()
    api.push_callback(USER, question["message_id"], offered[0])
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries[offered[0][2:]].answer["ru"][:40])


def test_one_entry_nearly_sure_below_the_choices_score_is_offered_with_a_person_beside_it(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    """Scored under `clarify_at`, yet well ahead and at `offer_probability`:
    the entry is offered alone ("Do you mean this?") with "Ask a person",
    not handed off, and one tap gives its answer."""
    text = "хозяйка каттоону озун жасат дейт, ким жасашы керек эле мен же ал?"
    best = engine.assess(text)[0][0]
    assert best.entry_id == "migration-registration" and best.score < engine.tuning.clarify_at
    run_bot()
    api.push_text(USER, text, language_code="ky")
    question = last_to(api, USER)
    offered = [data for _, data in buttons(question) if data.startswith("e:")]
    assert offered == ["e:migration-registration"]
    assert "h:" in [data for _, data in buttons(question)]
    assert engine.faq.entries["migration-registration"].title["ky"] in question["text"]
    mark = api.checkpoint()
    api.push_callback(USER, question["message_id"], offered[0])
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries["migration-registration"].answer["ky"][:40])


def test_topics_menu_to_answer(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    run_bot()
    api.push_text(USER, "/topics", language_code="en")
    menu = last_to(api, USER)
    assert ("Entry bans", "t:bans:en") in buttons(menu)
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], "t:bans:en", language_code="en")
    api.wait_for_call("editMessageText", since=mark)
    edited = api.message(USER, menu["message_id"])
    assert edited["text"] == "Entry bans"
    assert ("« Topics", "T:en") in buttons(edited)
    assert "e:ban-check:en" in [d for _, d in buttons(edited)]
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], "e:ban-check:en", language_code="en")
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries["ban-check"].answer["en"][:40])
    assert "📚 Sources:" in answer["text"]


def test_a_double_tap_on_a_menu_button_leaves_one_menu(api: FakeBotAPI, run_bot: Any) -> None:
    """The second of two quick taps finds the menu already edited, and
    Telegram refuses the same edit as "message is not modified": the bot
    had sent the menu again as a new message, leaving two."""
    run_bot()
    api.push_text(USER, "/topics", language_code="en")
    menu = last_to(api, USER)
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], "t:bans:en", language_code="en")
    api.wait_for_call("editMessageText", since=mark)
    # The second tap, on the button the user still saw (gone from the edited menu)
    api.push_callback(USER, menu["message_id"], "t:bans:en", language_code="en", force=True)
    first, second = api.wait_for_call("editMessageText", count=2, since=mark)
    assert first.ok and (second.status, second.response["description"]) == (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    # Browsing on from the one menu: back to the topics, in the same message.
    api.push_callback(USER, menu["message_id"], "T:en", language_code="en")
    api.wait_for_call("editMessageText", count=3, since=mark)
    assert api.wait_for_call("answerCallbackQuery", count=3, since=mark)
    assert api.sent_messages(USER, since=mark) == []
    assert api.message(USER, menu["message_id"])["text"] == "Choose a topic:"
    assert [m["text"] for m in api.chat_history(USER) if m["from"]["is_bot"]] == ["Choose a topic:"]


def test_two_questions_get_an_answer_and_the_other_questions_button(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    run_bot()
    api.push_text(USER, "каттоону ким жасайт жана Аминаны кантип орнотом", language_code="ky")
    reply = last_to(api, USER)
    other = engine.faq.entries["migration-registration"]
    assert reply["text"].startswith(engine.faq.entries["amina-how-to-use"].answer["ky"][:40])
    assert reply["text"].endswith(f"«{other.title['ky']}». Анын жообу төмөнкү баскычта.")
    assert buttons(reply)[0] == ("→ " + other.title["ky"], "e:migration-registration")
    mark = api.checkpoint()
    api.push_callback(USER, reply["message_id"], "e:migration-registration", language_code="ky")
    assert last_to(api, USER, since=mark)["text"].startswith(other.answer["ky"][:40])

    mark = api.checkpoint()
    api.push_text(USER, "нужен ли патент и где проверить запрет", language_code="ru")
    offer = last_to(api, USER, since=mark)
    assert offer["text"].startswith("В вашем сообщении несколько вопросов:")
    assert [data for _, data in buttons(offer)] == ["e:patent-not-needed", "e:ban-check", "h:"]


def test_a_question_no_entry_answers_goes_to_a_person_beside_the_answer_to_the_other(api: FakeBotAPI, run_bot: Any, engine: Any, db_path: Any) -> None:
    """"Where do I check a ban, and how much is a ticket to Osh?": the ban
    check's answer, and the ticket's price passed to the operators, who
    answer it like any question, under the user's message."""
    runner = run_bot()
    question = api.push_text(USER, "где проверить запрет и сколько стоит билет до Оша", language_code="ru")
    answer, passed = api.wait_for_sent(chat_id=USER, count=2)
    assert answer["text"].startswith(engine.faq.entries["ban-check"].answer["ru"][:40])
    assert answer["text"].endswith("В вашем сообщении есть ещё вопрос: «сколько стоит билет до Оша». "
                                   "На него у меня нет проверенного ответа, а в юридических вопросах я не гадаю.")
    assert ("👎", "f:ban-check:down") in buttons(answer)
    assert passed["text"] == "Ваш другой вопрос, «сколько стоит билет до Оша», я передал человеку, он ответит здесь.\n\nНомер обращения: #1"
    post = last_to(api, OPERATORS)
    assert post["text"].startswith("❓ #1 · ru · part\n\nсколько стоит билет до Оша\n\n"
                                   "In the message: где проверить запрет и сколько стоит билет до Оша\n\nFAQ: ban-check (")
    assert ", answered)" in post["text"]

    mark = api.checkpoint()
    api.push_text(OPERATORS, "Смотрите цены у авиакомпаний.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copy = api.wait_for_call("copyMessage", since=mark)[0]
    assert copy.params["chat_id"] == USER and copy.params["reply_parameters"]["message_id"] == question["message_id"]
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert [(q["reason"], q["text"]) for q in db["questions"].rows] == [("part", "сколько стоит билет до Оша")]
    assert [e["outcome"] for e in db["events"].rows if e["chat_id"] == USER][-1:] == ["answer"]


def test_the_whole_message_shown_with_a_question_passed_on_is_masked(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "мой номер +996 555 123 456, где проверить запрет и сколько стоит билет до Оша", language_code="ru")
    post = last_to(api, OPERATORS)
    assert "In the message: мой номер [phone], где проверить запрет" in post["text"] and "555" not in post["text"]
    runner.stop()
    assert [q["text"] for q in sqlite_utils.Database(db_path)["questions"].rows] == ["сколько стоит билет до Оша"]


def test_without_operators_the_other_question_is_recorded_and_no_one_is_promised(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "do kyrgyz need a visa for turkey? and how many days can i stay in russia without a job contract", language_code="en")
    _, recorded = api.wait_for_sent(chat_id=USER, count=2)
    assert recorded["text"].startswith("Your other question, “do kyrgyz need a visa for turkey”, is recorded so that the answers can be improved, "
                                       "but no one will answer it in this chat.")
    assert api.sent_messages(OPERATORS) == []
    runner.stop()
    assert [q["reason"] for q in sqlite_utils.Database(db_path)["questions"].rows] == ["part"]


def test_feedback_up_and_down(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    answer = last_to(api, USER)
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], "f:ban-check:up", language_code="en")
    api.wait_for_call("answerCallbackQuery", since=mark)
    assert any(a.get("text") == "Thank you for the feedback!" for a in api.callback_answers.values())
    related = [data for _, data in buttons(answer) if data.startswith("e:")]
    assert related  # ban-check has related entries
    api.wait_for_call("editMessageReplyMarkup", since=mark)
    assert [data for _, data in buttons(api.message(USER, answer["message_id"]))] == related  # 👍/👎 gone, the rest kept

    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    second = api.wait_for_sent(chat_id=USER, count=2)[-1]
    mark = api.checkpoint()
    api.push_callback(USER, second["message_id"], "f:ban-check:down", language_code="en")
    sorry = last_to(api, USER, since=mark)
    assert sorry["text"].startswith("Sorry this did not help.")
    post = last_to(api, OPERATORS, since=mark)
    assert "feedback" in post["text"] and "how do I check if I have an entry ban" in post["text"]
    runner.stop()
    db = sqlite_utils.Database(db_path)
    outcomes = [r["outcome"] for r in db["events"].rows]
    assert "feedback_up" in outcomes and "feedback_down" in outcomes
    assert [q["reason"] for q in db["questions"].rows] == ["feedback"]


@pytest.mark.parametrize("kind", ["voice", "photo", "sticker", "document", "location"])
def test_non_text_gets_polite_reply(api: FakeBotAPI, run_bot: Any, kind: str) -> None:
    run_bot()
    getattr(api, f"push_{kind}")(USER, language_code="ky")
    reply = last_to(api, USER)
    assert reply["text"].startswith("Мен текстти гана окуй алам")
    assert ("Темалар", "T:ky") in buttons(reply)


@pytest.mark.parametrize("operators", [OPERATORS, None])
def test_empty_emoji_and_huge_messages(api: FakeBotAPI, run_bot: Any, db_path: Any, operators: int | None) -> None:
    runner = run_bot(operator_chat_id=operators)
    api.push_text(USER, "🙏🙏🙏", language_code="ru")
    assert last_to(api, USER)["text"].startswith("Пожалуйста, напишите вопрос словами")
    story = "Паспорт забрал работодатель, зарплату не платит третий месяц. " * 40 + "Что мне делать?"
    api.push_text(USER, story, language_code="ru")
    told = api.wait_for_sent(chat_id=USER, count=2)[-1]["text"]
    if operators is None:  # no one to read it: a shorter question, please
        assert told.startswith("Ваше сообщение слишком длинное")
    else:  # a long account is what a person is for
        assert told.startswith("Ваше сообщение длинное, поэтому я передал его человеку") and told.endswith("#1")
        post = last_to(api, OPERATORS)["text"]
        assert post.startswith("❓ #1 · ru · long\n\nПаспорт забрал") and len(post.encode("utf-16-le")) // 2 <= 4096
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    assert "📚 Источники" in api.wait_for_sent(chat_id=USER, count=3)[-1]["text"]
    runner.stop()
    assert sqlite_utils.Database(db_path)["questions"].count == (0 if operators is None else 1)


def test_flood_gets_one_notice(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    for i in range(30):
        api.push_text(USER, f"патент керекпи {i}", language_code="ky")
    api.wait_for_sent(chat_id=USER, count=21, timeout=10)
    api.push_text(USER + 1, "патент керекпи", language_code="ky")  # others are still served
    api.wait_for_sent(chat_id=USER + 1)
    sent = api.sent_messages(USER)
    notices = [m for m in sent if "өтө тез" in m["text"]]
    assert len(notices) == 1
    assert len(sent) == 21


def test_browsing_the_menu_is_not_a_flood_and_the_next_question_is_answered(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "/topics", language_code="en")
    menu = last_to(api, USER)
    mark = api.checkpoint()
    for i in range(30):  # more presses in a minute than messages allowed (20)
        # forced: the menu is edited in between, and its buttons change
        api.push_callback(USER, menu["message_id"], "t:bans" if i % 2 == 0 else "T:", language_code="en", force=True)
    api.wait_for_call("answerCallbackQuery", count=30, since=mark, timeout=10)
    assert not [a for a in api.callback_answers.values() if "too fast" in (a.get("text") or "")]
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert api.wait_for_sent(lambda m: "📚 Sources:" in m["text"], chat_id=USER, since=mark)
    assert not [m for m in api.sent_messages(USER) if "too fast" in m["text"]]


def test_a_flood_of_presses_is_told_on_the_button_once(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "/topics", language_code="en")
    menu = last_to(api, USER)
    mark = api.checkpoint()
    presses = BUTTON_LIMIT + 5
    for _ in range(presses):
        api.push_callback(USER, menu["message_id"], "T:", language_code="en", force=True)
    api.wait_for_call("answerCallbackQuery", count=presses, since=mark, timeout=15)
    told = [a for a in api.callback_answers.values() if "too fast" in (a.get("text") or "")]
    assert len(told) == 1
    assert not [m for m in api.sent_messages(USER) if "too fast" in m["text"]]  # no message for it
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert api.wait_for_sent(lambda m: "📚 Sources:" in m["text"], chat_id=USER, since=mark)


def test_presses_that_pass_a_question_on_spend_the_messages_budget(api: FakeBotAPI, run_bot: Any) -> None:
    """A related entry, 👎, again and again had posted some 25 questions to
    the operators in 15 seconds: each 👎 is a post, as a message is."""
    run_bot()
    for i in range(20):
        api.push_text(USER, f"how do I check if I have an entry ban {i}", language_code="en")
    answers = api.wait_for_sent(chat_id=USER, count=20, timeout=10)
    mark = api.checkpoint()
    api.push_callback(USER, answers[-1]["message_id"], "f:ban-check:down", language_code="en")
    api.wait_for_call("answerCallbackQuery", since=mark)
    assert [a.get("text") for a in api.callback_answers.values()][-1] == "You are sending messages too fast. Please wait a minute, then ask again."
    assert api.sent_messages(OPERATORS, since=mark) == []
    api.push_callback(USER, answers[-1]["message_id"], "e:ban-check", language_code="en", force=True)  # browsing is still free
    assert "📚 Sources:" in last_to(api, USER, since=mark)["text"]


def test_forged_button_has_expired(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "/start", language_code="en")
    greeting = last_to(api, USER)
    mark = api.checkpoint()
    for data in ("e:no-such-entry", "x:whatever", "f:ban-check:maybe", "t:../../etc"):
        api.push_callback(USER, greeting["message_id"], data, language_code="en", force=True)
    api.wait_for_call("answerCallbackQuery", count=4, since=mark)
    expired = [a for a in api.callback_answers.values() if "expired" in (a.get("text") or "")]
    assert len(expired) == 4
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert "📚 Sources:" in last_to(api, USER, since=mark)["text"]


def test_deep_link_opens_entry(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    run_bot()
    api.push_text(USER, "/start amina-what-is", language_code="ky")
    reply = last_to(api, USER)
    assert reply["text"].startswith(engine.faq.entries["amina-what-is"].answer["ky"][:40])


def test_group_chat_answers_only_when_addressed(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    group = -200
    api.push_text(group, "как проверить запрет на въезд", chat_type="supergroup", user_id=7)
    api.push_text(group, "@jardam_test_bot как проверить запрет на въезд", chat_type="supergroup", user_id=7)
    reply = last_to(api, group)
    assert "📚 Источники" in reply["text"]
    assert len(api.sent_messages(group)) == 1


def test_handoff_relay_round_trip(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    question = api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    told = last_to(api, USER)
    assert told["text"].startswith("У меня нет проверенного ответа")
    assert "#1" in told["text"]
    post = last_to(api, OPERATORS)
    assert post["text"].startswith("❓ #1 · ru · engine")
    assert "какой курс доллара сегодня" in post["text"]

    # Someone outside the operators' group replying to the post has no effect.
    mark = api.checkpoint()
    # (Same message id as the post, another chat: the relay is keyed by both.)
    other = api.push_text(OPERATORS + 1, "hi", chat_type="supergroup", user_id=66)
    assert other["message_id"] == post["message_id"]
    api.push_text(OPERATORS + 1, "fake answer", chat_type="supergroup", user_id=66, reply_to_message_id=other["message_id"])

    # An operator answers by replying to the post: the user gets a copy.
    answer = api.push_text(OPERATORS, "Лучше через банк; уточните комиссию.", chat_type="supergroup", user_id=77,
                           reply_to_message_id=post["message_id"])
    copy = api.wait_for_call("copyMessage", since=mark)[0]
    assert copy.params["chat_id"] == USER and copy.params["from_chat_id"] == OPERATORS
    assert copy.params["message_id"] == answer["message_id"]
    assert copy.params["reply_parameters"]["message_id"] == question["message_id"]
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m["text"].startswith("Лучше через банк"))[0]
    ack = api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("✅ #1"))
    assert ack
    assert len([c for c in api.calls_of("copyMessage")]) == 1

    # The user replies to the answer: the operators see it under the same reference.
    mark = api.checkpoint()
    api.push_text(USER, "А какой банк?", language_code="ru", reply_to_message_id=copied["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("💬 #1"))[0]
    assert "А какой банк?" in follow["text"]
    assert last_to(api, USER, since=mark)["text"].startswith("Отправлено человеку")

    # An operator may answer the follow-up too, by replying to it.
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Любой.", chat_type="supergroup", user_id=77, reply_to_message_id=follow["message_id"])
    api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m: m["text"] == "Любой.")
    # Answered once the copy is recorded sent, with the acknowledgement.
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅ #1"))

    # /open lists it, /close closes it and tells the user.
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("No open questions"))
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("❓ #2"))
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)
    listing = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("Open questions"))[0]["text"]
    assert "#2" in listing and "#1 " not in listing
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close 1", chat_type="supergroup", user_id=77)
    closed = last_to(api, USER, since=mark)
    assert closed["text"].startswith("Ваше обращение #1 закрыто")
    runner.stop()
    rows = {r["id"]: r for r in sqlite_utils.Database(db_path)["questions"].rows}
    assert rows[1]["status"] == "closed" and rows[1]["answer"] == "Любой."
    assert rows[2]["status"] == "open"


def test_operator_commands_ignored_outside_operators_group(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS)
    mark = api.checkpoint()
    api.push_text(USER, "/close 1", language_code="ru")
    api.push_text(USER, "/open", language_code="ru")
    api.push_text(USER, "/help", language_code="ru")
    replies = sorted(m["text"] for m in api.wait_for_sent(chat_id=USER, count=3, since=mark))
    assert replies[0].startswith("Я не знаю такой команды") and replies[1] == replies[0]  # not theirs: /close, /open
    assert replies[2].startswith("Я отвечаю на частые вопросы")
    runner.stop()
    assert sqlite_utils.Database(db_path)["questions"].get(1)["status"] == "open"


def asks_for_a_person(api: FakeBotAPI, chat_id: int) -> None:
    api.push_text(chat_id, "/human", language_code="en")
    assert last_to(api, chat_id)["text"].startswith("Write your question in one message")


def goes_to_a_person(api: FakeBotAPI, chat_id: int, text: str, ref: int) -> None:
    mark = api.checkpoint()
    api.push_text(chat_id, text, language_code="en")
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith(f"❓ #{ref} · en · human") and text in post["text"]
    # The user is told too, in a send of its own that may land after the post:
    # waited for here, not taken for the reply to whatever is asked next.
    assert last_to(api, chat_id, since=mark)["text"].endswith(f"Reference: #{ref}")


def answered_by_the_bot(api: FakeBotAPI, chat_id: int) -> None:
    mark = api.checkpoint()
    api.push_text(chat_id, "How do I check if I have an entry ban?", language_code="en")
    assert "passed your question to a person" not in last_to(api, chat_id, since=mark)["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []


def test_human_command(api: FakeBotAPI, run_bot: Any) -> None:
    runner = run_bot()
    asks_for_a_person(api, USER)
    goes_to_a_person(api, USER, "my employer keeps my passport", ref=1)
    answered_by_the_bot(api, USER)  # once: the next message is the bot's to answer again
    # Nothing is kept per chat for chats that only write (it would grow with every user, for good).
    for chat in range(500, 540):
        api.push_text(chat, "What is the Amina app?", language_code="en")
    for chat in range(500, 540):
        api.wait_for_sent(chat_id=chat)
    assert runner.on_loop(lambda: dict(runner.app.chat_data)) == {}
    assert runner.on_loop(lambda: dict(runner.app.bot_data["services"].awaiting_human)) == {}


def test_a_question_for_a_person_is_passed_on_as_asked_with_the_faq_entries_nearest_it(api: FakeBotAPI, run_bot: Any) -> None:
    """Asked for a person, the user is not told the bot has no answer (it
    may have one), and the operator sees the entries that might answer."""
    run_bot()
    asks_for_a_person(api, USER)
    mark = api.checkpoint()
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    post = last_to(api, OPERATORS, since=mark)
    assert "\nFAQ: ban-check (" in post["text"]
    told = last_to(api, USER, since=mark)["text"]
    assert told == "I have passed your question to a person, who will answer here.\n\nReference: #1"
    # A known out-of-scope subject among them is marked: it has no answer to give.
    mark = api.checkpoint()
    api.push_text(USER, "/human", language_code="en")
    api.wait_for_sent(lambda m: m["text"].startswith("Write your question in one message"), chat_id=USER, since=mark)
    mark = api.checkpoint()
    api.push_text(USER, "how do I send money home to my mother", language_code="en")
    assert ", out of scope)" in last_to(api, OPERATORS, since=mark)["text"].split("\nFAQ: ")[1].split("\n")[0]


def test_a_request_for_a_person_outlives_a_restart_for_a_day(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """/human, a restart, then the question: it still goes to a person, once.
    A request older than a day is a new conversation's business."""
    runner = run_bot()
    asks_for_a_person(api, USER)
    runner.stop()
    other = USER + 1
    store = Store(db_path)
    store.set_awaiting_human(other, other, dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))
    store.close()

    run_bot()
    goes_to_a_person(api, USER, "my employer keeps my passport", ref=1)
    answered_by_the_bot(api, other)
    answered_by_the_bot(api, USER)
    db = sqlite_utils.Database(db_path)
    assert list(db.query("select * from awaiting_human where chat_id = ?", [USER])) == []


def test_handoff_survives_api_failure_and_restart(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    api.fail("sendMessage", status=500, times=1000, chat_id=OPERATORS)
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    assert last_to(api, USER)["text"].startswith("У меня нет проверенного ответа")
    api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == OPERATORS)
    runner.stop()
    db = sqlite_utils.Database(db_path)
    pending = list(db.query("select * from outbox where status = 'pending'"))
    assert len(pending) == 1 and pending[0]["attempts"] >= 1
    assert api.sent_messages(OPERATORS) == []

    api.clear_failures()
    run_bot()
    post = api.wait_for_sent(chat_id=OPERATORS)[0]
    assert post["text"].startswith("❓ #1")
    api.push_text(USER, "/help", language_code="ru")  # the bot keeps going
    api.wait_for_sent(chat_id=USER, count=2)
    assert len(api.sent_messages(OPERATORS)) == 1


def test_user_reply_survives_429(api: FakeBotAPI, run_bot: Any) -> None:
    api.fail("sendMessage", status=429, retry_after=1, times=1, chat_id=USER)
    run_bot()
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    reply = api.wait_for_sent(chat_id=USER, timeout=8)[0]
    assert "📚 Источники" in reply["text"]
    attempts = [c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == USER]
    assert attempts[0].status == 429 and attempts[-1].status == 200
    assert attempts[-1].time - attempts[0].time >= 0.9


def test_blocked_user_is_not_retried(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.blocked_chats.add(USER)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Ответ", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_call("copyMessage", since=mark)
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert db["users"].get(USER)["blocked"] == 1
    assert [r["status"] for r in db.query("select status from outbox where kind = 'copy'")] == ["dropped"]
    assert len(api.calls_of("copyMessage")) == 1


def test_clarification_and_choice_are_logged(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    question = last_to(api, USER)
    choice = next(data for _, data in buttons(question) if data.startswith("e:"))
    mark = api.checkpoint()
    api.push_callback(USER, question["message_id"], choice)
    last_to(api, USER, since=mark)
    runner.stop()
    (row,) = sqlite_utils.Database(db_path)["clarifications"].rows
    assert row["text"] == "Амина?" and row["chosen"] == choice[2:] and row["message_id"] == question["message_id"]


def test_redelivered_update_is_not_answered_twice(api: FakeBotAPI, run_bot: Any) -> None:
    """Telegram re-delivers updates not confirmed before a crash."""
    runner = run_bot()
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    last_to(api, USER)
    runner.stop()
    (update,) = [u for u in api.updates if u.get("message", {}).get("chat", {}).get("id") == USER]
    api.push_update(update)  # the same update_id again
    run_bot()
    api.push_text(USER, "/help", language_code="ru")
    api.wait_for_sent(chat_id=USER, count=2)
    texts = [m["text"] for m in api.sent_messages(USER)]
    assert len(texts) == 2 and texts[1].startswith("Я отвечаю на частые вопросы")


def test_edits_are_not_new_messages(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An operator fixing a typo in an answer, or a user correcting a
    question already handed off, sends nothing a second time."""
    run_bot()
    question = api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    answer = api.push_text(OPERATORS, "Лучше черз банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_call("copyMessage")
    api.push_update({"edited_message": {**answer, "text": "Лучше через банк.", "edit_date": answer["date"] + 5}})
    api.push_update({"edited_message": {**question, "text": "какой курс доллара сегодня?", "edit_date": question["date"] + 5}})
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code="ru")  # handled after the edits
    last_to(api, USER, since=mark)
    db = sqlite_utils.Database(db_path)
    assert [r["kind"] for r in db.query("select kind from outbox where kind in ('copy', 'operator_post')")] == ["operator_post", "copy"]
    assert db["questions"].count == 1


def test_a_user_back_after_blocking_the_bot_gets_operators_answers_again(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """A refused send marks the user blocked, and queued answers are dropped;
    their /start (Telegram's Restart button) or Telegram's notice that they
    unblocked the bot makes them reachable again, its notice that they
    blocked it marks them at once."""
    run_bot()
    db = sqlite_utils.Database(db_path)

    def blocked() -> int:
        return sum(row["blocked"] for row in db.query("select blocked from users where chat_id = ?", [USER]))

    def after_the_next_update() -> int:
        """`blocked()` once an update sent after this user's is handled
        (another user's: one of theirs would itself count as being back)."""
        mark = api.checkpoint()
        api.push_text(USER + 1, "/help", language_code="ru")
        last_to(api, USER + 1, since=mark)
        return blocked()

    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.blocked_chats.add(USER)
    api.push_text(OPERATORS, "Ответ 1", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_call("copyMessage", predicate=lambda c: c.status == 403)
    for _ in range(100):  # the outbox marks the user once Telegram has refused
        if blocked():
            break
        time.sleep(0.05)
    assert blocked() == 1
    api.blocked_chats.discard(USER)
    mark = api.checkpoint()
    api.push_text(USER, "/start", language_code="ru")
    last_to(api, USER, since=mark)
    assert blocked() == 0
    api.push_text(OPERATORS, "Ответ 2", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert api.wait_for_call("copyMessage", since=mark, predicate=lambda c: c.status == 200)[0].params["chat_id"] == USER

    def member_update(status: str, old: str) -> None:
        user = {"id": USER, "is_bot": False, "first_name": "User"}
        bot = {"id": 1, "is_bot": True, "first_name": "Jardam", "username": "jardam_bot"}
        api.push_update(
            {
                "my_chat_member": {
                    "chat": {"id": USER, "type": "private", "first_name": "User"},
                    "from": user,
                    "date": 1_700_000_000,
                    "old_chat_member": {"user": bot, "status": old, **({"until_date": 0} if old == "kicked" else {})},
                    "new_chat_member": {"user": bot, "status": status, **({"until_date": 0} if status == "kicked" else {})},
                }
            }
        )

    member_update("kicked", "member")
    assert after_the_next_update() == 1
    member_update("member", "kicked")
    assert after_the_next_update() == 0


def test_a_button_is_answered_in_the_language_it_was_offered_in(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    """Telegram in Russian, a question in Kyrgyz typed in Latin letters: the
    "did you mean" comes in Kyrgyz, and so does the answer to the choice."""
    run_bot()
    api.push_text(USER, "zapret barby", language_code="ru")
    clarify = last_to(api, USER)
    assert clarify["text"].startswith("Булардын кайсынысын")
    choice = next(data for _, data in buttons(clarify) if data.startswith("e:"))
    mark = api.checkpoint()
    api.push_callback(USER, clarify["message_id"], choice)
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries[choice[2:]].answer["ky"][:40])


def test_an_operators_answer_handled_just_before_a_crash_is_not_copied_again(
    api: FakeBotAPI, run_bot: Any, db_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot dies after queueing an operator's answer (or a user's
    follow-up post) and before its last step, marking the update handled:
    the next start replays what the inbox still holds, and must not queue
    them again."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    marked = Store.mark_update_handled
    crash_before_marking: set[int] = set()
    monkeypatch.setattr(Store, "mark_update_handled", lambda store, update_id: None if update_id in crash_before_marking else marked(store, update_id))
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    crash_before_marking.add(api.updates[-1]["update_id"])
    copied = last_to(api, USER, since=mark)
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅ #1"))  # linked by then
    api.push_text(USER, "а какой банк?", language_code="ru", reply_to_message_id=copied["message_id"])
    crash_before_marking.add(api.updates[-1]["update_id"])
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("💬 #1"))
    runner.stop()
    monkeypatch.setattr(Store, "mark_update_handled", marked)

    run_bot()  # replays the inbox
    mark = api.checkpoint()
    api.push_text(USER + 1, "/help", language_code="ru")  # handled after the replay
    last_to(api, USER + 1, since=mark)
    db = sqlite_utils.Database(db_path)
    assert list(db.query("select kind, chat_id from outbox where chat_id != ? order by id", [USER + 1])) == [
        {"kind": "operator_post", "chat_id": OPERATORS},  # the question
        {"kind": "copy", "chat_id": USER},  # the answer, once
        {"kind": "text", "chat_id": OPERATORS},  # "✅ #1: sent to the user."
        {"kind": "operator_post", "chat_id": OPERATORS},  # the follow-up, once
        {"kind": "text", "chat_id": USER},  # the user told it was sent
    ]


def test_the_topics_button_under_a_message_that_is_no_menu_sends_the_menu_as_a_new_message(api: FakeBotAPI, run_bot: Any) -> None:
    """"Topics" under the /human confirmation (or /help) edited that message
    into the menu: its text, the question's reference with it, was gone."""
    run_bot()
    api.push_text(USER, "/human my employer keeps my passport", language_code="en")
    confirmation = last_to(api, USER)
    api.push_text(USER, "/help", language_code="en")
    helped = last_to(api, USER, count=2)
    for message in (confirmation, helped):
        assert ("Topics", "T:en") in buttons(message)
        mark = api.checkpoint()
        api.push_callback(USER, message["message_id"], "T:en", language_code="en")
        menu = last_to(api, USER, since=mark)
        assert menu["text"] == "Choose a topic:" and ("Entry bans", "t:bans:en") in buttons(menu)
        assert api.message(USER, message["message_id"])["text"] == message["text"]
        assert api.calls_of("editMessageText") == []
    assert "Reference: #1" in api.message(USER, confirmation["message_id"])["text"]
    # The menu itself is browsed in place, as before.
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], "t:bans:en", language_code="en")
    api.wait_for_call("editMessageText", since=mark)
    api.push_callback(USER, menu["message_id"], "T:en", language_code="en")
    api.wait_for_call("editMessageText", count=2, since=mark)
    assert api.message(USER, menu["message_id"])["text"] == "Choose a topic:"
    assert api.sent_messages(USER, since=mark) == []


def test_the_language_choice_says_what_it_changes(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    """Choosing English was confirmed "I will answer in English", and the
    next question, in Russian, was answered in Russian (as a question is, in
    its own language): the confirmation says so now."""
    run_bot()
    api.push_text(USER, "/start", language_code="ru")
    greeting = last_to(api, USER)
    mark = api.checkpoint()
    api.push_callback(USER, greeting["message_id"], "l:en")
    assert last_to(api, USER, since=mark)["text"] == (
        "I will reply in English when your message does not show its language; "
        "questions are answered in the language they are written in. Write your question, or open /topics."
    )
    mark = api.checkpoint()
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith(engine.faq.entries["ban-check"].answer["ru"][:40])
    mark = api.checkpoint()
    api.push_text(USER, "🙏🙏🙏", language_code="ru")  # no language of its own: the chosen one
    assert last_to(api, USER, since=mark)["text"].startswith("Please write your question in words")


def test_an_answer_from_the_topics_menu_comes_in_the_menus_language(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    """Telegram in Russian, no /lang, a greeting in Kyrgyz: the reply and its
    "Темалар" button are Kyrgyz, and so is the whole menu; the answer had
    come in Russian, its language read off the pressed message's text, a
    topic's title ("Сахарово"), too short to tell."""
    run_bot()
    api.push_text(USER, "саламатсызбы", language_code="ru")
    hello = last_to(api, USER)
    topics = next(data for label, data in buttons(hello) if label == "Темалар")
    mark = api.checkpoint()
    api.push_callback(USER, hello["message_id"], topics)
    menu = last_to(api, USER, since=mark)  # a new message: the greeting is no menu
    assert menu["text"] == "Теманы тандаңыз:"
    sakharovo = next(data for label, data in buttons(menu) if label == engine.faq.topic("sakharovo").title["ky"])
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], sakharovo)
    api.wait_for_call("editMessageText", since=mark)
    entries = api.message(USER, menu["message_id"])
    assert entries["text"] == engine.faq.topic("sakharovo").title["ky"]
    entry = next(data for _, data in buttons(entries) if data.startswith("e:"))
    entry_id = entry.split(":")[1]
    assert all(len(data.encode()) <= 64 for _, data in buttons(entries))
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], entry)
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries[entry_id].answer["ky"][:40])
    # Back to the topics from there: still Kyrgyz.
    mark = api.checkpoint()
    api.push_callback(USER, menu["message_id"], next(data for _, data in buttons(entries) if data.startswith("T:")))
    api.wait_for_call("editMessageText", since=mark)
    assert [label for label, _ in buttons(api.message(USER, menu["message_id"]))] == [label for label, _ in buttons(menu)]


def test_menu_buttons_sent_before_they_carried_a_language_still_work(api: FakeBotAPI, run_bot: Any, engine: Any) -> None:
    run_bot()
    api.push_text(USER, "/topics", language_code="en")
    menu = last_to(api, USER)
    for data in ("T:", "t:bans", "e:ban-check"):
        api.push_callback(USER, menu["message_id"], data, language_code="en", force=True)
    answer = api.wait_for_sent(chat_id=USER, predicate=lambda m: "📚" in m.get("text", ""))[0]
    assert answer["text"].startswith(engine.faq.entries["ban-check"].answer["en"][:40])


def test_a_double_tap_on_topics_under_an_answer_sends_one_menu(api: FakeBotAPI, run_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Topics" under a message that is no menu sends the menu anew, and a
    quick double tap sent it twice.  The second press is answered (its
    spinner stops) and sends nothing; a press a while later sends again."""
    runner = run_bot()
    api.push_text(USER, "/help", language_code="en")
    helped = last_to(api, USER)
    mark = api.checkpoint()
    for _ in range(2):
        api.push_callback(USER, helped["message_id"], "T:en", language_code="en")
    assert last_to(api, USER, since=mark)["text"] == "Choose a topic:"
    answered = api.wait_for_call("answerCallbackQuery", count=2, since=mark)
    assert all(call.ok for call in answered)
    time.sleep(0.5)  # a second menu would have been sent by now
    assert [m["text"] for m in api.sent_messages(USER, since=mark)] == ["Choose a topic:"]
    assert api.calls_of("editMessageText") == []
    # Kept for a few seconds only: a later tap is a new wish for the menu.
    monkeypatch.setattr("bot.telegram_app.MENU_SENT_KEPT_S", 0.0)
    mark = api.checkpoint()
    api.push_callback(USER, helped["message_id"], "T:en", language_code="en")
    assert last_to(api, USER, since=mark)["text"] == "Choose a topic:"
    assert runner.on_loop(lambda: len(runner.app.bot_data["services"].menus_sent)) == 1  # the old one let go
