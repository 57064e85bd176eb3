"""The bot's HTTP client: python-telegram-bot's request interface on asyncio streams.

python-telegram-bot talks HTTP through a `BaseRequest`, an interface it
documents for exactly this: replacing its httpx-based default.  Under load
that default was the largest part of the bot's CPU: httpx and httpcore
spent ~1.5 ms on each sendMessage (request and response models, a
connection pool that polls every open connection, anyio), more than
answering the question did.  The Bot API needs very little of HTTP: a
POST with a JSON body, a response with a length, kept-alive connections to
one host.  `StreamRequest` does that on the standard library's asyncio
streams in ~0.4 ms, and hands anything else to `HTTPXRequest`: uploads of
files (multipart bodies), and every request when a proxy is configured in
the environment (httpx honours ``HTTPS_PROXY`` and friends; this class does
not speak to proxies).

Errors are python-telegram-bot's own — `TimedOut` for any timeout,
`NetworkError` for a connection that failed — and never name the URL,
which holds the bot's token.  A request is never sent twice: a kept-alive
connection that the server closed while idle is noticed before it is
used; one that fails under a request is an error, as with httpx.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# Like httpcore's default: a connection idle longer than this is closed
# rather than reused, before the server's own idle timeout can race a request.
KEEPALIVE_EXPIRY_S = 5.0
MAX_HEADER_BYTES = 64 * 1024
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")

Origin = tuple[str, str, int]  # scheme, host, port


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 as this client reads it."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def reusable(self) -> bool:
        """Whether the connection is still open and fresh enough to carry a request."""
        fresh = time.monotonic() - self.idle_since < KEEPALIVE_EXPIRY_S
        return fresh and not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


def proxy_configured() -> bool:
    """Whether the environment asks for a proxy (then httpx, which speaks to proxies, is used)."""
    return any(os.environ.get(name) for name in PROXY_VARIABLES)


class StreamRequest(BaseRequest):
    """HTTP/1.1 with kept-alive connections, for the Bot API's JSON requests."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ):
        self._size = max(1, connection_pool_size)
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout, "pool": pool_timeout}
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._media_write_timeout = media_write_timeout
        # Uploads (multipart) go through python-telegram-bot's own client,
        # made at the first upload (the bot itself sends none; building an
        # httpx client costs start-up time).
        self._uploads: HTTPXRequest | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        self._slots = asyncio.Semaphore(self._size)

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for conn in connections:
                conn.close()
        self._idle.clear()
        if self._uploads is not None:
            await self._uploads.shutdown()
            self._uploads = None

    async def _upload_client(self) -> HTTPXRequest:
        if self._uploads is None:
            t = self._timeouts
            self._uploads = HTTPXRequest(
                connection_pool_size=1,
                read_timeout=t["read"],
                write_timeout=t["write"],
                connect_timeout=t["connect"],
                pool_timeout=t["pool"],
                media_write_timeout=self._media_write_timeout,
            )
            await self._uploads.initialize()
        return self._uploads

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            uploads = await self._upload_client()
            return await uploads.do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout  # type: ignore[arg-type]
            )
        if self._slots is None:
            raise RuntimeError("This StreamRequest is not initialized!")
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise NetworkError("unsupported Bot API address (not http or https)")
        origin: Origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        body = request_data.json_payload if request_data is not None else b""
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            head = (
                f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {self.USER_AGENT}\r\n"
                f"Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode("ascii")
        except UnicodeEncodeError:
            # Not the error's own text: it holds the address, token and all,
            # with the odd character escaped where the log's filter would not see it.
            raise NetworkError("the Bot API address holds a character that cannot be sent (check the token)") from None

        try:
            async with asyncio.timeout(self._timeout("pool", pool_timeout)):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: all connections are in use; the request was not sent to Telegram."
            ) from None
        conn: _Connection | None = None
        try:
            conn = self._idle_connection(origin)
            if conn is None:
                async with asyncio.timeout(self._timeout("connect", connect_timeout)):
                    conn = await self._connect(origin)
            async with asyncio.timeout(self._timeout("write", write_timeout)):
                conn.writer.write(head + body)
                await conn.writer.drain()
            async with asyncio.timeout(self._timeout("read", read_timeout)):
                status, payload, keep_alive = await _read_response(conn.reader)
        except TimeoutError:
            if conn is not None:
                conn.close()
            raise TimedOut from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError, ValueError) as exc:
            if conn is not None:
                conn.close()
            raise NetworkError(f"{type(exc).__name__}: {_describe(exc)}") from None
        except BaseException:  # cancelled mid-request: the connection is in an unknown state
            if conn is not None:
                conn.close()
            raise
        finally:
            self._slots.release()
        if keep_alive:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(origin, []).append(conn)
        else:
            conn.close()
        return status, payload

    def _timeout(self, kind: str, given: float | None | object) -> float | None:
        """The timeout asked for in this call, else this client's default."""
        if isinstance(given, (int, float)) or given is None:
            return given
        return self._timeouts[kind]

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        """The most recently used open connection to `origin`, closing stale ones on the way."""
        connections = self._idle.get(origin)
        while connections:
            conn = connections.pop()
            if conn.reusable():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._tls = self._tls or _tls_context()
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=MAX_HEADER_BYTES)
        return _Connection(reader, writer)


def _tls_context() -> ssl.SSLContext:
    """Verified TLS, with the same certificate authorities httpx uses (certifi's)."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _describe(exc: BaseException) -> str:
    """A short reason, without any address (URLs hold the token)."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the server closed the connection before the response was complete"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)[:200]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection may be reused) of one HTTP/1.x response."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ProtocolError("not an HTTP/1.x response")
        status = int(rest[:3])
        if status >= 200 or status == 101:
            break  # 1xx interim responses (100 Continue) carry no body and precede the real one
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep_alive = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in {204, 304}:  # never a body, whatever the headers say (RFC 9112, 6.3)
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:  # delimited by the end of the connection
        body = await reader.read()
        keep_alive = False
    return status, body, keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("malformed chunked body")


def make_request(connection_pool_size: int, **timeouts: float | None) -> BaseRequest:
    """The bot's HTTP client: `StreamRequest`, or httpx's when a proxy is configured."""
    if proxy_configured():
        return HTTPXRequest(connection_pool_size=connection_pool_size, **timeouts)  # type: ignore[arg-type]
    return StreamRequest(connection_pool_size, **timeouts)
