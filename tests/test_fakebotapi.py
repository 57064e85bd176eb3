"""Tests for the fake Bot API server, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.request
import warnings

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.fakebotapi import FakeBotAPI

TOKEN = "123456:TEST-token_for_FakeBotAPI"
CHAT = 4242


@pytest.fixture
def api():
    server = FakeBotAPI(token=TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_bot(api: FakeBotAPI, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=api.base_url, base_file_url=api.base_file_url)


def run(coro):
    return asyncio.run(coro)


def raw_post(api: FakeBotAPI, method: str, body: bytes = b"", content_type: str | None = None,
             token: str = TOKEN, timeout: float = 5):
    req = urllib.request.Request(f"{api.base_url}{token}/{method}", data=body, method="POST")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# --------------------------------------------------------------------------- basics


def test_get_me_via_bot(api):
    async def main():
        async with make_bot(api) as bot:
            return await bot.get_me()

    me = run(main())
    assert me.id == 999
    assert me.username == "jardam_test_bot"
    assert me.is_bot
    assert TOKEN in api.token_seen
    assert api.calls_of("getMe") and all(c.status == 200 for c in api.calls_of("getMe"))
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"


def test_send_message_with_inline_keyboard_is_recorded_decoded(api):
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Да", callback_data="yes"),
          InlineKeyboardButton("Сайт", url="https://example.org")]]
    )

    async def main():
        async with make_bot(api) as bot:
            return await bot.send_message(CHAT, "Привет!", reply_markup=markup)

    msg = run(main())
    assert msg.text == "Привет!"
    assert msg.reply_markup == markup
    (call,) = api.calls_of("sendMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Да", "callback_data": "yes"},
                             {"text": "Сайт", "url": "https://example.org"}]]
    }
    assert isinstance(call.raw_params["reply_markup"], str)  # JSON string inside the form
    (sent,) = api.sent_messages(CHAT)
    assert sent["message_id"] == msg.message_id
    assert sent["text"] == "Привет!"
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert sent["from"]["id"] == 999


def test_message_ids_are_shared_per_chat(api):
    api.push_text(CHAT, "hi")  # message 1

    async def main():
        async with make_bot(api) as bot:
            a = await bot.send_message(CHAT, "one")
            b = await bot.send_message(CHAT + 1, "other chat")
            return a, b

    a, b = run(main())
    api.push_text(CHAT, "again")
    assert (a.message_id, b.message_id) == (2, 1)
    assert [m["message_id"] for m in api.chat_history(CHAT)] == [1, 2, 3]


# --------------------------------------------------------------------------- long polling


def test_get_updates_long_polling_offset_and_timeout(api):
    pushed = api.push_text(CHAT, "/start ref_1")

    async def main():
        async with make_bot(api) as bot:
            t0 = time.monotonic()
            updates = await bot.get_updates(timeout=5)
            first_took = time.monotonic() - t0
            confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
            t0 = time.monotonic()
            empty = await bot.get_updates(timeout=1)
            empty_took = time.monotonic() - t0
            return updates, first_took, confirmed, empty, empty_took

    updates, first_took, confirmed, empty, empty_took = run(main())
    assert first_took < 1  # an update was waiting: no blocking
    (update,) = updates
    assert update.update_id == api.updates[0]["update_id"] == 100
    assert update.message.message_id == pushed["message_id"]
    assert update.message.text == "/start ref_1"
    assert update.message.from_user.language_code == "ru"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert confirmed == ()
    assert api.pending_updates() == []
    assert empty == ()
    assert 0.9 <= empty_took < 2.0


def test_long_poll_wakes_immediately_on_new_update(api):
    def push_later():
        time.sleep(0.3)
        api.push_text(CHAT, "late")

    async def main():
        async with make_bot(api) as bot:
            threading.Thread(target=push_later, daemon=True).start()
            t0 = time.monotonic()
            updates = await bot.get_updates(timeout=10)
            return updates, time.monotonic() - t0

    updates, took = run(main())
    assert [u.message.text for u in updates] == ["late"]
    assert 0.25 <= took < 1.5


def test_get_updates_limit_negative_offset_and_allowed_updates(api):
    for i in range(5):
        api.push_text(CHAT, f"m{i}")
    api.push_update({"message_reaction": {
        "chat": {"id": CHAT, "type": "private", "first_name": "x"}, "message_id": 1,
        "date": int(time.time()), "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "👍"}]}})

    async def main():
        async with make_bot(api) as bot:
            two = await bot.get_updates(limit=2)
            last_three = await bot.get_updates(offset=-3)  # forgets older ones
            again = await bot.get_updates()
            with_reactions = await bot.get_updates(allowed_updates=["message", "message_reaction"])
            return two, last_three, again, with_reactions

    two, last_three, again, with_reactions = run(main())
    assert [u.message.text for u in two] == ["m0", "m1"]
    # message_reaction is not delivered by default (like Telegram)
    assert [u.message.text for u in last_three] == ["m3", "m4"]
    assert [u.message.text for u in again] == ["m3", "m4"]
    assert with_reactions[-1].message_reaction is not None


def test_newer_get_updates_terminates_older_one_with_conflict(api):
    async def main():
        async with make_bot(api) as bot:
            old = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.to_thread(api.wait_for_polling)
            t0 = time.monotonic()
            async with make_bot(api) as other:
                newer = await other.get_updates(timeout=0)
            with pytest.raises(Conflict, match="terminated by other getUpdates"):
                await old
            return newer, time.monotonic() - t0

    newer, took = run(main())
    assert newer == ()
    assert took < 2


def test_stop_releases_waiting_long_poll_promptly():
    api = FakeBotAPI().start()
    result = {}

    def poll():
        result["answer"] = raw_post(api, "getUpdates", b"timeout=30",
                                    "application/x-www-form-urlencoded", timeout=10)

    thread = threading.Thread(target=poll)
    thread.start()
    api.wait_for_polling(timeout=2)
    t0 = time.monotonic()
    api.stop()
    thread.join(3)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < 1.5
    assert result["answer"] == (200, {"ok": True, "result": []})


# --------------------------------------------------------------------------- errors


def test_held_responses_wait_for_release_and_others_do_not(api):
    release = api.hold("getMe")
    answered = []
    worker = threading.Thread(target=lambda: answered.append(raw_post(api, "getMe")))
    worker.start()
    api.wait_for_call("getMe")  # handled and recorded at once...
    status, body = raw_post(api, "getWebhookInfo")  # ...and the server keeps serving others
    assert status == 200 and body["ok"]
    time.sleep(0.2)
    assert answered == []  # ...but its answer waits
    release.set()
    worker.join(5)
    assert answered and answered[0][0] == 200 and answered[0][1]["result"]["is_bot"]


# PTB 22.8 warns (PTBDeprecationWarning) inside RetryAfter.__init__ unless PTB_TIMEDELTA=1;
# with the project's filterwarnings=error that warning would replace the RetryAfter.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_fail_429_raises_retry_after(api):
    api.fail("sendMessage", status=429, retry_after=1)

    async def main():
        async with make_bot(api) as bot:
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(CHAT, "flood")
            ok = await bot.send_message(CHAT, "after")  # only one failure was armed
            return info.value, ok

    err, ok = run(main())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert err.retry_after in (1, dtm.timedelta(seconds=1))
    assert ok.text == "after"
    failed, succeeded = api.calls_of("sendMessage")
    assert failed.status == 429
    assert failed.response == {"ok": False, "error_code": 429,
                               "description": "Too Many Requests: retry after 1",
                               "parameters": {"retry_after": 1}}
    assert succeeded.status == 200
    assert [m["text"] for m in api.sent_messages()] == ["after"]


def test_403_raises_forbidden_and_blocked_chats(api):
    api.fail("sendMessage", status=403, chat_id=CHAT)
    api.blocked_chats.add(777)

    async def main():
        async with make_bot(api) as bot:
            other = await bot.send_message(CHAT + 1, "not affected by chat-specific failure")
            with pytest.raises(Forbidden, match="bot was blocked by the user"):
                await bot.send_message(CHAT, "x")
            for _ in range(2):
                with pytest.raises(Forbidden, match="blocked"):
                    await bot.send_message(777, "x")
            with pytest.raises(Forbidden):
                await bot.send_chat_action(777, "typing")
            return other

    assert run(main()).text.startswith("not affected")
    assert [c.status for c in api.calls_of("sendMessage")] == [200, 403, 403, 403]


def test_500_raises_plain_network_error(api):
    api.fail("sendMessage", status=500, times=2)

    async def main():
        async with make_bot(api) as bot:
            errors = []
            for _ in range(2):
                try:
                    await bot.send_message(CHAT, "x")
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
            return errors

    errors = run(main())
    assert [type(e) for e in errors] == [NetworkError, NetworkError]
    assert "Internal Server Error" in str(errors[0])


def test_400_description_and_dropped_connection(api):
    api.fail("sendMessage", status=400, description="chat not found")
    api.fail("sendMessage", status=0)  # connection dropped without an answer

    async def main():
        async with make_bot(api) as bot:
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.send_message(CHAT, "x")
            with pytest.raises(NetworkError) as info:
                await bot.send_message(CHAT, "x")
            return info.value

    err = run(main())
    assert not isinstance(err, BadRequest)
    assert [c.status for c in api.calls_of("sendMessage")] == [400, 0]


def test_unknown_method_and_wrong_token(api):
    async def main():
        async with make_bot(api) as bot:
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
        with pytest.raises(InvalidToken):
            async with make_bot(api, token="999:wrong") as bot:
                await bot.get_me()

    run(main())
    assert api.calls_of("sendTelepathy")[0].status == 404
    assert api.calls_of("sendTelepathy")[0].response["description"] == (
        "Not Found: method not found")
    assert "999:wrong" in api.token_seen
    assert api.calls[-1].status == 401


def test_fail_rate_is_reproducible():
    def statuses(seed):
        with FakeBotAPI() as api:
            api.fail_rate(["sendMessage"], 0.5, statuses=(500, 429), seed=seed)
            for _ in range(20):
                raw_post(api, "sendMessage", b"chat_id=1&text=x",
                         "application/x-www-form-urlencoded")
            raw_post(api, "getMe")
            return [c.status for c in api.calls]

    first, again = statuses(7), statuses(7)
    assert first == again
    assert first[-1] == 200  # getMe not affected
    assert {500, 429, 200} <= set(first[:-1])


# --------------------------------------------------------------------------- wire formats


def test_raw_json_form_and_case_insensitive_methods(api):
    status, body = raw_post(
        api, "SENDMESSAGE",
        json.dumps({"chat_id": CHAT, "text": "json body",
                    "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}}
                   ).encode(),
        "application/json",
    )
    assert status == 200 and body["ok"] and body["result"]["text"] == "json body"
    status, body = raw_post(api, "getMe")
    assert status == 200 and body["result"]["username"] == "jardam_test_bot"
    status, body = raw_post(api, "sendMessage", b"chat_id=1&text=%5B1%2C2%5D",
                            "application/x-www-form-urlencoded")
    assert body["result"]["text"] == "[1,2]"  # text params are never JSON-decoded
    first = api.calls[0]
    assert first.method == "sendMessage" and first.content_type == "application/json"
    assert first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "1"
    status, body = raw_post(api, "sendMessage", b"chat_id=1", "application/x-www-form-urlencoded")
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")


def test_files_upload_and_download(api):
    voice = api.push_voice(CHAT, content=b"OggS-fake-voice")

    async def main():
        async with make_bot(api) as bot:
            tg_file = await bot.get_file(voice["voice"]["file_id"])
            data = await tg_file.download_as_bytearray()
            photo = await bot.send_photo(CHAT, b"\x89PNG-bytes", caption="<i>cap</i>",
                                         parse_mode="HTML", filename="pic.png")
            doc = await bot.send_document(CHAT, b"%PDF-1.4 hi", filename="report.pdf")
            by_id = await bot.send_document(CHAT, doc.document.file_id)
            return data, photo, doc, by_id

    data, photo, doc, by_id = run(main())
    assert bytes(data) == b"OggS-fake-voice"
    assert photo.caption == "cap" and photo.caption_entities[0].type == "italic"
    assert photo.photo[-1].file_id
    assert doc.document.file_name == "report.pdf"
    send_photo = api.calls_of("sendPhoto")[0]
    assert send_photo.content_type == "multipart/form-data"
    assert send_photo.files["photo"].data == b"\x89PNG-bytes"
    assert send_photo.params["chat_id"] == CHAT
    assert by_id.document.file_size == len(b"%PDF-1.4 hi")
    assert [m.get("caption") for m in api.sent_messages(CHAT)] == ["cap", None, None]


# --------------------------------------------------------------------------- content semantics


def test_html_parse_mode_entities_and_errors(api):
    async def main():
        async with make_bot(api) as bot:
            msg = await bot.send_message(
                CHAT, '  <b>Жирный</b> &amp; <a href="https://t.me/x">ссылка</a> 😀<i>i</i>\n',
                parse_mode="HTML")
            with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
                await bot.send_message(CHAT, "<br>", parse_mode="HTML")
            with pytest.raises(BadRequest, match="(?i)can.t find end tag"):
                await bot.send_message(CHAT, "<b>open", parse_mode="HTML")
            with pytest.raises(BadRequest):
                await bot.send_message(CHAT, "1 < 2", parse_mode="HTML")
            plain = await bot.send_message(CHAT, "1 < 2 <b>")  # no parse_mode: verbatim
            return msg, plain

    msg, plain = run(main())
    assert msg.text == "Жирный & ссылка 😀i"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds == [("bold", 0, 6), ("text_link", 9, 6), ("italic", 18, 1)]  # UTF-16 offsets
    assert msg.entities[1].url == "https://t.me/x"
    assert plain.text == "1 < 2 <b>"
    assert [c.status for c in api.calls_of("sendMessage")] == [200, 400, 400, 400, 200]


def test_commands_per_scope_and_language(api):
    async def main():
        async with make_bot(api) as bot:
            await bot.set_my_commands([BotCommand("start", "Начать"), BotCommand("help", "Помощь")])
            await bot.set_my_commands([BotCommand("start", "Бастау")], language_code="kk")
            await bot.set_my_commands([BotCommand("admin", "Admin")],
                                      scope=BotCommandScopeChat(CHAT))
            default = await bot.get_my_commands()
            kazakh = await bot.get_my_commands(language_code="kk")
            chat = await bot.get_my_commands(scope=BotCommandScopeChat(CHAT))
            private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
            await bot.delete_my_commands(language_code="kk")
            kazakh_after = await bot.get_my_commands(language_code="kk")
            with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
                await bot.set_my_commands([BotCommand("Bad-Name", "x")])
            return default, kazakh, chat, private, kazakh_after

    default, kazakh, chat, private, kazakh_after = run(main())
    assert [c.command for c in default] == ["start", "help"]
    assert [c.description for c in kazakh] == ["Бастау"]
    assert [c.command for c in chat] == ["admin"]
    assert private == () and kazakh_after == ()
    assert api.commands(language_code="") == [{"command": "start", "description": "Начать"},
                                              {"command": "help", "description": "Помощь"}]
    assert api.calls_of("setMyCommands")[0].params["commands"][0] == {
        "command": "start", "description": "Начать"}


def test_callback_edit_flow_and_telegram_errors(api):
    async def main():
        async with make_bot(api) as bot:
            kb = InlineKeyboardMarkup([[InlineKeyboardButton("Дальше", callback_data="next")]])
            sent = await bot.send_message(CHAT, "Шаг 1", reply_markup=kb)
            query = api.push_callback(CHAT, sent.message_id, "next")
            with pytest.raises(ValueError):
                api.push_callback(CHAT, sent.message_id, "no-such-button")
            (update,) = await bot.get_updates()
            cq = update.callback_query
            assert cq.data == "next" and cq.message.message_id == sent.message_id
            assert cq.id == query["id"]
            assert await bot.answer_callback_query(cq.id, text="ok")
            with pytest.raises(BadRequest, match="(?i)query is too old"):
                await bot.answer_callback_query(cq.id)
            edited = await bot.edit_message_text("Шаг 2", chat_id=CHAT,
                                                 message_id=sent.message_id)
            with pytest.raises(BadRequest, match="(?i)not modified"):
                await bot.edit_message_text("Шаг 2", chat_id=CHAT, message_id=sent.message_id)
            with pytest.raises(BadRequest, match="(?i)not found"):
                await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
            user_msg = api.push_text(CHAT, "user text")
            with pytest.raises(BadRequest, match="(?i)can.t be edited"):
                await bot.edit_message_text("x", chat_id=CHAT, message_id=user_msg["message_id"])
            with_kb = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=kb)
            await bot.delete_message(CHAT, user_msg["message_id"])
            return sent, edited, with_kb, user_msg

    sent, edited, with_kb, user_msg = run(main())
    assert edited.text == "Шаг 2" and edited.reply_markup is None  # edit without markup drops it
    assert edited.edit_date is not None
    assert with_kb.reply_markup.inline_keyboard[0][0].callback_data == "next"
    (current,) = api.sent_messages(CHAT)
    assert current["text"] == "Шаг 2" and "reply_markup" in current
    assert [m["message_id"] for m in api.chat_history(CHAT)] == [sent.message_id]
    assert list(api.callback_answers.values())[0]["text"] == "ok"


def test_replies_copy_forward_and_reply_keyboard(api):
    question = api.push_text(CHAT, "вопрос")

    async def main():
        async with make_bot(api) as bot:
            reply = await bot.send_message(
                CHAT, "ответ", reply_parameters=ReplyParameters(question["message_id"]),
                reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Меню")]], resize_keyboard=True))
            copied = await bot.copy_message(CHAT + 1, CHAT, question["message_id"])
            forwarded = await bot.forward_message(CHAT + 1, CHAT, question["message_id"])
            with pytest.raises(BadRequest, match="(?i)message to copy not found"):
                await bot.copy_message(CHAT + 1, CHAT, 12345)
            with pytest.raises(BadRequest, match="(?i)replied not found"):
                await bot.send_message(CHAT, "x", reply_parameters=ReplyParameters(12345))
            with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
                await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("long", callback_data="ы" * 33)]]))
            return reply, copied, forwarded

    reply, copied, forwarded = run(main())
    assert reply.reply_to_message.text == "вопрос"
    assert reply.reply_markup is None  # Telegram never echoes reply keyboards
    assert api.reply_keyboard(CHAT)["keyboard"][0][0]["text"] == "Меню"
    assert copied.message_id == 1
    assert forwarded.forward_origin.sender_user.id == CHAT
    sent = api.sent_messages(CHAT)
    assert sent[0]["reply_to_message_id"] == question["message_id"]
    assert [m["text"] for m in api.sent_messages(CHAT + 1)] == ["вопрос", "вопрос"]


def test_push_helpers_produce_parseable_updates(api):
    api.push_voice(CHAT, duration=7)
    api.push_photo(CHAT, caption="фото")
    api.push_sticker(CHAT)
    api.push_document(CHAT, file_name="a.txt", mime_type="text/plain", content=b"hello")
    api.push_location(CHAT)
    group_msg = api.push_text(-100123, "/help@jardam_test_bot", user_id=5, chat_type="supergroup",
                              language_code="kk")
    api.push_text(-100123, "re", user_id=6, chat_type="supergroup",
                  reply_to_message_id=group_msg["message_id"])

    async def main():
        async with make_bot(api) as bot:
            updates = await bot.get_updates()
            chat = await bot.get_chat(-100123)
            return updates, chat

    updates, chat = run(main())
    m = [u.message for u in updates]
    assert m[0].voice.to_dict()["duration"] == 7 and m[0].voice.mime_type == "audio/ogg"
    assert m[1].photo[-1].width == 1280 and m[1].caption == "фото"
    assert m[2].sticker.emoji == "👍"
    assert m[3].document.file_name == "a.txt"
    assert m[4].location.latitude == pytest.approx(43.238949)
    assert m[5].chat.type == "supergroup" and m[5].chat.title
    assert m[5].from_user.language_code == "kk"
    assert m[5].entities[0].length == len("/help@jardam_test_bot")
    assert m[6].reply_to_message.message_id == group_msg["message_id"]
    assert chat.id == -100123 and chat.type == "supergroup"


def test_wait_for_sent_times_out_with_dump(api):
    raw_post(api, "sendMessage", b"chat_id=1&text=hello", "application/x-www-form-urlencoded")
    mark = api.checkpoint()
    assert api.wait_for_sent(lambda m: m["text"] == "hello", timeout=0.1)
    t0 = time.monotonic()
    with pytest.raises(AssertionError) as info:
        api.wait_for_sent(chat_id=1, since=mark, timeout=0.3)
    assert 0.25 <= time.monotonic() - t0 < 1.5
    assert "sendMessage -> 200" in str(info.value)
    assert "hello" in str(info.value)


# --------------------------------------------------------------------------- Application


def test_application_polling_echo_and_clean_shutdown(api):
    async def main():
        app = (
            ApplicationBuilder().token(TOKEN).base_url(api.base_url)
            .base_file_url(api.base_file_url).build()
        )

        async def echo(update, context):
            await update.message.reply_text(update.message.text)

        async def start(update, context):
            await update.message.reply_text(
                "Выберите:", reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("A", callback_data="a")]]))

        async def button(update, context):
            await update.callback_query.answer()
            await update.callback_query.edit_message_text(f"Выбрано: {update.callback_query.data}")

        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(button))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))

        pushed = api.push_text(CHAT, "Сәлем!")
        (echoed,) = await asyncio.to_thread(
            api.wait_for_sent, lambda m: m["text"] == "Сәлем!", chat_id=CHAT)
        api.push_text(CHAT, "/start")
        (menu,) = await asyncio.to_thread(api.wait_for_sent, lambda m: "reply_markup" in m)
        api.push_callback(CHAT, menu["message_id"], "a")
        await asyncio.to_thread(api.wait_for_call, "editMessageText")

        t0 = time.monotonic()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        return pushed, echoed, time.monotonic() - t0

    pushed, echoed, shutdown_took = run(main())
    assert shutdown_took < 3
    assert echoed["chat"]["id"] == CHAT
    assert api.message(CHAT, echoed["message_id"] + 2)["text"] == "Выбрано: a"
    assert len(api.callback_answers) == 1
    methods = [c.method for c in api.calls]
    assert methods[0] == "getMe" and "deleteWebhook" in methods
    # PTB confirms processed updates with one last short getUpdates on stop
    polls = api.calls_of("getUpdates")
    last_poll = max(polls, key=lambda c: c.time)  # the cancelled long poll may be answered later
    assert last_poll.params["timeout"] == 0 and last_poll.status == 200
    assert last_poll.params["offset"] == api.updates[-1]["update_id"] + 1
    assert api.pending_updates() == []
    assert not any(c.status not in (200, 409) for c in api.calls), api.dump()
