"""The bot's HTTP client (`bot.httpclient.StreamRequest`).

Against the fake Bot API through a real python-telegram-bot `Bot`, and
against a raw HTTP server on 127.0.0.1 whose every byte the test chooses
(chunked bodies, closed connections, silence), to check what the client
does with each: the request arrives once, the answer is read right, and a
failure is python-telegram-bot's own error without the token in it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.fakebotapi import FakeBotAPI
from bot.httpclient import StreamRequest, make_request

from .conftest import TOKEN

OK = b'{"ok": true, "result": true}'


@dataclass
class RawServer:
    """An HTTP/1.1 server whose responses are the test's bytes; it records what it was sent."""

    respond: Callable[[int], bytes | None]  # request number -> raw response, or None for silence
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    connections: int = 0
    close_after_each: bool = False
    port: int = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, body))
                answer = self.respond(len(self.requests))
                if answer is None:
                    await asyncio.sleep(3600)
                writer.write(answer or b"")
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot{TOKEN}/getMe"


@asynccontextmanager
async def raw_server(respond: Callable[[int], bytes | None], **options: bool) -> AsyncIterator[RawServer]:
    server = RawServer(respond, **options)
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server


def response(body: bytes = OK, *, status: str = "200 OK", headers: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


def test_a_bot_sends_and_reads_through_it(api: FakeBotAPI) -> None:
    """send_message with a keyboard, then get_updates: what the server got and what the bot read."""

    async def scenario() -> tuple[int, str]:
        async with Bot(TOKEN, base_url=api.base_url, request=StreamRequest(4)) as bot:
            sent = await asyncio.gather(*(bot.send_message(4242, f"сәлем {n} <b>&amp;</b>") for n in range(10)))
            return sent[0].chat.id, sent[9].text or ""

    chat_id, text = asyncio.run(scenario())
    assert chat_id == 4242
    assert text == "сәлем 9 <b>&amp;</b>"
    assert sorted(m["text"] for m in api.sent_messages(4242)) == sorted(f"сәлем {n} <b>&amp;</b>" for n in range(10))
    assert {c.content_type.split(";")[0] for c in api.calls_of("sendMessage")} == {"application/json"}


def test_a_file_goes_through_httpx(api: FakeBotAPI, tmp_path: Path) -> None:
    """Uploads (multipart) are handed to python-telegram-bot's own client, and arrive."""
    document = tmp_path / "patent.txt"
    document.write_text("патент", encoding="utf-8")

    async def scenario() -> None:
        async with Bot(TOKEN, base_url=api.base_url, request=StreamRequest(2)) as bot:
            await bot.send_document(4243, document.read_bytes(), filename="patent.txt")

    asyncio.run(scenario())
    (call,) = api.calls_of("sendDocument")
    assert call.content_type.startswith("multipart/form-data")
    assert call.files["document"].data == "патент".encode()


def test_requests_reuse_the_connection_and_read_every_kind_of_body() -> None:
    """Content-Length, chunked with trailers, a 1xx before the answer, 204,
    a 304 declaring a length it never sends: one connection for all."""
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"ok\": \r\n12;ext=1\r\ntrue, \"result\": 7}\r\n0\r\nX-Trailer: 1\r\n\r\n"
    answers = {
        1: response(),
        2: chunked,
        3: b"HTTP/1.1 100 Continue\r\n\r\n" + response(b'{"ok": true, "result": 3}'),
        4: b"HTTP/1.1 204 No Content\r\n\r\n",
        5: b"HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n",
        6: response(),
    }

    async def scenario() -> tuple[list[tuple[int, bytes]], RawServer]:
        async with raw_server(answers.get) as server:
            request = StreamRequest(1)
            await request.initialize()
            got = [await request.do_request(server.url, "POST") for _ in range(6)]
            await request.shutdown()
            return got, server

    got, server = asyncio.run(scenario())
    assert got == [(200, OK), (200, b'{"ok": true, "result": 7}'), (200, b'{"ok": true, "result": 3}'), (204, b""), (304, b""), (200, OK)]
    assert server.connections == 1
    assert len(server.requests) == 6


def test_a_post_carries_its_json_and_headers() -> None:
    async def scenario() -> RawServer:
        me = b'{"ok": true, "result": {"id": 1, "is_bot": true, "first_name": "Jardam", "username": "jardam_bot"}}'
        sent = b'{"ok": true, "result": {"message_id": 5, "date": 0, "chat": {"id": 77, "type": "private"}, "text": "x"}}'
        async with raw_server(lambda n: response(me if n == 1 else sent)) as server:
            async with Bot(TOKEN, base_url=f"http://127.0.0.1:{server.port}/bot", request=StreamRequest(1)) as bot:
                await bot.send_message(77, "салам", reply_markup=None)
            return server

    server = asyncio.run(scenario())
    line, headers, body = server.requests[-1]
    assert line == f"POST /bot{TOKEN}/sendMessage HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"chat_id": "77", "text": "салам"}  # python-telegram-bot's JSON: ids as strings


def test_connection_close_and_a_server_closing_idle_connections_mean_a_new_connection_not_a_resend() -> None:
    """Each request reaches the server exactly once, over a fresh connection when the old one is gone."""

    async def scenario(**options: bool) -> RawServer:
        async with raw_server(lambda n: response(headers="Connection: close\r\n" if n == 1 else ""), **options) as server:
            request = StreamRequest(1)
            await request.initialize()
            for _ in range(3):
                assert await request.do_request(server.url, "POST") == (200, OK)
                await asyncio.sleep(0.05)  # the server's close reaches the client while the connection is idle
            await request.shutdown()
            return server

    told = asyncio.run(scenario())  # the first answer says "Connection: close"
    assert (told.connections, len(told.requests)) == (2, 3)
    closing = asyncio.run(scenario(close_after_each=True))  # the server drops every connection after answering
    assert (closing.connections, len(closing.requests)) == (3, 3)


def test_silence_is_timed_out_and_the_token_is_never_in_the_error() -> None:
    async def scenario() -> tuple[BaseException, RawServer]:
        async with raw_server(lambda n: None) as server:
            request = StreamRequest(1, read_timeout=0.2)
            await request.initialize()
            with pytest.raises(TimedOut) as caught:
                await request.post(server.url)
            await request.shutdown()
            return caught.value, server

    error, server = asyncio.run(scenario())
    assert len(server.requests) == 1
    assert TOKEN not in str(error) and TOKEN not in repr(error)


def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    async def scenario() -> NetworkError:
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        request = StreamRequest(1)
        await request.initialize()
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        await request.shutdown()
        return caught.value

    error = asyncio.run(scenario())
    assert not isinstance(error, TimedOut)
    assert TOKEN not in str(error) and TOKEN not in repr(error)


def test_a_full_pool_times_out_without_sending() -> None:
    """With every connection busy, a request waits `pool_timeout`, then fails unsent."""

    async def scenario() -> tuple[type[BaseException], str, RawServer]:
        async with raw_server(lambda n: None) as server:
            request = StreamRequest(1, pool_timeout=0.1, read_timeout=5)
            await request.initialize()
            busy = asyncio.create_task(request.do_request(server.url, "POST"))
            await asyncio.sleep(0.05)
            with pytest.raises(TimedOut) as caught:
                await request.do_request(server.url, "POST")
            busy.cancel()
            await asyncio.gather(busy, return_exceptions=True)
            await request.shutdown()
            return type(caught.value), str(caught.value), server

    kind, message, server = asyncio.run(scenario())
    assert kind is TimedOut and "not sent" in message
    assert len(server.requests) == 1


def test_a_broken_response_is_a_network_error() -> None:
    async def scenario() -> NetworkError:
        async with raw_server(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n") as server:
            request = StreamRequest(1)
            await request.initialize()
            with pytest.raises(NetworkError) as caught:
                await request.post(server.url)
            await request.shutdown()
            return caught.value

    assert "not an HTTP" in str(asyncio.run(scenario()))


def test_a_proxy_in_the_environment_means_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(make_request(4), StreamRequest)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert isinstance(make_request(4), HTTPXRequest)


def test_an_address_that_cannot_be_sent_is_refused_without_being_repeated() -> None:
    """A token with an invisible character copied with it: the error says
    what is wrong without holding the token (the log filter looks for it
    as written, not escaped)."""

    async def scenario() -> str:
        async with raw_server(lambda n: response()) as server:
            request = StreamRequest(1)
            await request.initialize()
            try:
                await request.do_request(server.url.replace("/getMe", "\u200b/getMe"), "POST")
            except NetworkError as exc:
                return str(exc)
            finally:
                await request.shutdown()
            return "sent"

    said = asyncio.run(scenario())
    assert said == "the Bot API address holds a character that cannot be sent (check the token)"
    assert TOKEN.split(":")[1] not in said
