"""`jardam stress`: many simulated users against the real bot, with faults.

The bot runs as in production — `jardam run` in a process of its own —
against the fake Bot API server (`fakebotapi.py`) on 127.0.0.1, through
which this process plays every user and one operator.  A share of Bot API
calls fail with 500 or 429, and the bot is killed with SIGKILL mid-run and
started again.  At the end every user message, handoff and operator answer
is accounted for, from what the fake server recorded and what the SQLite
file holds; each check is printed, and the exit status is 1 if one failed.

Users behave like people: they wait for the answer, read it, and press a
button now and then (a "did you mean" choice, 👍/👎, a language), pausing
at least `MIN_GAP_S` between two messages, which keeps each within the
bot's flood limit (20 a minute).  The run is bounded in time (`--timeout`)
and sends nothing beyond 127.0.0.1.

What "exactly one reply" can mean across a SIGKILL: an update is stored
before it is confirmed to Telegram and marked handled after its reply is
sent, so a crash can repeat a reply but never lose one.  A reply sent in
the instant before the kill, whose update was not yet marked, is sent again
after the restart (Telegram has no idempotency key to prevent it).  Such
repeats are counted apart, each traced to the kill; anything else fails.
`--strict` fails on them too.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import click
import yaml

from .bench import percentile
from .config import PACKAGE_ROOT, ConfigError, Settings, default_faq_dir, default_locales_dir
from .fakebotapi import Call, FakeBotAPI
from .faq import LANGS, FAQError, load_faq

TOKEN = "424242:STRESS-fake-token-never-real"
OPERATORS = -1009990001
OPERATOR_USER = 77
FIRST_USER = 7_000_000
# The bot allows 20 updates per user in any 60 s; 19 gaps of 3.3 s exceed 60 s.
MIN_GAP_S = 3.3
MAX_GAP_S = 6.0
# How long a user waits for a reply before going on (and counting it unanswered).
REPLY_TIMEOUT_S = 300.0
FAULTY_METHODS = (
    "getUpdates",
    "sendMessage",
    "copyMessage",
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
)
STICKER = "\x00sticker"
REF_RE = re.compile(r"#(\d+)")
POST_RE = re.compile(r"^❓ #(\d+) · ")
ACK_RE = re.compile(r"^✅ #(\d+): ")


# --- what happened ------------------------------------------------------------


@dataclass
class Seen:
    """A message the bot sent, as the fake server recorded it."""

    time: float
    text: str
    message_id: int
    buttons: list[str]


@dataclass
class Step:
    """One thing a user did: a message, or a button press."""

    kind: str  # text, button
    payload: str
    expect: str  # message: a message in the chat; toast: an answered button
    pushed_at: float = 0.0
    callback_id: str = ""
    done_at: float = 0.0
    messages: list[Seen] = field(default_factory=list)
    toasts: int = 0


@dataclass
class User:
    chat_id: int
    lang: str
    script: list[str]
    rng: random.Random
    next_item: int = 0
    steps: list[Step] = field(default_factory=list)
    waiting: Step | None = None
    pending_press: Step | None = None
    messages: list[Seen] = field(default_factory=list)
    copies: list[Seen] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.waiting is None and self.pending_press is None and self.next_item >= len(self.script)


@dataclass
class OperatorAnswer:
    qid: int
    message_id: int
    text: str
    pushed_at: float


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Config:
    users: int = 1000
    messages: int = 20
    fail_rate: float = 0.05
    kill_after: float = 0.5
    seed: int = 1
    timeout: float = 900.0
    strict: bool = False
    workdir: Path | None = None
    # Passed on to the bot as absolute paths: it runs in another directory.
    faq_dir: Path = field(default_factory=default_faq_dir)
    locales_dir: Path = field(default_factory=default_locales_dir)

    @property
    def questions(self) -> Path:
        """The labelled set, where `jardam bench` looks for it: beside the FAQ."""
        return self.faq_dir.parent / "tests" / "eval" / "questions.yaml"


# --- the run ------------------------------------------------------------------


class StressRun:
    """Drives users and an operator through the fake server against `jardam run`."""

    def __init__(self, config: Config, workdir: Path, progress: IO[str] | None = None):
        self.config = config
        self.workdir = workdir
        self.progress = progress
        self.db_path = workdir / "jardam.db"
        self.api = FakeBotAPI(token=TOKEN)
        self.users: dict[int, User] = {}
        self.due: list[tuple[float, int]] = []  # (when, chat id): users ready to act
        self.by_callback: dict[str, Step] = {}
        self.owner: dict[str, User] = {}  # callback query id -> who pressed
        self.posts: dict[int, list[Seen]] = defaultdict(list)
        self.acks: Counter[int] = Counter()
        self.other_operator_messages: list[Seen] = []
        self.operator_queue: list[tuple[float, int, int]] = []  # (when, question id, post message id)
        self.operator_answers: dict[int, OperatorAnswer] = {}
        self.copies_by_source: dict[int, list[tuple[int, Seen]]] = defaultdict(list)  # op message id -> (chat, copy)
        self.cursor = 0
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self.started = 0.0
        self.kill_time: float | None = None
        self.restart_time: float | None = None
        self.back_polling: float | None = None
        self.messages_pushed = 0
        self.presses_pushed = 0
        self.rng = random.Random(config.seed)
        self.outbox_peak = 0

    # --- users' scripts ---------------------------------------------------

    def question_pool(self) -> dict[str, list[str]]:
        """Questions per language: the labelled set's, or, where there is
        none (an installed Jardam has no tests/ folder), as `jardam bench`
        does, the FAQ's own phrasings, its out-of-scope subjects' included."""
        pool: dict[str, list[str]] = defaultdict(list)
        path = self.config.questions
        if path.is_file():
            for item in yaml.safe_load(path.read_text(encoding="utf-8")):
                pool[item["lang"]].append(item["q"])
            return pool
        self.say(f"no labelled questions at {path}: users ask the FAQ's own phrasings")
        try:
            faq = load_faq(self.config.faq_dir, None)
        except FAQError as exc:
            raise click.ClickException(f"cannot load the FAQ from {self.config.faq_dir}:\n{exc}") from exc
        for entry in faq.matchable():
            for lang in LANGS:
                pool[lang].extend(entry.questions.get(lang, ()))
        return pool

    def plan(self) -> None:
        pool = self.question_pool()
        langs = sorted(pool)
        long_text = "Запрет на въезд, патент, регистрация. " * 60
        for n in range(self.config.users):
            rng = random.Random(f"{self.config.seed}:{n}")
            lang = rng.choice(langs)
            script: list[str] = []
            for i in range(self.config.messages):
                r = rng.random()
                if i == 0 and r < 0.2:
                    script.append("/start")
                elif r < 0.03:
                    script.append("/help")
                elif r < 0.05:
                    script.append("/topics")
                elif r < 0.06:
                    script.append(STICKER)
                elif r < 0.07:
                    script.append(long_text)
                elif r < 0.08:
                    script.append("<b>x</b> [link](http://evil.example) *bold* курс доллара")
                else:
                    text_lang = lang if rng.random() < 0.8 else rng.choice(langs)
                    script.append(rng.choice(pool[text_lang]))
            chat_id = FIRST_USER + n
            self.users[chat_id] = User(chat_id, lang, script, rng)
            # Users arrive over the first seconds, not all at once.
            heapq.heappush(self.due, (rng.uniform(0, min(10.0, self.config.users / 100)), chat_id))

    # --- the bot process ----------------------------------------------------

    def start_bot(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPERATOR_", "JARDAM_", "WEBHOOK_"))}
        env |= {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.api.base_url,
            "OPERATOR_CHAT_ID": str(OPERATORS),
            "JARDAM_DB": str(self.db_path),
            "JARDAM_LOG_LEVEL": "INFO",
            "JARDAM_FAQ_DIR": str(self.config.faq_dir.resolve()),
            "JARDAM_LOCALES_DIR": str(self.config.locales_dir.resolve()),
        }
        log_path = self.workdir / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=PACKAGE_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill_bot(self) -> None:
        assert self.proc is not None
        self.say(f"SIGKILL the bot (pid {self.proc.pid}) at {self.elapsed():.0f} s, and start it again")
        self.kill_time = time.time()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.start_bot()
        self.restart_time = time.time()

    def stop_bot(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9

    def end_bot(self) -> None:
        """Whatever ended the run, leave no bot behind (an orphan would poll on)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def wait_until_polling(self, timeout: float) -> None:
        """Wait for the bot's first long poll; if it exits or hangs first, say
        why from its log, which goes with the work folder."""
        assert self.proc is not None
        deadline = time.time() + timeout
        while True:
            try:
                self.api.wait_for_polling(timeout=0.2)
                return
            except AssertionError:  # how the fake server says "not polling yet"
                pass
            code = self.proc.poll()
            if code is not None:
                raise click.ClickException(f"the bot exited with status {code} before polling; the end of its log:\n{self.log_tail()}")
            if time.time() > deadline:
                raise click.ClickException(f"the bot was not polling after {timeout:.0f} s; the end of its log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        text = self.logs[-1].read_text(encoding="utf-8", errors="replace") if self.logs else ""
        return "\n".join(text.splitlines()[-lines:]) or "(empty)"

    def kill_due(self) -> bool:
        after = self.config.kill_after
        if after <= 0 or self.kill_time is not None:
            return False
        if after < 1:
            return self.messages_pushed >= after * self.config.users * self.config.messages
        return self.elapsed() >= after

    # --- the loop -------------------------------------------------------------

    def elapsed(self) -> float:
        return time.time() - self.started

    def say(self, line: str) -> None:
        if self.progress is not None:
            print(line, file=self.progress, flush=True)

    def run(self) -> dict[str, Any]:
        self.plan()
        with self.api:
            # A killed bot resets its connections: not worth a traceback from the server thread.
            self.api._server.handle_error = lambda request, address: None  # type: ignore[union-attr,method-assign]
            self.api.fail_rate(FAULTY_METHODS, self.config.fail_rate, seed=self.config.seed)
            self.started = time.time()
            try:
                self.start_bot()
                self.wait_until_polling(60)
                self.say(f"bot polling after {self.elapsed():.1f} s; {len(self.users)} users start")
                deadline = self.started + self.config.timeout
                last_report = time.time()
                drained_since: float | None = None
                while time.time() < deadline:
                    self.ingest()
                    now = time.time()
                    if self.kill_due():
                        self.kill_bot()
                    died = self.proc.poll() if self.proc is not None else None
                    if died is not None:  # not the SIGKILL asked for: that one is restarted at once
                        raise click.ClickException(
                            f"the bot exited with status {died} at {self.elapsed():.0f} s, during the run; the end of its log:\n{self.log_tail()}"
                        )
                    self.act(now)
                    self.operate(now)
                    self.expire(now)
                    if now - last_report > 15:
                        last_report = now
                        busy = sum(1 for u in self.users.values() if not u.finished)
                        backlog = self.outbox_pending()
                        self.outbox_peak = max(self.outbox_peak, backlog)
                        self.say(
                            f"{self.elapsed():5.0f} s: {self.messages_pushed} messages and {self.presses_pushed} presses sent, "
                            f"{len(self.operator_answers)} operator answers, {busy} users still talking, outbox {backlog}"
                        )
                    if self.quiet():
                        drained_since = drained_since or now
                        if now - drained_since > 3.0:  # late repeats would show by now
                            break
                    else:
                        drained_since = None
                    time.sleep(0.005)
                timed_out = time.time() >= deadline
                ended = time.time()
                exit_code = self.stop_bot()
                self.ingest()
                return self.report(ended - self.started, timed_out, exit_code)
            finally:
                self.end_bot()

    def quiet(self) -> bool:
        """Everyone is done, every post answered and delivered, the outbox empty."""
        if any(not u.finished for u in self.users.values()) or self.operator_queue:
            return False
        if any(not self.copies_by_source.get(a.message_id) for a in self.operator_answers.values()):
            return False
        if any(qid not in self.operator_answers for qid in self.posts):
            return False
        return self.outbox_pending() == 0

    def outbox_pending(self) -> int:
        try:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1)
            try:
                return int(conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return -1

    # --- reading what the bot did ------------------------------------------

    def ingest(self) -> None:
        calls = self.api.calls[self.cursor :]
        self.cursor += len(calls)
        for call in calls:
            self.statuses[(call.method, call.status)] += 1
            if self.kill_time is not None and self.back_polling is None and call.method == "getUpdates" and call.time > self.restart_time_or_inf():
                self.back_polling = call.time
            if call.method == "answerCallbackQuery":
                self.on_toast(call)
            if call.status != 200:
                continue
            if call.method == "sendMessage":
                self.on_message(call)
            elif call.method == "copyMessage":
                self.on_copy(call)

    def restart_time_or_inf(self) -> float:
        return self.restart_time if self.restart_time is not None else float("inf")

    @staticmethod
    def seen(call: Call, message: dict[str, Any]) -> Seen:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [str(b.get("callback_data", "")) for row in rows for b in row]
        return Seen(call.time, str(message.get("text") or message.get("caption") or ""), int(message.get("message_id", 0)), buttons)

    def on_message(self, call: Call) -> None:
        chat_id = int(call.params["chat_id"])
        seen = self.seen(call, call.result or {})
        if chat_id == OPERATORS:
            post = POST_RE.match(seen.text)
            ack = ACK_RE.match(seen.text)
            if post:
                qid = int(post.group(1))
                self.posts[qid].append(seen)
                if len(self.posts[qid]) == 1 and qid > 0:
                    # An operator answers each question once, a few seconds later.
                    heapq.heappush(self.operator_queue, (time.time() + self.rng.uniform(0.5, 4.0), qid, seen.message_id))
            elif ack:
                self.acks[int(ack.group(1))] += 1
            else:
                self.other_operator_messages.append(seen)
            return
        user = self.users.get(chat_id)
        if user is None:
            return
        user.messages.append(seen)
        step = user.waiting
        if step is not None and step.expect == "message":
            step.done_at = seen.time
            user.waiting = None
            self.after_reply(user, seen)

    def on_copy(self, call: Call) -> None:
        chat_id = int(call.params["chat_id"])
        source = int(call.params.get("message_id", 0))
        message = self.api.message(chat_id, int((call.result or {}).get("message_id", 0)))
        seen = self.seen(call, message)
        self.copies_by_source[source].append((chat_id, seen))
        user = self.users.get(chat_id)
        if user is not None:
            user.copies.append(seen)

    def on_toast(self, call: Call) -> None:
        step = self.by_callback.get(str(call.params.get("callback_query_id", "")))
        if step is None:
            return
        if call.status == 200:
            step.toasts += 1
        owner = self.owner.get(step.callback_id)
        if owner is not None and owner.waiting is step and step.expect == "toast":
            # The press is answered (or the attempt failed: the spinner is cosmetic).
            step.done_at = call.time
            owner.waiting = None
            self.schedule(owner)

    # --- users acting ---------------------------------------------------------

    def after_reply(self, user: User, seen: Seen) -> None:
        """Read the reply; maybe press one of its buttons next."""
        rng = user.rng
        entries = [b for b in seen.buttons if b.startswith("e:")]
        votes = [b for b in seen.buttons if b.startswith("f:")]
        press: Step | None = None
        r = rng.random()
        if "h:" in seen.buttons:  # "did you mean": choose one, or ask a person
            if r < 0.6 and entries:
                press = Step("button", rng.choice(entries), "message")
            elif r < 0.65:
                press = Step("button", "h:", "message")
        elif votes:  # an answer: 👍, 👎, or a related entry
            if r < 0.08:
                press = Step("button", next(b for b in votes if b.endswith(":up")), "toast")
            elif r < 0.11:
                press = Step("button", next(b for b in votes if b.endswith(":down")), "message")
            elif r < 0.16 and entries:
                press = Step("button", rng.choice(entries), "message")
        elif any(b.startswith("l:") for b in seen.buttons) and r < 0.7:
            press = Step("button", f"l:{user.lang}", "message")
        if press is not None:
            press.callback_id = str(seen.message_id)  # the message pressed, until the press is sent
            user.pending_press = press
        self.schedule(user)

    def schedule(self, user: User) -> None:
        if not user.finished:
            heapq.heappush(self.due, (time.time() + user.rng.uniform(MIN_GAP_S, MAX_GAP_S), user.chat_id))

    def act(self, now: float) -> None:
        while self.due and self.due[0][0] <= now:
            _, chat_id = heapq.heappop(self.due)
            user = self.users[chat_id]
            if user.waiting is not None:
                continue
            if user.pending_press is not None:
                self.press(user, user.pending_press)
            elif user.next_item < len(user.script):
                self.send(user, user.script[user.next_item])
                user.next_item += 1

    def send(self, user: User, text: str) -> None:
        step = Step("text", text, "message", pushed_at=time.time())
        if text == STICKER:
            self.api.push_sticker(user.chat_id, language_code=user.lang)
        else:
            self.api.push_text(user.chat_id, text, language_code=user.lang)
        user.steps.append(step)
        user.waiting = step
        self.messages_pushed += 1

    def press(self, user: User, step: Step) -> None:
        message_id = int(step.callback_id)
        step.pushed_at = time.time()
        query = self.api.push_callback(user.chat_id, message_id, step.payload, language_code=user.lang, force=True)
        step.callback_id = str(query["id"])
        self.by_callback[step.callback_id] = step
        self.owner[step.callback_id] = user
        user.pending_press = None
        user.steps.append(step)
        user.waiting = step
        self.presses_pushed += 1

    def expire(self, now: float) -> None:
        """A user who waited too long gives up on that step and goes on."""
        if int(now * 2) % 2:  # twice a second is enough
            return
        for user in self.users.values():
            step = user.waiting
            if step is not None and now - step.pushed_at > REPLY_TIMEOUT_S:
                user.waiting = None
                self.schedule(user)

    # --- the operator ---------------------------------------------------------

    def operate(self, now: float) -> None:
        while self.operator_queue and self.operator_queue[0][0] <= now:
            _, qid, post_id = heapq.heappop(self.operator_queue)
            text = f"Operator answer to #{qid}: please call the consulate hotline. [op-{qid}]"
            message = self.api.push_text(OPERATORS, text, chat_type="supergroup", user_id=OPERATOR_USER, reply_to_message_id=post_id)
            self.operator_answers[qid] = OperatorAnswer(qid, int(message["message_id"]), text, time.time())

    # --- accounting -------------------------------------------------------------

    def report(self, duration: float, timed_out: bool, exit_code: int) -> dict[str, Any]:
        kill = self.kill_time if self.kill_time is not None else float("inf")
        checks: list[Check] = []

        # 1. Every user message (and every button press that asks for a message) got exactly one reply.
        expected = missing = unexplained = kill_repeats = 0
        answered_after_restart = 0
        latencies: list[float] = []
        repeat_examples: list[str] = []
        missing_examples: list[str] = []
        for user in self.users.values():
            steps = user.steps
            windows = []
            for i, step in enumerate(steps):
                end = steps[i + 1].pushed_at if i + 1 < len(steps) else float("inf")
                windows.append([m for m in user.messages if step.pushed_at <= m.time < end])
            # A user waits for each reply, so at most one update of theirs was in flight at the
            # kill: the last one sent before it.  Only its reply, sent before the kill, can repeat.
            before = [i for i, step in enumerate(steps) if step.pushed_at < kill]
            repeatable = {m.text: m for m in windows[before[-1]] if m.time < kill} if before else {}
            for i, step in enumerate(steps):
                window = windows[i]
                want = 1 if step.expect == "message" else 0
                expected += want
                extra = len(window) - want
                if want and window:
                    latencies.append(window[0].time - step.pushed_at)
                    if step.pushed_at < kill < window[0].time:
                        answered_after_restart += 1
                if extra < 0:
                    missing += 1
                    if len(missing_examples) < 5:
                        when = step.pushed_at - self.started
                        missing_examples.append(f"chat {user.chat_id}: {step.kind} {step.payload[:40]!r} at {when:.2f} s")
                    continue
                repeats = [m for m in window if m.time >= kill and m.text in repeatable][:extra]
                for m in repeats:
                    first = repeatable.pop(m.text)
                    kill_repeats += 1
                    if len(repeat_examples) < 5:
                        at = (first.time - self.started, m.time - self.started)
                        repeat_examples.append(f"chat {user.chat_id}: {m.text[:60]!r} at {at[0]:.2f} s and again at {at[1]:.2f} s")
                unexplained += extra - len(repeats)
        replies_ok = missing == 0 and unexplained == 0 and (kill_repeats == 0 or not self.config.strict)
        detail = f"{expected - missing} of {expected} answered once or more; {missing} unanswered; {unexplained} unexplained extra replies"
        if kill_repeats:
            detail += (
                f"; {kill_repeats} repeated across the SIGKILL (sent in the instant before the kill, not yet recorded "
                "as handled, so sent again after the restart: at-least-once, never lost)"
            )
        checks.append(Check("every user message got exactly one reply", replies_ok, detail))

        # 2. Every handoff is stored and reached the operators' group exactly once.
        db = self.read_db()
        questions: dict[int, dict[str, Any]] = db["questions"]
        told: dict[int, int] = {}
        told_at: dict[int, float] = {}
        for user in self.users.values():
            for m in user.messages:
                if len(m.buttons) == 1 and m.buttons[0].startswith("T:") and REF_RE.search(m.text):
                    qid = int(REF_RE.findall(m.text)[-1])
                    told[qid] = user.chat_id
                    told_at.setdefault(qid, m.time)
        post_latency = [self.posts[q][0].time - t for q, t in told_at.items() if self.posts.get(q)]
        not_stored = [q for q, chat in told.items() if q not in questions or questions[q]["chat_id"] != chat]
        # A question its user never heard of: an update handed off twice (after the kill), or a lost reply.
        never_told = [q for q in questions if q not in told]
        post_counts = Counter({qid: len(self.posts.get(qid, [])) for qid in questions})
        no_post = [q for q, n in post_counts.items() if n == 0]
        multi = {q: n for q, n in post_counts.items() if n > 1}
        multi_kill = {q for q in multi if self.posts[q][0].time < kill <= self.posts[q][1].time}
        unstored_posts = [q for q in self.posts if q not in questions]
        handoffs_ok = (
            not not_stored
            and not never_told
            and not no_post
            and not unstored_posts
            and (not multi or (set(multi) == multi_kill and not self.config.strict))
        )
        detail = (
            f"{len(questions)} questions stored, {len(told)} references told to users, {sum(len(p) for p in self.posts.values())} posts; "
            f"{len(not_stored)} told but not stored, {len(never_told)} stored but never told, {len(no_post)} stored but never posted, "
            f"{len(unstored_posts)} posted but not stored, "
            f"{len(multi)} posted more than once"
        )
        if multi_kill:
            detail += f" ({len(multi_kill)} of them across the SIGKILL: posted just before the kill, not yet marked sent)"
        checks.append(Check("every handoff is stored and reached the operators' group exactly once", handoffs_ok, detail))

        # 3. Operator answers reached their users exactly once.
        copies_wrong_chat = copies_missing = copies_multi = copies_multi_kill = 0
        copy_latency: list[float] = []
        for answer in self.operator_answers.values():
            copies = self.copies_by_source.get(answer.message_id, [])
            if copies:
                copy_latency.append(copies[0][1].time - answer.pushed_at)
            question = questions.get(answer.qid)
            if not copies:
                copies_missing += 1
                continue
            if question is None or any(chat != question["chat_id"] for chat, _ in copies):
                copies_wrong_chat += 1
            if len(copies) > 1:
                copies_multi += 1
                if copies[0][1].time < kill <= copies[1][1].time:
                    copies_multi_kill += 1
        unanswered_in_db = sum(1 for q in questions.values() if q["status"] != "answered")
        relay_ok = (
            copies_missing == 0
            and copies_wrong_chat == 0
            and (copies_multi == 0 or (copies_multi == copies_multi_kill and not self.config.strict))
        )
        detail = (
            f"{len(self.operator_answers)} operator answers, {sum(len(v) for v in self.copies_by_source.values())} copies to users; "
            f"{copies_missing} not delivered, {copies_wrong_chat} to the wrong chat, {copies_multi} delivered more than once"
            f" ({copies_multi_kill} across the SIGKILL); {unanswered_in_db} questions not marked answered"
        )
        checks.append(Check("operator answers reached their users exactly once", relay_ok, detail))

        # 4. The database is sound, and nothing is left undelivered.
        checks.append(Check("PRAGMA integrity_check is ok", db["integrity"] == "ok", db["integrity"]))
        checks.append(
            Check(
                "the outbox is drained",
                db["outbox"].get("pending", 0) == 0 and db["outbox"].get("dropped", 0) == 0,
                ", ".join(f"{n} {status}" for status, n in sorted(db["outbox"].items())) or "empty",
            )
        )
        logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in self.logs)
        leaked = TOKEN in logs or TOKEN.split(":")[1] in logs
        checks.append(Check("the bot token never appears in the bot's output", not leaked, f"{len(logs.splitlines())} log lines read"))
        checks.append(Check("the run finished within its time limit", not timed_out, f"{duration:.0f} s of at most {self.config.timeout:.0f} s"))
        after = self.config.kill_after
        if after > 0:
            asked = f"after {after:.0%} of the messages" if after < 1 else f"after {after:.0f} s"
            checks.append(
                Check(
                    "the bot was killed as asked",
                    self.kill_time is not None,
                    f"SIGKILL at {self.kill_time - self.started:.0f} s, asked {asked}"
                    if self.kill_time is not None
                    else f"asked {asked}, but the run ended first: nothing was checked across a kill",
                )
            )

        toasts = [s for u in self.users.values() for s in u.steps if s.kind == "button"]
        votes_up = sum(1 for s in toasts if s.payload.endswith(":up"))
        injected = {status: sum(n for (_, st), n in self.statuses.items() if st == status) for status in (500, 429)}
        figures: dict[str, Any] = {
            "users": self.config.users,
            "messages_per_user": self.config.messages,
            "messages_sent": self.messages_pushed,
            "button_presses": self.presses_pushed,
            "operator_answers": len(self.operator_answers),
            "updates": self.messages_pushed + self.presses_pushed + len(self.operator_answers),
            "duration_s": round(duration, 1),
            "bot_api_calls": sum(self.statuses.values()),
            "faults_injected": {"500": injected[500], "429": injected[429]},
            "fail_rate": self.config.fail_rate,
            "other_errors": {f"{m} {s}": n for (m, s), n in sorted(self.statuses.items()) if s not in (200, 500, 429)},
            "sigkill_at_s": round(self.kill_time - self.started, 1) if self.kill_time else None,
            "back_polling_after_s": round(self.back_polling - self.kill_time, 1) if self.back_polling and self.kill_time else None,
            "answered_after_restart": answered_after_restart,
            "repeated_across_kill": kill_repeats,
            "repeat_examples": repeat_examples,
            "unanswered_examples": missing_examples,
            "reply_latency_s": quantiles(latencies),
            "handoff_to_post_latency_s": quantiles(post_latency),
            "operator_answer_to_user_latency_s": quantiles(copy_latency),
            "outbox_backlog_peak": self.outbox_peak,
            "never_told_examples": [
                f"#{q} chat {questions[q]['chat_id']} {questions[q]['reason']} at {questions[q]['ts'][11:19]}: {questions[q]['text'][:40]!r}"
                for q in never_told[:5]
            ],
            "handoffs": len(questions),
            "thumbs_up": votes_up,
            "bot_exit_code": exit_code,
            "bot_log_errors": sum(1 for line in logs.splitlines() if " ERROR " in line),
            "bot_log_warnings": sum(1 for line in logs.splitlines() if " WARNING " in line),
            "bot_log_tracebacks": logs.count("Traceback"),
            "unfinished_inbox": db.get("inbox", 0),
            "workdir": str(self.workdir),
        }
        return {"figures": figures, "checks": [c.__dict__ for c in checks], "ok": all(c.ok for c in checks)}

    def read_db(self) -> dict[str, Any]:
        out: dict[str, Any] = {"questions": {}, "outbox": {}, "integrity": "missing"}
        if not self.db_path.exists():
            return out
        conn = sqlite3.connect(str(self.db_path))
        conn.row_factory = sqlite3.Row
        try:
            out["integrity"] = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
            out["questions"] = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM questions")}
            out["outbox"] = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "inbox" in tables:
                out["inbox"] = conn.execute(
                    "SELECT count(*) FROM inbox WHERE update_id NOT IN (SELECT update_id FROM processed_updates)"
                ).fetchone()[0]
        finally:
            conn.close()
        return out


def quantiles(values: list[float]) -> dict[str, float]:
    """Nearest-rank percentiles, as `jardam bench` reports them."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(percentile(ordered, q), 3)

    return {"p50": at(50), "p95": at(95), "p99": at(99), "max": round(ordered[-1], 3), "mean": round(statistics.fmean(values), 3)}


def render(result: dict[str, Any]) -> str:
    f = result["figures"]
    lines = [
        f"jardam stress: {f['users']} users × {f['messages_per_user']} messages in {f['duration_s']:.0f} s",
        f"  updates: {f['updates']} ({f['messages_sent']} messages, {f['button_presses']} button presses, {f['operator_answers']} operator answers)",
        f"  Bot API calls: {f['bot_api_calls']}; faults injected: {f['faults_injected']['500']} × 500, {f['faults_injected']['429']} × 429 "
        f"({f['fail_rate']:.0%} of {', '.join(FAULTY_METHODS)})",
    ]
    if f["other_errors"]:
        lines.append("  other errors: " + ", ".join(f"{k}: {v}" for k, v in f["other_errors"].items()))
    if f["sigkill_at_s"] is not None:
        lines.append(
            f"  SIGKILL at {f['sigkill_at_s']} s, polling again {f['back_polling_after_s']} s later; "
            f"{f['answered_after_restart']} messages sent before the kill were answered after the restart; "
            f"{f['repeated_across_kill']} replies repeated across the kill"
        )
        lines += [f"    repeated: {e}" for e in f["repeat_examples"]]
    lines += [f"    unanswered: {e}" for e in f["unanswered_examples"]]
    lines += [f"    stored, never told: {e}" for e in f["never_told_examples"]]
    for key, label in (
        ("reply_latency_s", "reply"),
        ("handoff_to_post_latency_s", "handoff → operators' post"),
        ("operator_answer_to_user_latency_s", "operator answer → user"),
    ):
        lat = f[key]
        if lat:
            lines.append(f"  latency, {label}: p50 {lat['p50']} s, p95 {lat['p95']} s, p99 {lat['p99']} s, max {lat['max']} s")
    lines.append(f"  outbox backlog at its peak (sampled every 15 s): {f['outbox_backlog_peak']}")
    lines.append(
        f"  handoffs: {f['handoffs']}; bot log: {f['bot_log_errors']} errors, {f['bot_log_warnings']} warnings, "
        f"{f['bot_log_tracebacks']} tracebacks; bot exit code {f['bot_exit_code']}; files in {f['workdir']}"
    )
    for c in result["checks"]:
        lines.append(f"{'PASS' if c['ok'] else 'FAIL'}  {c['name']}: {c['detail']}")
    lines.append("all checks passed" if result["ok"] else "SOME CHECKS FAILED")
    return "\n".join(lines)


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """While the run lasts, SIGTERM is a normal exit (status 143): by
    default it ends Python at once, leaving the bot running, orphaned, and
    the work folder behind; as SystemExit, `finally` stops and removes them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def exit_now(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def parse_kill_after(value: str) -> float:
    """'0.5' (a share of the messages), '120' or '120s' (seconds), '0' (never)."""
    text = value.strip().lower().removesuffix("s")
    try:
        number = float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a share (0.5) nor seconds (120)") from None
    if number < 0:
        raise click.BadParameter("must not be negative")
    if value.strip().lower().endswith("s") and 0 < number < 1:
        number = 1.0
    return number


@click.command("stress")
@click.option("--users", type=click.IntRange(min=1), default=1000, show_default=True, help="Simulated users.")
@click.option("--messages", type=click.IntRange(min=1), default=20, show_default=True, help="Messages per user (button presses come on top).")
@click.option(
    "--fail-rate", type=click.FloatRange(0, 0.5), default=0.05, show_default=True, help="Share of Bot API calls failing, half 500, half 429 (retry after 1 s)."
)
@click.option(
    "--kill-after", default="0.5", show_default=True, help="SIGKILL and restart the bot: below 1 a share of the messages sent, else seconds; 0 never."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for users' scripts and for faults.")
@click.option("--timeout", type=click.FloatRange(min=10), default=900.0, show_default=True, help="Give up after this many seconds.")
@click.option("--strict", is_flag=True, help="Also fail on replies repeated across the SIGKILL.")
@click.option("--keep", is_flag=True, help="Keep the database and bot logs (their folder is printed).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures and checks as one JSON object.")
def stress_command(
    users: int, messages: int, fail_rate: float, kill_after: str, seed: int, timeout: float, strict: bool, keep: bool, as_json: bool
) -> None:
    """Many simulated users against the real bot, with faults; check nothing is lost.

    Runs `jardam run` against a fake Bot API server on 127.0.0.1 (no token,
    no internet), makes a share of Bot API calls fail with 500 and 429, kills
    the bot with SIGKILL mid-run and starts it again, then checks that every
    message got exactly one reply, every handoff reached the operators once,
    every operator answer reached its user once, and the database is sound.
    Exit status 1 if a check fails.  The default size takes about 5 minutes
    on 2 cores.

    \b
    Examples:
      jardam stress
      jardam stress --users 50 --messages 5 --kill-after 20s --json
    """
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    config = Config(
        users, messages, fail_rate, parse_kill_after(kill_after), seed, timeout, strict, faq_dir=settings.faq_dir, locales_dir=settings.locales_dir
    )
    with sigterm_exits():
        holder = tempfile.TemporaryDirectory(prefix="jardam-stress-")
        workdir = Path(holder.name)
        try:
            run = StressRun(config, workdir, progress=sys.stderr)
            result = run.run()
            if not keep:
                result["figures"]["workdir"] = "(removed; --keep to keep)"
        finally:
            if keep:
                holder._finalizer.detach()  # type: ignore[attr-defined]
            else:
                holder.cleanup()
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else render(result))
    if not result["ok"]:
        sys.exit(1)
