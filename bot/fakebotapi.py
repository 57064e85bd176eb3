"""A fake Telegram Bot API server for offline tests, benchmarks and the stress run.

The server speaks enough of the Bot API over real HTTP (on 127.0.0.1) that the
real, unmodified python-telegram-bot can talk to it: point the bot at
:attr:`FakeBotAPI.base_url` (and :attr:`FakeBotAPI.base_file_url` for file
downloads) and drive the conversation from the test::

    with FakeBotAPI() as api:
        app = ApplicationBuilder().token("1:T").base_url(api.base_url).build()
        ...
        api.push_text(42, "/start")
        (reply,) = api.wait_for_sent(chat_id=42)

Only the standard library is used. Everything the bot sends is recorded as a
:class:`Call`; what a user would see is kept as message dicts (the very dicts
returned to the bot, kept up to date when the bot edits them).

Request handling mirrors the real Bot API where it matters to a bot:

* ``POST``/``GET`` on ``/bot<token>/<method>``; method names are
  case-insensitive; parameters come as query string, form-urlencoded,
  multipart/form-data or JSON bodies.
* Answers are ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": "..."}`` with the HTTP
  status equal to ``error_code`` (401 for a wrong token, 404 for unknown
  methods, 429 with ``parameters.retry_after``, ...).
* ``getUpdates`` does real long polling, honours ``offset``/``limit``/
  ``timeout``/``allowed_updates`` and answers an older, still waiting
  ``getUpdates`` with 409 Conflict when a newer one arrives (as Telegram does).
* ``parse_mode="HTML"`` is parsed like Telegram does (plain text + entities,
  400 "can't parse entities" on bad markup); leading/trailing whitespace of
  texts is trimmed like Telegram does. Markdown modes are stored verbatim.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "ApiError",
    "Call",
    "FakeBotAPI",
    "UploadedFile",
]

_LOG = logging.getLogger("fakebotapi")

JSONDict = dict[str, Any]

#: Parameters whose values are always kept as the raw string sent by the bot
#: (text-like values and string identifiers that may look like numbers).
STRING_PARAMS = frozenset(
    {
        "text", "caption", "callback_query_id", "inline_query_id", "shipping_query_id",
        "pre_checkout_query_id", "inline_message_id", "data", "url", "title", "description",
        "short_description", "name", "query", "file_id", "parse_mode", "action", "emoji",
        "custom_title", "secret_token", "business_connection_id", "message_effect_id",
        "question", "explanation", "address", "first_name", "last_name", "phone_number",
        "vcard", "language_code", "switch_pm_text", "switch_pm_parameter", "payload",
        "provider_token", "currency", "start_parameter", "result_id", "ip_address",
        "photo", "document", "voice", "audio", "video", "animation", "sticker", "video_note",
        "thumbnail", "certificate", "foursquare_id", "foursquare_type",
        "google_place_id", "google_place_type", "game_short_name", "error_message",
        "invite_link", "sticker_set_name", "gift_id", "prepared_message_id",
    }
)

#: Methods that "send to a chat" and therefore fail for :attr:`FakeBotAPI.blocked_chats`.
_SEND_PREFIXES = ("send", "copyMessage", "forwardMessage", "editMessage")

_INT_RE = re.compile(r"-?\d+\Z")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?\Z")

_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------- data classes


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:  # keep call dumps short
        return f"UploadedFile({self.field!r}, {self.filename!r}, {len(self.data)} bytes)"


@dataclass
class Call:
    """One HTTP request received by the fake server.

    ``params`` holds decoded parameters: JSON-looking strings (``reply_markup``,
    ``reply_parameters``, ``commands``, ``allowed_updates``, ...) are decoded to
    dicts/lists, numbers to ``int``/``float`` and ``true``/``false`` to ``bool``,
    except for text-like parameters (see :data:`STRING_PARAMS`). Uploaded files
    appear as :class:`UploadedFile` both in ``params`` and ``files``.
    ``time`` is the arrival time (``time.time()``); calls are appended to
    :attr:`FakeBotAPI.calls` when their answer is ready, so a long poll is listed
    when it returns.
    """

    method: str
    params: JSONDict
    time: float
    status: int = 200
    token: str = ""
    raw_params: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    content_type: str = ""
    http_method: str = "POST"
    response: Any = None
    index: int = -1

    @property
    def ok(self) -> bool:
        """Whether the call was answered with ``"ok": true``."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """The ``result`` returned to the bot (``None`` for failed calls)."""
        return self.response.get("result") if isinstance(self.response, dict) else None


class ApiError(Exception):
    """Raise from a method handler to answer with a Telegram-style error."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int | None
    description: str | None
    chat_id: int | str | None
    migrate_to_chat_id: int | None = None


@dataclass
class _Answer:
    """Result plus optional top-level description (e.g. "Webhook was set")."""

    result: Any
    description: str | None = None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


# --------------------------------------------------------------------------- HTML parse_mode

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _HTML_ENTITY_RE.sub(sub, text)


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Follows tdlib's parser closely enough for the errors a bot can hit
    (unsupported tag, unmatched/unclosed tags), raising :class:`ApiError` 400
    ``"Bad Request: can't parse entities: ..."``. Offsets are UTF-16 units.
    """

    def fail(msg: str) -> ApiError:
        return _bad("can't parse entities: " + msg)

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    out: list[str] = []
    out_len = 0  # utf-16 length of out
    stack: list[tuple[str, JSONDict, int]] = []
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            m = _HTML_ENTITY_RE.match(text, i)
            piece = _html_unescape(m.group(0)) if m else "&"
            i = m.end() if m else i + 1
            out.append(piece)
            out_len += _utf16_len(piece)
            continue
        if c != "<":
            out.append(c)
            out_len += _utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            end = text.find(">", i)
            if end < 0:
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            name = text[i + 1 : end].strip().lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            open_tag, open_attrs, start = stack[-1]
            if name and name != open_tag:
                raise fail(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected '
                    f'"</{open_tag}>", found "</{name}>"'
                )
            stack.pop()
            i = end + 1
            length = out_len - start
            if length <= 0:
                continue
            kind = _HTML_TAGS[open_tag]
            entity: JSONDict = {"type": kind, "offset": start, "length": length}
            if open_tag == "a":
                href = open_attrs.get("href", "")
                if not href:
                    continue  # <a> without href is just text
                entity["url"] = href
            elif open_tag == "tg-emoji":
                entity["custom_emoji_id"] = open_attrs.get("emoji-id", "")
            elif open_tag == "blockquote" and "expandable" in open_attrs:
                entity["type"] = "expandable_blockquote"
            elif open_tag == "pre":
                # <pre><code class="language-x">..</code></pre> -> pre with language
                for inner in entities:
                    if (
                        inner["type"] == "code"
                        and inner["offset"] == start
                        and inner["length"] == length
                        and inner.get("_language")
                    ):
                        entity["language"] = inner["_language"]
                        entities.remove(inner)
                        break
            elif open_tag == "code" and open_attrs.get("class", "").startswith("language-"):
                entity["_language"] = open_attrs["class"][len("language-") :]
            entities.append(entity)
            continue
        # start tag
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = text[i:j].lower()
        if name not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: JSONDict = {}
        i = j
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] == ">":
                i += 1
                break
            k = i
            while k < n and text[k] not in "= \t\r\n>":
                k += 1
            attr = text[i:k].lower()
            i = k
            value = ""
            if i < n and text[i] == "=":
                i += 1
                if i < n and text[i] in "\"'":
                    quote = text[i]
                    close = text.find(quote, i + 1)
                    if close < 0:
                        raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                    value = text[i + 1 : close]
                    i = close + 1
                else:
                    k = i
                    while k < n and not text[k].isspace() and text[k] != ">":
                        k += 1
                    value = text[i:k]
                    i = k
            if not attr:
                raise fail(f"Empty attribute name in the tag \"{name}\" at byte offset "
                           f"{byte_offset(begin)}")
            attrs[attr] = _html_unescape(value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise fail('Tag "span" must have class "tg-spoiler" at byte offset '
                       f"{byte_offset(begin)}")
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise fail(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                       f"{byte_offset(begin)}")
        stack.append((name, attrs, out_len))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _trim(text: str, entities: list[JSONDict] | None) -> tuple[str, list[JSONDict] | None]:
    """Trim surrounding whitespace like Telegram, shifting/clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    if not entities:
        return stripped, entities
    fixed = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, total)
        if end > start:
            fixed.append({**e, "offset": start, "length": end - start})
    return stripped, fixed


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeBotAPI):
        self.fake = fake
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like api.telegram.org
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        _LOG.debug("%s " + format, self.address_string(), *args)

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._serve(self)

    do_GET = do_POST

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, body: Any) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:  # client went away (e.g. cancelled long poll)
            self.close_connection = True

    def send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without answering (a network failure)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Parse ``type; a=1; b="x"`` into ``("type", {"a": "1", "b": "x"})``."""
    parts = re.findall(r'(?:[^;"]|"(?:\\.|[^"\\])*")+', value)
    main = parts[0].strip().lower() if parts else ""
    params: dict[str, str] = {}
    for part in parts[1:]:
        if "=" not in part:
            continue
        key, _, val = part.strip().partition("=")
        key = key.strip().lower()
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        if key.endswith("*"):  # RFC 5987: utf-8''name
            key = key[:-1]
            charset, _, rest = val.partition("'")
            val = unquote(rest.partition("'")[2], encoding=charset or "utf-8")
        params[key] = val
    return main, params


def _parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # closing delimiter
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, val = line.partition(":")
            headers[key.strip().lower()] = val.strip()
        _, disp = _parse_header_params(headers.get("content-disposition", ""))
        name = disp.get("name")
        if name is None:
            continue
        if "filename" in disp:
            files[name] = UploadedFile(
                name, disp["filename"], headers.get("content-type"), content
            )
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


def decode_params(raw: dict[str, Any]) -> JSONDict:
    """Decode wire parameters (all strings in form requests) into Python values."""
    out: JSONDict = {}
    for key, value in raw.items():
        if not isinstance(value, str) or key in STRING_PARAMS:
            out[key] = value
            continue
        stripped = value.strip()
        decoded: Any = value
        if stripped[:1] in ("{", "[") or stripped in ("true", "false", "null"):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                decoded = value
        elif _INT_RE.match(stripped):
            decoded = int(stripped)
        elif _FLOAT_RE.match(stripped):
            decoded = float(stripped)
        out[key] = decoded
    return out


# --------------------------------------------------------------------------- the server


class FakeBotAPI:
    """A fake Telegram Bot API served over HTTP on 127.0.0.1 in a daemon thread.

    Args:
        token: if given, requests with another token are answered 401 Unauthorized.
        username: the bot's username returned by ``getMe``.
        bot_id: the bot's user id.
        first_name: the bot's display name.
        strict_chats: if true, sending to a chat id never seen in an update (or
            registered via :meth:`add_chat`) fails with 400 "chat not found".
        check_buttons: if true, :meth:`push_callback` refuses callback data
            that the target message has no button for.
        first_update_id: update_id of the first injected update.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        username: str = "jardam_test_bot",
        bot_id: int = 999,
        first_name: str = "Jardam",
        strict_chats: bool = False,
        check_buttons: bool = True,
        first_update_id: int = 100,
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.first_name = first_name
        self.strict_chats = strict_chats
        self.check_buttons = check_buttons

        self._pending_sent_index: list[tuple[int, int]] = []  # stored by the current call
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._held: dict[str, threading.Event] = {}  # method (lower case) → its responses wait for this
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

        #: Every request, in the order it was answered.
        self.calls: list[Call] = []
        #: Tokens seen in request paths (``/bot<token>/...``).
        self.token_seen: set[str] = set()
        #: Chat ids for which every send/edit/copy/forward fails with 403.
        self.blocked_chats: set[int] = set()

        self._next_update_id = first_update_id
        self._inflight = 0  # requests being handled (for a graceful stop)
        self._waiting_polls = 0
        self._pending: list[JSONDict] = []  # unconfirmed updates
        self.updates: list[JSONDict] = []  # every update ever queued
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0

        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._msg_meta: dict[tuple[int, int], JSONDict] = {}  # sender, deleted, call index
        self._msg_counters: dict[int, int] = {}
        self._sent: list[tuple[int, int]] = []
        self._reply_keyboards: dict[int, JSONDict | None] = {}
        self._callback_ids = itertools.count(4_387_000_000_000_000_001)
        self._callbacks: dict[str, JSONDict] = {}
        #: callback_query_id -> answerCallbackQuery params, for answered queries.
        self.callback_answers: dict[str, JSONDict] = {}
        self._file_seq = itertools.count(1)
        self._files: dict[str, JSONDict] = {}
        self._file_paths: dict[str, bytes] = {}

        self._webhook: JSONDict = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int | None, JSONDict] = {}

        self._failures: dict[str, list[_Failure]] = {}
        self._fail_rate: tuple[frozenset[str], float, tuple[int, ...], random.Random] | None = None
        self._custom: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {}

        self._handlers: dict[str, Callable[[Call], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "sendChatAction": self._send_chat_action,
            "sendPhoto": self._send_media,
            "sendDocument": self._send_media,
            "sendVoice": self._send_media,
            "sendAudio": self._send_media,
            "sendVideo": self._send_media,
            "sendAnimation": self._send_media,
            "sendSticker": self._send_media,
            "sendLocation": self._send_location,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyDescription": self._set_bot_text,
            "setMyShortDescription": self._set_bot_text,
            "setMyName": self._set_bot_text,
            "getMyDescription": self._get_bot_text,
            "getMyShortDescription": self._get_bot_text,
            "getMyName": self._get_bot_text,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "close": lambda call: True,
            "logOut": lambda call: True,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._stopping = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotAPI:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; waiting long polls are answered at once, connections closed."""
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        with self._cond:  # let woken long polls and in-flight calls write their answers
            deadline = time.monotonic() + 1.0
            while self._inflight and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        server.drop_connections()  # idle keep-alive connections
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """API base URL for ``Bot(base_url=...)``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """File base URL for ``Bot(base_file_url=...)``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a ``User`` dict (as in ``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ------------------------------------------------------------------ extension / failures

    def register(self, method: str, handler: Callable[[JSONDict], Any]) -> None:
        """Implement (or override) ``method``: ``handler(params) -> result``.

        The handler runs with the server lock held; raise :class:`ApiError` to fail.
        """
        with self._lock:
            self._custom[method.lower()] = (method, handler)

    def hold(self, method: str) -> threading.Event:
        """Hold back the responses to ``method`` until the returned event is
        set: the calls are handled and recorded as usual, and the bot waits,
        as it would for a Telegram slow to answer (for races in the bot).
        Held requests do not keep the server's lock."""
        release = threading.Event()
        with self._lock:
            self._held[method.lower()] = release
        return release

    def fail(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail Telegram-style.

        ``method`` may be ``"*"`` for any method. With ``chat_id`` only calls for
        that chat count. ``status=0`` drops the connection without an answer
        (the client sees a network error). 429 answers carry
        ``parameters.retry_after`` (default 1). ``migrate_to_chat_id`` answers
        as Telegram does for a group upgraded to a supergroup (a 400 with
        ``parameters.migrate_to_chat_id``).
        """
        with self._lock:
            key = "*" if method == "*" else method.lower()
            self._failures.setdefault(key, []).append(
                _Failure(status, times, retry_after, description, chat_id, migrate_to_chat_id)
            )

    def fail_rate(
        self,
        methods: str | Iterable[str],
        rate: float,
        *,
        statuses: Iterable[int] = (500, 429),
        seed: int = 0,
    ) -> None:
        """Fail a random ``rate`` share of calls of ``methods`` (``"*"`` = all).

        Reproducible: uses ``random.Random(seed)``. ``rate=0`` switches it off.
        """
        names = [methods] if isinstance(methods, str) else list(methods)
        with self._lock:
            if rate <= 0:
                self._fail_rate = None
                return
            self._fail_rate = (
                frozenset("*" if m == "*" else m.lower() for m in names),
                rate,
                tuple(statuses),
                random.Random(seed),
            )

    def clear_failures(self) -> None:
        """Forget all pending :meth:`fail` rules and :meth:`fail_rate`."""
        with self._lock:
            self._failures.clear()
            self._fail_rate = None

    def _failure_body(self, f: _Failure) -> tuple[int, JSONDict]:
        status = f.status
        params = None
        if status == 429:
            retry = f.retry_after if f.retry_after is not None else 1
            desc = f.description or f"Too Many Requests: retry after {retry}"
            params = {"retry_after": retry}
        elif status == 400:
            desc = f.description or "Bad Request"
            if not desc.startswith("Bad Request"):
                desc = "Bad Request: " + desc
            if f.migrate_to_chat_id is not None:
                params = {"migrate_to_chat_id": f.migrate_to_chat_id}
        else:
            desc = f.description or {
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request; make sure that only "
                "one bot instance is running",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status) or _phrase(status)
        body: JSONDict = {"ok": False, "error_code": status, "description": desc}
        if params:
            body["parameters"] = params
        return status, body

    def _injected_failure(self, method: str, params: JSONDict) -> _Failure | None:
        chat = params.get("chat_id")
        for key in (method.lower(), "*"):
            rules = self._failures.get(key)
            if not rules:
                continue
            for rule in rules:
                if rule.chat_id is not None and str(rule.chat_id) != str(chat):
                    continue
                rule.times -= 1
                if rule.times <= 0:
                    rules.remove(rule)
                return rule
        if self._fail_rate is not None:
            names, rate, statuses, rng = self._fail_rate
            if ("*" in names or method.lower() in names) and rng.random() < rate:
                return _Failure(rng.choice(statuses), 1, None, None, None)
        return None

    # ------------------------------------------------------------------ request handling

    def _serve(self, req: _Handler) -> None:
        with self._cond:
            self._inflight += 1
        try:
            self._serve_request(req)
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()

    def _serve_request(self, req: _Handler) -> None:
        arrived = time.time()
        url = urlsplit(req.path)
        path = unquote(url.path)
        file_match = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
        if file_match:
            self._serve_file(req, file_match.group(1), file_match.group(2))
            return
        try:
            body = req.read_body()
        except (OSError, ValueError):
            req.drop()
            return
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if not match:
            req.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method_raw = match.groups()
        ctype_full = req.headers.get("Content-Type", "")
        ctype, cparams = _parse_header_params(ctype_full)
        raw: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        try:
            if ctype == "application/json" and body.strip():
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    raw.update(loaded)
            elif ctype == "multipart/form-data":
                fields, files = _parse_multipart(body, cparams.get("boundary", ""))
                raw.update(fields)
            elif body:
                raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        except ValueError:
            req.send_json(400, {"ok": False, "error_code": 400,
                                "description": "Bad Request: can't parse JSON"})
            return
        params = decode_params(raw)
        params.update(files)

        handler_name = self._canonical(method_raw)
        call = Call(
            method=handler_name or method_raw,
            params=params,
            time=arrived,
            token=token,
            raw_params={k: (v if isinstance(v, str) else json.dumps(v)) for k, v in raw.items()},
            files=files,
            content_type=ctype,
            http_method=req.command,
        )
        status, response = self._dispatch(call, handler_name)
        with self._lock:
            release = self._held.get(call.method.lower())
        if release is not None:
            release.wait(timeout=60)
        if status == 0:
            req.drop()
            return
        req.send_json(status, response)

    def _canonical(self, method: str) -> str | None:
        low = method.lower()
        for name in self._handlers:
            if name.lower() == low:
                return name
        if low in self._custom:
            return self._custom[low][0]
        return None

    def _dispatch(self, call: Call, handler_name: str | None) -> tuple[int, Any]:
        with self._cond:
            self.token_seen.add(call.token)
            if self.token is not None and call.token != self.token:
                return self._record(
                    call, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                )
            if handler_name is None:
                return self._record(
                    call,
                    404,
                    {"ok": False, "error_code": 404,
                     "description": "Not Found: method not found"},
                )
            failure = self._injected_failure(call.method, call.params)
            if failure is not None:
                if failure.status == 0:
                    return self._record(call, 0, None)
                return self._record(call, *self._failure_body(failure))
            try:
                if call.method.startswith(_SEND_PREFIXES):
                    self._check_blocked(call.params.get("chat_id"))
                custom = self._custom.get(call.method.lower())
                result = custom[1](call.params) if custom is not None else self._handlers[call.method](call)
            except ApiError as err:
                body: JSONDict = {"ok": False, "error_code": err.status,
                                  "description": err.description}
                if err.parameters:
                    body["parameters"] = err.parameters
                return self._record(call, err.status, body)
            except Exception as exc:  # a bug in the fake: answer 500, keep serving
                _LOG.exception("fake handler for %s crashed", call.method)
                return self._record(
                    call, 500, {"ok": False, "error_code": 500,
                                "description": f"Internal Server Error: fake crashed: {exc!r}"}
                )
            if isinstance(result, _Answer):
                response = {"ok": True, "result": result.result}
                if result.description:
                    response["description"] = result.description
            else:
                response = {"ok": True, "result": result}
            return self._record(call, 200, response)

    def _record(self, call: Call, status: int, response: Any) -> tuple[int, Any]:
        # lock held
        call.status = status
        call.response = copy.deepcopy(response)
        call.index = len(self.calls)
        for key in self._pending_sent_index:
            self._msg_meta[key]["call_index"] = call.index
        self._pending_sent_index.clear()
        self.calls.append(call)
        self._cond.notify_all()
        _LOG.debug("%s %s -> %s", call.method, call.params, status)
        return status, response

    def _serve_file(self, req: _Handler, token: str, file_path: str) -> None:
        with self._lock:
            self.token_seen.add(token)
            if self.token is not None and token != self.token:
                req.send_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            data = self._file_paths.get(file_path)
        if data is None:
            req.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        else:
            req.send_bytes(200, data, "application/octet-stream")

    # ------------------------------------------------------------------ chats, users, messages

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        **extra: Any,
    ) -> JSONDict:
        """Register (or update) a user; later injected updates use these fields."""
        with self._lock:
            user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False})
            user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
            if last_name is not None:
                user["last_name"] = last_name
            if username is not None:
                user["username"] = username
            if language_code is not None:
                user["language_code"] = language_code
            user.update(extra)
            return dict(user)

    def add_chat(self, chat_id: int, chat_type: str = "private", **fields: Any) -> JSONDict:
        """Register (or update) a chat. Groups get a ``title`` by default."""
        with self._lock:
            chat = self._chat(chat_id, chat_type)
            chat.update(fields)
            return dict(chat)

    def _user(self, user_id: int, language_code: str | None) -> JSONDict:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}",
                    "username": f"user{user_id}"}
            self._users[user_id] = user
        if language_code is not None:
            user["language_code"] = language_code
        else:
            user.pop("language_code", None)
        return dict(user)

    def _chat(self, chat_id: int, chat_type: str | None = None,
              user: JSONDict | None = None) -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat_type is None:
            chat_type = (chat or {}).get("type") or self._guess_type(chat_id)
        if chat is None or chat.get("type") != chat_type:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                source = user or self._users.get(chat_id) or {"first_name": f"User{chat_id}"}
                for key in ("first_name", "last_name", "username"):
                    if key in source:
                        chat[key] = source[key]
            else:
                chat["title"] = f"Test {chat_type} {chat_id}"
                if chat_type == "supergroup":
                    chat["is_forum"] = False
            self._chats[chat_id] = chat
        return chat

    @staticmethod
    def _guess_type(chat_id: int) -> str:
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

    def _resolve_chat(self, chat_id: Any, *, must_exist: bool | None = None) -> JSONDict:
        """The chat dict for a ``chat_id`` parameter (lock held)."""
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            if _INT_RE.match(chat_id.strip()):
                chat_id = int(chat_id)
            else:
                for chat in self._chats.values():
                    if chat_id.lstrip("@").lower() == str(chat.get("username", "")).lower():
                        return chat
                raise _bad("chat not found")
        if not isinstance(chat_id, int):
            raise _bad("chat not found")
        strict = self.strict_chats if must_exist is None else must_exist
        if strict and chat_id not in self._chats:
            raise _bad("chat not found")
        return self._chat(chat_id)

    def _check_blocked(self, chat_id: Any) -> None:
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            return
        if cid in self.blocked_chats:
            if cid > 0:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            kind = "supergroup" if str(cid).startswith("-100") else "group"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")

    def _next_message_id(self, chat_id: int) -> int:
        self._msg_counters[chat_id] = self._msg_counters.get(chat_id, 0) + 1
        return self._msg_counters[chat_id]

    def _store(self, message: JSONDict, *, by_bot: bool) -> JSONDict:
        key = (message["chat"]["id"], message["message_id"])
        self._messages[key] = message
        self._msg_meta[key] = {"by_bot": by_bot, "deleted": False, "call_index": -1}
        if by_bot:
            self._sent.append(key)
            self._pending_sent_index.append(key)
        return message

    def _find_message(self, chat_id: Any, message_id: Any, missing: str) -> JSONDict:
        try:
            key = (int(self._resolve_chat(chat_id, must_exist=False)["id"]), int(message_id))
        except (TypeError, ValueError):
            raise _bad(missing) from None
        msg = self._messages.get(key)
        if msg is None or self._msg_meta[key]["deleted"]:
            raise _bad(missing)
        return msg

    @staticmethod
    def _shallow_reply(msg: JSONDict) -> JSONDict:
        """A stored message as embedded in ``reply_to_message``/callbacks (no nesting)."""
        out = copy.deepcopy(msg)
        out.pop("reply_to_message", None)
        return out

    def _view(self, key: tuple[int, int]) -> JSONDict:
        msg = copy.deepcopy(self._messages[key])
        if "reply_to_message" in msg:
            msg["reply_to_message_id"] = msg["reply_to_message"]["message_id"]
        return msg

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """The current state of a stored message (bot's or injected)."""
        with self._lock:
            return self._view((chat_id, message_id))

    def sent_messages(self, chat_id: int | None = None, *, since: int = 0) -> list[JSONDict]:
        """Messages the bot sent (sendX/copy/forward), oldest first.

        Each is the dict returned to the bot in its current state (edits applied)
        plus a convenience ``reply_to_message_id`` when it is a reply. Deleted
        messages stay listed (see :meth:`chat_history` for what is visible).
        ``since`` is a :meth:`checkpoint`: only messages sent by later calls.
        """
        with self._lock:
            return self._sent_matching(chat_id, since)

    def _sent_matching(self, chat_id: int | None, since: int) -> list[JSONDict]:
        out = []
        for key in self._sent:
            if chat_id is not None and key[0] != chat_id:
                continue
            idx = self._msg_meta[key]["call_index"]
            if since and 0 <= idx < since:
                continue
            out.append(self._view(key))
        return out

    def chat_history(self, chat_id: int) -> list[JSONDict]:
        """Visible messages of a chat (user's and bot's, not deleted), by message_id."""
        with self._lock:
            keys = sorted(
                k for k in self._messages if k[0] == chat_id and not self._msg_meta[k]["deleted"]
            )
            return [self._view(k) for k in keys]

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The custom reply keyboard the user currently sees in ``chat_id`` (or ``None``).

        Telegram does not echo reply keyboards in returned messages (only inline
        keyboards), so this tracks the last ``ReplyKeyboardMarkup`` /
        ``ReplyKeyboardRemove`` the bot sent there.
        """
        with self._lock:
            return copy.deepcopy(self._reply_keyboards.get(chat_id))

    def commands(self, *, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands currently set for ``scope`` (default scope) and ``language_code``."""
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def checkpoint(self) -> int:
        """A marker for ``since=``: only calls answered after this point count."""
        with self._lock:
            return len(self.calls)

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), oldest first."""
        low = method.lower()
        with self._lock:
            return [c for c in self.calls if c.method.lower() == low]

    def clear_calls(self) -> None:
        """Forget recorded calls (messages and chats are kept)."""
        with self._lock:
            self.calls.clear()

    # ------------------------------------------------------------------ waiting helpers

    def wait_for_sent(
        self,
        predicate: Callable[[JSONDict], bool] | None = None,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> list[JSONDict]:
        """Block until at least ``count`` sent messages match; return all matching ones."""

        def matching() -> list[JSONDict]:
            msgs = self._sent_matching(chat_id, since)
            return [m for m in msgs if predicate is None or predicate(m)]

        found = self._wait(matching, count, timeout)
        if found is None:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} sent message(s)"
                f" (chat_id={chat_id}, predicate={predicate!r}); have "
                f"{len(matching())} matching.\n" + self.dump()
            )
        return found

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` match; return all matching."""
        low = method.lower()

        def matching() -> list[Call]:
            return [
                c for c in self.calls[since:]
                if c.method.lower() == low and (predicate is None or predicate(c))
            ]

        found = self._wait(matching, count, timeout)
        if found is None:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} {method} call(s)"
                f" (predicate={predicate!r}); have {len(matching())} matching.\n" + self.dump()
            )
        return found

    def _wait(self, matching: Callable[[], list[Any]], count: int, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = matching()
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def dump(self, last: int = 25) -> str:
        """Human-readable summary of the last calls and sent messages (for failures)."""
        with self._lock:
            lines = [f"--- last {min(last, len(self.calls))} of {len(self.calls)} calls ---"]
            for c in self.calls[-last:]:
                params = {k: v for k, v in c.params.items()}
                text = json.dumps(params, ensure_ascii=False, default=repr)
                if len(text) > 300:
                    text = text[:297] + "..."
                lines.append(f"#{c.index} {c.method} -> {c.status} {text}")
            lines.append(f"--- sent messages ({len(self._sent)}) ---")
            for key in self._sent[-last:]:
                m = self._messages[key]
                body = m.get("text", m.get("caption", "<" + ",".join(
                    k for k in m if k not in ("message_id", "from", "chat", "date")) + ">"))
                lines.append(f"chat {key[0]} #{key[1]}: {body!r}")
            return "\n".join(lines)

    # ------------------------------------------------------------------ injecting updates

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw update dict (``update_id`` is assigned if missing); return it."""
        with self._cond:
            update = copy.deepcopy(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._pending.append(update)
            self.updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _push_message(
        self,
        chat_id: int,
        content: JSONDict,
        *,
        user_id: int | None,
        language_code: str | None,
        chat_type: str,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        with self._cond:
            if user_id is None:
                user_id = chat_id if chat_type == "private" else 1_000_001
            user = self._user(user_id, language_code)
            chat_ref = self._chat(chat_id, chat_type, user)
            if chat_type == "private" and user_id == chat_id:
                for key in ("first_name", "last_name", "username"):
                    if key in user:
                        chat_ref[key] = user[key]
            chat = copy.deepcopy(chat_ref)
            msg: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
            }
            if reply_to_message_id is not None:
                target = self._messages.get((chat_id, reply_to_message_id))
                if target is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                msg["reply_to_message"] = self._shallow_reply(target)
            msg.update(copy.deepcopy(content))
            self._store(msg, by_bot=False)
            self.push_update({"message": msg})
            return copy.deepcopy(msg)

    def push_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Queue a text message from a user; return the message dict.

        A leading ``/command`` (with optional ``@botname``) gets a ``bot_command``
        entity automatically.
        """
        content: JSONDict = {"text": text}
        ents = list(entities or [])
        if text.startswith("/") and not any(e.get("type") == "bot_command" for e in ents):
            cmd = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
            if cmd:
                ents.insert(0, {"type": "bot_command", "offset": 0,
                                "length": _utf16_len(cmd.group(0))})
        if ents:
            content["entities"] = ents
        return self._push_message(
            chat_id, content, user_id=user_id, language_code=language_code,
            chat_type=chat_type, reply_to_message_id=reply_to_message_id,
        )

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "ru",
        force: bool = False,
    ) -> JSONDict:
        """Queue a callback query for the stored message; return the CallbackQuery dict.

        Unless ``force``, refuses data that no inline button of the message has
        (a user could not press it).
        """
        with self._cond:
            msg = self._messages.get((chat_id, message_id))
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if self.check_buttons and not force:
                buttons = [
                    b.get("callback_data")
                    for row in (msg.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ]
                if data not in buttons:
                    raise ValueError(
                        f"message {message_id} in chat {chat_id} has no button with "
                        f"callback_data={data!r}; buttons: {buttons!r} (force=True to send anyway)"
                    )
            chat = self._chats.get(chat_id) or msg["chat"]
            if user_id is None:
                user_id = chat_id if chat.get("type") == "private" else 1_000_001
            query: JSONDict = {
                "id": str(next(self._callback_ids)),
                "from": self._user(user_id, language_code),
                # As Telegram sends it: with the message it replies to, one level deep.
                "message": copy.deepcopy(msg),
                "chat_instance": str(abs(hash((self.bot_id, chat_id))) % 10**19),
                "data": data,
            }
            self._callbacks[query["id"]] = query
            self.push_update({"callback_query": query})
            return copy.deepcopy(query)

    def _new_file(self, kind: str, ext: str, content: bytes | None, size: int) -> JSONDict:
        n = next(self._file_seq)
        data = content if content is not None else bytes(size)
        file_id = f"{kind[:2].upper()}ACAgIAAxkBAAI{n:06d}fake{kind}"
        meta = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{n:06d}",
            "file_size": len(data),
        }
        self._files[file_id] = {**meta, "file_path": f"{kind}s/file_{n}.{ext}"}
        self._file_paths[f"{kind}s/file_{n}.{ext}"] = data
        return dict(meta)

    def set_file_content(self, file_id: str, data: bytes) -> None:
        """Replace the bytes served for ``file_id`` (as downloaded via ``getFile``)."""
        with self._lock:
            info = self._files[file_id]
            info["file_size"] = len(data)
            self._file_paths[info["file_path"]] = data

    def push_voice(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        content: bytes | None = None,
        mime_type: str = "audio/ogg",
        caption: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a voice message; its bytes are downloadable via getFile."""
        with self._lock:
            voice = self._new_file("voice", "oga", content or b"OggS" + bytes(2044), 0)
        content_d: JSONDict = {"voice": {**voice, "duration": duration, "mime_type": mime_type}}
        if caption is not None:
            content_d["caption"] = caption
        return self._push_message(chat_id, content_d, user_id=user_id,
                                  language_code=language_code, chat_type=chat_type,
                                  reply_to_message_id=reply_to_message_id)

    def push_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        content: bytes | None = None,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        media_group_id: str | None = None,
    ) -> JSONDict:
        """Queue a photo (three sizes, largest last, like Telegram); with
        ``media_group_id``, one of an album (Telegram sends each of its
        photos as a message of its own, sharing that id)."""
        sizes = []
        with self._lock:
            for scale in (320, 800, max(width, height)):
                factor = min(1.0, scale / max(width, height))
                meta = self._new_file("photo", "jpg",
                                      content if scale == max(width, height) else None,
                                      int(20_000 * factor) + 1000)
                sizes.append({**meta, "width": int(width * factor),
                              "height": int(height * factor)})
        content_d: JSONDict = {"photo": sizes}
        if caption is not None:
            content_d["caption"] = caption
        if media_group_id is not None:
            content_d["media_group_id"] = media_group_id
        return self._push_message(chat_id, content_d, user_id=user_id,
                                  language_code=language_code, chat_type=chat_type,
                                  reply_to_message_id=reply_to_message_id)

    def push_sticker(
        self,
        chat_id: int,
        *,
        emoji: str = "👍",
        set_name: str | None = "JardamTestStickers",
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a regular (static webp) sticker."""
        with self._lock:
            meta = self._new_file("sticker", "webp", None, 14_000)
        sticker = {**meta, "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "emoji": emoji}
        if set_name:
            sticker["set_name"] = set_name
        return self._push_message(chat_id, {"sticker": sticker}, user_id=user_id,
                                  language_code=language_code, chat_type=chat_type,
                                  reply_to_message_id=reply_to_message_id)

    def push_document(
        self,
        chat_id: int,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        content: bytes | None = None,
        caption: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a document; its bytes are downloadable via getFile."""
        with self._lock:
            meta = self._new_file("document", file_name.rpartition(".")[2] or "bin",
                                  content if content is not None else b"%PDF-1.4\n" + bytes(100),
                                  0)
        content_d: JSONDict = {"document": {**meta, "file_name": file_name,
                                            "mime_type": mime_type}}
        if caption is not None:
            content_d["caption"] = caption
        return self._push_message(chat_id, content_d, user_id=user_id,
                                  language_code=language_code, chat_type=chat_type,
                                  reply_to_message_id=reply_to_message_id)

    def push_location(
        self,
        chat_id: int,
        latitude: float = 43.238949,
        longitude: float = 76.889709,
        *,
        user_id: int | None = None,
        language_code: str | None = "ru",
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a location message."""
        return self._push_message(chat_id, {"location": {"latitude": latitude,
                                                         "longitude": longitude}},
                                  user_id=user_id, language_code=language_code,
                                  chat_type=chat_type, reply_to_message_id=reply_to_message_id)

    def wait_for_polling(self, timeout: float = 5.0) -> None:
        """Block until some ``getUpdates`` is waiting in a long poll (the bot is polling)."""
        if self._wait(lambda: [1] if self._waiting_polls else [], 1, timeout) is None:
            raise AssertionError(f"no getUpdates long poll within {timeout}s\n" + self.dump())

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by an ``offset``."""
        with self._lock:
            return copy.deepcopy(self._pending)

    # ------------------------------------------------------------------ method handlers
    # All run with the lock held; they get the Call and return the result or raise ApiError.

    def _get_me(self, call: Call) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        return next((k for k in update if k != "update_id"), "")

    def _allowed(self, update: JSONDict) -> bool:
        kind = self._update_type(update)
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _get_updates(self, call: Call) -> list[JSONDict]:
        p = call.params
        if self._webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset") or 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = list(allowed) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # an older waiting getUpdates now answers 409
        deadline = time.monotonic() + timeout
        self._waiting_polls += 1
        try:
            while True:
                if self._stopping:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
                ready = [u for u in self._pending if self._allowed(u)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return copy.deepcopy(ready)
                self._cond.notify_all()  # wake wait_for_polling()
                self._cond.wait(remaining)
        finally:
            self._waiting_polls -= 1

    def _delete_webhook(self, call: Call) -> _Answer:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        had = bool(self._webhook.get("url"))
        self._webhook = {}
        return _Answer(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _set_webhook(self, call: Call) -> _Answer:
        p = call.params
        url = p.get("url") or ""
        if p.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self._webhook = {}
            return _Answer(True, "Webhook is already deleted")
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {k: v for k, v in p.items() if not isinstance(v, UploadedFile)}
        if isinstance(p.get("allowed_updates"), list):
            self._allowed_updates = list(p["allowed_updates"]) or None
        return _Answer(True, "Webhook was set")

    def _get_webhook_info(self, call: Call) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": "certificate" in self._webhook,
            "pending_update_count": len(self._pending),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook.get("max_connections", 40)
            if self._webhook.get("ip_address"):
                info["ip_address"] = self._webhook["ip_address"]
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        if isinstance(scope, dict) and "chat_id" in scope:
            scope = {**scope}
            with contextlib.suppress(TypeError, ValueError):
                scope["chat_id"] = int(scope["chat_id"])
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _set_my_commands(self, call: Call) -> bool:
        p = call.params
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad("field \"commands\" must be an Array")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad("BOT_COMMAND_INVALID")
            name = str(cmd.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
                raise _bad("BOT_COMMAND_INVALID")
            desc = str(cmd.get("description", ""))
            if not 1 <= len(desc) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID" if desc else
                           "command description is empty")
        key = self._commands_key(p.get("scope"), p.get("language_code"))
        self._commands[key] = [
            {"command": str(c["command"]).lstrip("/"), "description": str(c["description"])}
            for c in commands
        ]
        if not commands:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[JSONDict]:
        key = self._commands_key(call.params.get("scope"), call.params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _delete_my_commands(self, call: Call) -> bool:
        key = self._commands_key(call.params.get("scope"), call.params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _set_bot_text(self, call: Call) -> bool:
        field_name = {"setMyDescription": "description",
                      "setMyShortDescription": "short_description",
                      "setMyName": "name"}[call.method]
        key = (field_name, str(call.params.get("language_code") or ""))
        value = call.params.get(field_name) or ""
        if value:
            self._bot_texts[key] = value
        else:
            self._bot_texts.pop(key, None)
        return True

    def _get_bot_text(self, call: Call) -> JSONDict:
        field_name = {"getMyDescription": "description",
                      "getMyShortDescription": "short_description",
                      "getMyName": "name"}[call.method]
        lang = str(call.params.get("language_code") or "")
        value = self._bot_texts.get((field_name, lang))
        if value is None:
            value = self._bot_texts.get((field_name, ""),
                                        self.first_name if field_name == "name" else "")
        return {field_name: value}

    def _set_chat_menu_button(self, call: Call) -> bool:
        chat = call.params.get("chat_id")
        button = call.params.get("menu_button") or {"type": "default"}
        self._menu_buttons[int(chat) if chat not in (None, "") else None] = button
        return True

    def _get_chat_menu_button(self, call: Call) -> JSONDict:
        chat = call.params.get("chat_id")
        key = int(chat) if chat not in (None, "") else None
        return copy.deepcopy(self._menu_buttons.get(key) or self._menu_buttons.get(None)
                             or {"type": "commands"})

    # --- sending

    def _formatted(self, p: JSONDict, text_key: str, limit: int,
                   too_long: str, empty: str | None) -> tuple[str | None, list[JSONDict] | None]:
        text = p.get(text_key)
        entities_key = "entities" if text_key == "text" else "caption_entities"
        if text is None:
            if empty is not None:
                raise _bad(empty)
            return None, None
        text = str(text)
        entities = p.get(entities_key)
        mode = str(p.get("parse_mode") or "")
        if entities is None and mode.lower() == "html":
            text, entities = parse_html(text)
        text, entities = _trim(text, entities or None)
        if not text:
            if empty is not None:
                raise _bad(empty)
            return None, None
        if _utf16_len(text) > limit:
            raise _bad(too_long)
        return text, entities

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an "
                           "Array of Arrays")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not str(button.get("text", "")):
                        raise _bad("can't parse inline keyboard button: Text buttons are "
                                   "unallowed in the inline keyboard")
                    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                    if not actions:
                        raise _bad("can't parse inline keyboard button: Text buttons are "
                                   "unallowed in the inline keyboard")
                    if "callback_data" in button:
                        size = len(str(button["callback_data"]).encode("utf-8"))
                        if not 1 <= size <= 64:
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in button:
                        url = str(button["url"])
                        if not re.match(r"(https?|tg)://[^\s]+\Z", url) and not re.match(
                            r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/\S*)?\Z", url
                        ):
                            raise _bad(f"inline keyboard button URL '{url}' is invalid: "
                                       "Wrong HTTP URL")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("field \"keyboard\" of the ReplyKeyboardMarkup must be an Array "
                           "of Arrays")
        elif not ("remove_keyboard" in markup or "force_reply" in markup):
            raise _bad("can't parse reply keyboard markup JSON object")

    def _new_bot_message(self, call: Call, content: JSONDict) -> JSONDict:
        """Create, store and return a message sent by the bot (common send logic)."""
        p = call.params
        chat = self._resolve_chat(p.get("chat_id"))
        chat_id = chat["id"]
        markup = p.get("reply_markup")
        self._check_markup(markup)
        reply_params = p.get("reply_parameters")
        if reply_params is None and p.get("reply_to_message_id") is not None:
            reply_params = {"message_id": p["reply_to_message_id"],
                            "allow_sending_without_reply": p.get("allow_sending_without_reply")}
        reply_to = None
        if isinstance(reply_params, dict) and reply_params.get("message_id") is not None:
            source_chat = reply_params.get("chat_id", chat_id)
            try:
                reply_to = self._find_message(source_chat, reply_params["message_id"],
                                              "message to be replied not found")
            except ApiError:
                if not reply_params.get("allow_sending_without_reply"):
                    raise
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        if p.get("message_thread_id") is not None and chat.get("is_forum"):
            msg["message_thread_id"] = p["message_thread_id"]
        if reply_to is not None:
            msg["reply_to_message"] = self._shallow_reply(reply_to)
        msg.update(content)
        if isinstance(markup, dict):
            if "inline_keyboard" in markup:
                msg["reply_markup"] = copy.deepcopy(markup)
            elif "keyboard" in markup:
                self._reply_keyboards[chat_id] = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                self._reply_keyboards[chat_id] = None
        if p.get("has_spoiler"):
            msg["has_media_spoiler"] = True
        self._store(msg, by_bot=True)
        return msg

    def _send_message(self, call: Call) -> JSONDict:
        text, entities = self._formatted(call.params, "text", 4096, "message is too long",
                                         "message text is empty")
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        lpo = call.params.get("link_preview_options")
        if isinstance(lpo, dict) and lpo:
            content["link_preview_options"] = lpo
        return copy.deepcopy(self._new_bot_message(call, content))

    def _media_payload(self, kind: str, value: Any, p: JSONDict) -> Any:
        if isinstance(value, UploadedFile):
            data, filename, mime = value.data, value.filename, value.content_type
        elif isinstance(value, str) and value in self._files:
            info = self._files[value]
            data = self._file_paths.get(info["file_path"], b"")
            filename, mime = None, None
        elif isinstance(value, str) and value.startswith("attach://"):
            up = p.get(value[len("attach://") :])
            if not isinstance(up, UploadedFile):
                raise _bad(f"wrong remote file identifier specified: can't find {value}")
            data, filename, mime = up.data, up.filename, up.content_type
        elif isinstance(value, str) and value:
            data, filename, mime = b"", value.rsplit("/", 1)[-1] or None, None
        else:
            raise _bad(f"there is no {kind} in the request")
        ext = (filename or "").rpartition(".")[2] or {"photo": "jpg", "voice": "oga",
                                                      "sticker": "webp"}.get(kind, "bin")
        meta = self._new_file(kind, ext, data or None, 1024)
        if kind == "photo":
            return [{**meta, "width": 90, "height": 90},
                    {**meta, "file_id": meta["file_id"] + "_m", "width": 800, "height": 600}]
        if kind == "sticker":
            return {**meta, "type": "regular", "width": 512, "height": 512,
                    "is_animated": False, "is_video": False}
        out = {**meta}
        if filename and kind in ("document", "audio", "video", "animation"):
            out["file_name"] = filename
        if mime:
            out["mime_type"] = mime
        if kind in ("voice", "audio", "video", "animation"):
            out["duration"] = int(p.get("duration") or 1)
        if kind in ("video", "animation"):
            out.update(width=int(p.get("width") or 640), height=int(p.get("height") or 480))
        return out

    def _send_media(self, call: Call) -> JSONDict:
        kind = call.method[len("send") :].lower()
        p = call.params
        self._resolve_chat(p.get("chat_id"))
        payload = self._media_payload(kind, p.get(kind), p)
        content: JSONDict = {kind: payload}
        if kind != "sticker":
            caption, entities = self._formatted(p, "caption", 1024,
                                                "message caption is too long", None)
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        return copy.deepcopy(self._new_bot_message(call, content))

    def _send_location(self, call: Call) -> JSONDict:
        p = call.params
        try:
            lat, lon = float(p["latitude"]), float(p["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _bad("wrong latitude or longitude specified") from None
        return copy.deepcopy(self._new_bot_message(call, {"location": {"latitude": lat,
                                                                        "longitude": lon}}))

    def _send_chat_action(self, call: Call) -> bool:
        self._resolve_chat(call.params.get("chat_id"))
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    _CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "document",
                     "voice", "audio", "video", "animation", "sticker", "location",
                     "link_preview_options", "has_media_spoiler")

    def _copy_content(self, call: Call, missing: str) -> JSONDict:
        p = call.params
        source = self._find_message(p.get("from_chat_id"), p.get("message_id"), missing)
        content = {k: copy.deepcopy(source[k]) for k in self._CONTENT_KEYS if k in source}
        return content

    def _copy_message(self, call: Call) -> JSONDict:
        content = self._copy_content(call, "message to copy not found")
        if "caption" in call.params and "text" not in content:
            caption, entities = self._formatted(call.params, "caption", 1024,
                                                "message caption is too long", None)
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        msg = self._new_bot_message(call, content)
        return {"message_id": msg["message_id"]}

    def _forward_message(self, call: Call) -> JSONDict:
        p = call.params
        content = self._copy_content(call, "message to forward not found")
        source = self._find_message(p.get("from_chat_id"), p.get("message_id"), "")
        origin: JSONDict = {"type": "user", "sender_user": copy.deepcopy(source["from"]),
                            "date": source["date"]}
        if source["chat"]["type"] == "channel":
            origin = {"type": "channel", "chat": copy.deepcopy(source["chat"]),
                      "message_id": source["message_id"], "date": source["date"]}
        content["forward_origin"] = origin
        # forwards ignore reply_markup / reply parameters
        call_copy = Call(call.method, {k: v for k, v in p.items()
                                       if k not in ("reply_markup", "reply_parameters")},
                         call.time)
        return copy.deepcopy(self._new_bot_message(call_copy, content))

    # --- editing

    def _target_for_edit(self, call: Call) -> JSONDict | None:
        p = call.params
        if p.get("inline_message_id"):
            return None
        msg = self._find_message(p.get("chat_id"), p.get("message_id"),
                                 "message to edit not found")
        key = (msg["chat"]["id"], msg["message_id"])
        if not self._msg_meta[key]["by_bot"]:
            raise _bad("message can't be edited")
        return msg

    def _apply_edit(self, msg: JSONDict, changes: JSONDict, markup: Any) -> JSONDict:
        new = {**msg, **changes}
        for k, v in changes.items():
            if v is None:
                new.pop(k, None)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            new["reply_markup"] = copy.deepcopy(markup)
        else:
            new.pop("reply_markup", None)
        if all(new.get(k) == msg.get(k) for k in set(new) | set(msg)):
            raise _bad(_NOT_MODIFIED[len("Bad Request: ") :])
        new["edit_date"] = int(time.time())
        msg.clear()
        msg.update(new)
        return copy.deepcopy(msg)

    def _edit_message_text(self, call: Call) -> Any:
        p = call.params
        self._check_markup(p.get("reply_markup"))
        text, entities = self._formatted(p, "text", 4096, "message is too long",
                                         "message text is empty")
        msg = self._target_for_edit(call)
        if msg is None:
            return True
        if "text" not in msg:
            raise _bad("there is no text in the message to edit")
        changes: JSONDict = {"text": text, "entities": entities or None}
        return self._apply_edit(msg, changes, p.get("reply_markup"))

    def _edit_message_caption(self, call: Call) -> Any:
        p = call.params
        self._check_markup(p.get("reply_markup"))
        caption, entities = self._formatted(p, "caption", 1024, "message caption is too long",
                                            None)
        msg = self._target_for_edit(call)
        if msg is None:
            return True
        if "text" in msg:
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(msg, {"caption": caption, "caption_entities": entities or None},
                                p.get("reply_markup"))

    def _edit_message_reply_markup(self, call: Call) -> Any:
        p = call.params
        self._check_markup(p.get("reply_markup"))
        msg = self._target_for_edit(call)
        if msg is None:
            return True
        return self._apply_edit(msg, {}, p.get("reply_markup"))

    def _delete_message(self, call: Call) -> bool:
        msg = self._find_message(call.params.get("chat_id"), call.params.get("message_id"),
                                 "message to delete not found")
        self._msg_meta[(msg["chat"]["id"], msg["message_id"])]["deleted"] = True
        return True

    def _answer_callback_query(self, call: Call) -> bool:
        qid = str(call.params.get("callback_query_id") or "")
        if qid not in self._callbacks or qid in self.callback_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = call.params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self.callback_answers[qid] = dict(call.params)
        return True

    # --- misc

    def _get_file(self, call: Call) -> JSONDict:
        info = self._files.get(str(call.params.get("file_id") or ""))
        if info is None:
            raise _bad("invalid file_id")
        return dict(info)

    def _get_chat(self, call: Call) -> JSONDict:
        chat_id = call.params.get("chat_id")
        chat = self._resolve_chat(chat_id, must_exist=True)
        full = {
            **copy.deepcopy(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        if chat["type"] == "private":
            user = self._users.get(chat["id"], {})
            for key in ("first_name", "last_name", "username"):
                if key in user:
                    full[key] = user[key]
        return full


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"
