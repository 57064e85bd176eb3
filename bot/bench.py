"""`jardam bench`: how fast Jardam answers, and how the cost grows with the FAQ.

Everything runs on this machine, on 127.0.0.1; nothing is sent anywhere.

* **match** — `Engine.reply` per message (normalise, detect the language,
  match, decide, render the answer: everything the bot does for a text
  message except Telegram and SQLite) on the shipped FAQ and on synthetic
  FAQs N times its size: median and 99th-percentile latency, and messages per
  second on one core.  Each size runs in a fresh process of its own, pinned
  to one core, so its index build time and peak memory are its alone.
  Latency is timed in the CPU time of that process's thread
  (`time.thread_time`): on an idle core it is the wall-clock time, and other
  programs on a busy machine do not inflate it.  What they can do is slow
  the core itself (on a shared host, ~1.5× for seconds at a time), so a
  fixed piece of Python, the speed probe (`_speed_probe`), is timed around
  every message: the figures say how much of the run went at full speed,
  and the p99 of those messages alone.
* **startup_s** — from process start to "FAQ loaded and indexed" (the
  `Engine` built), in a fresh `python` running the same code path as
  `jardam ask`.  The parent passes the wall-clock time at which it launches
  the child (`JARDAM_BENCH_LAUNCH`); the child subtracts it from the time at
  which its engine is ready, so interpreter start-up, imports, reading the
  YAML and indexing are all counted (and the fork/exec too: an upper bound).
  Python's bytecode is cached, as an installed package has it;
  **startup_env_s** is the same as the environment runs it, which on a
  machine where Python may not write bytecode includes compiling the bot's
  modules (`measure_startup`).
* **rss_mb** — the peak resident memory of that process
  (`getrusage(RUSAGE_SELF).ru_maxrss`).
* **e2e** — the real bot (`telegram_app.build_application`: python-telegram-
  bot, the SQLite store, the outbox) in a process of its own, long-polling
  the fake Bot API server (`fakebotapi.FakeBotAPI`) that runs here with the
  load generator.  Many users send at once.  Throughput is measured with
  every message pushed at once (first push to last reply); reply latency
  (push → the fake server receiving the bot's `sendMessage` for that chat,
  replies paired with messages per chat in order) is measured at a steady
  offered load below that, by default 100 messages per second (a third of
  the 300 a second the bot should take, about half of what it takes on a
  2-core machine): what a user waits when the bot keeps up, rather than how
  fast a queue grows when it does not.  The fake server's own CPU use is
  reported, to show it is not the bottleneck, and its process runs without
  the cyclic garbage collector (`_collector_paused`), whose pauses held
  every reply in flight.

Synthetic FAQs are built in memory from the real entries (`synthetic_faq`),
and the messages are realistic (`benchmark_messages`): the labelled
evaluation questions, FAQ phrasings with typos or typed in Latin letters,
and out-of-scope questions.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import click

from .config import Settings
from .faq import FAQ, LANGS, Entry, Topic

# --- synthetic FAQs ----------------------------------------------------------

# Endings a word takes in running text: copies of an entry use inflected
# forms, so a bigger FAQ has a bigger vocabulary, as a real one would.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "ky": ("ты", "ду", "га", "ге", "да", "дан", "нын", "лар", "лер", "сыз", "чы", "бы"),
    "ru": ("а", "у", "ом", "е", "ы", "ов", "ами", "ах", "ой"),
    "en": ("s", "ed", "ing", "er"),
}


def _vary(phrasing: str, others: Sequence[str], sibling_words: Sequence[str], lang: str, rng: random.Random) -> str:
    """One new phrasing of the same question: spliced with another phrasing
    of the entry, a word or two swapped for words of sibling entries, a word
    inflected."""
    words = phrasing.split()
    if others and len(words) > 2 and rng.random() < 0.5:
        other = rng.choice(others).split()
        cut, other_cut = len(words) // 2, len(other) // 2
        words = words[:cut] + other[other_cut:] or words
    for _ in range(rng.randint(1, 2)):
        if sibling_words and words:
            words[rng.randrange(len(words))] = rng.choice(sibling_words)
    if rng.random() < 0.4 and words:
        i = rng.randrange(len(words))
        if len(words[i]) >= 4 and words[i].isalpha():
            words[i] += rng.choice(_SUFFIXES[lang])
    return " ".join(words)


def synthetic_faq(faq: FAQ, times: int, *, seed: int = 0) -> FAQ:
    """A FAQ `times` as big as `faq`, made from its real entries.

    Copy 0 is `faq` itself; entry E of copy j (j ≥ 1) is `E-j`, in topic
    `T-j`, with E's answer, sources and keywords and phrasings varied from
    E's own (see `_vary`), so that the text is realistic but no copy is
    byte-identical to another.
    """
    if times <= 1:
        return faq
    rng = random.Random(seed)
    # Words of each topic's entries, per language, to swap in.
    topic_words: dict[tuple[str, str, str], list[str]] = {}
    for topic in faq.topics:
        for eid in topic.entry_ids:
            siblings = [faq.entries[s] for s in topic.entry_ids if s != eid] or list(faq.entries.values())
            for lang in LANGS:
                topic_words[(eid, lang, topic.id)] = [w for s in siblings for q in s.questions.get(lang, ()) for w in q.split()]
    entries: dict[str, Entry] = dict(faq.entries)
    topics: list[Topic] = list(faq.topics)
    for j in range(1, times):
        for topic in faq.topics:
            copy_ids: list[str] = []
            for eid in topic.entry_ids:
                entry = faq.entries[eid]
                questions = {}
                for lang in LANGS:
                    own = entry.questions.get(lang, ())
                    questions[lang] = tuple(
                        _vary(q, own, topic_words[(eid, lang, topic.id)], lang, rng) for q in own
                    )
                title = {lang: _vary(t, (), topic_words[(eid, lang, topic.id)], lang, rng) for lang, t in entry.title.items()}
                new_id = f"{eid}-{j}"
                entries[new_id] = replace(
                    entry,
                    id=new_id,
                    topic=f"{topic.id}-{j}",
                    title=title,
                    questions=questions,
                    related=tuple(f"{r}-{j}" for r in entry.related),
                )
                copy_ids.append(new_id)
            topics.append(Topic(f"{topic.id}-{j}", topic.title, tuple(copy_ids), topic.file))
    return replace(faq, topics=tuple(topics), entries=entries, loaded_from=f"{faq.loaded_from} ×{times}")


# --- the messages ------------------------------------------------------------

# How people type Cyrillic on a Latin keyboard; where there are several
# habits, one is picked per message.
_LATIN_TYPING: dict[str, tuple[str, ...]] = {
    "а": ("a",), "б": ("b",), "в": ("v",), "г": ("g",), "д": ("d",), "е": ("e",), "ё": ("yo", "e"),
    "ж": ("j", "zh"), "з": ("z",), "и": ("i",), "й": ("i", "y"), "к": ("k",), "л": ("l",), "м": ("m",),
    "н": ("n",), "о": ("o",), "п": ("p",), "р": ("r",), "с": ("s",), "т": ("t",), "у": ("u",),
    "ф": ("f",), "х": ("h", "kh"), "ц": ("ts", "c"), "ч": ("ch",), "ш": ("sh",), "щ": ("sch", "sh"),
    "ъ": ("",), "ы": ("y", "i"), "ь": ("", "'"), "э": ("e",), "ю": ("yu", "u"), "я": ("ya", "ia"),
    "ө": ("o",), "ү": ("u",), "ң": ("n", "ng"),
}

# Questions the FAQ does not cover, besides the labelled set's.
_OUT_OF_SCOPE = (
    "Бишкекке арзан авиабилет кайдан табам?",
    "Москвада кайсы банк карта ачып берет?",
    "эртең аба ырайы кандай болот",
    "как купить билет на самолет Москва Ош подешевле",
    "где в Москве поменять доллары на рубли",
    "сколько стоит снять комнату в Подольске",
    "where can I send money home cheaply",
    "is there a kyrgyz cafe near Kazansky station",
    "how much does a sim card cost in moscow",
)


def _latin_typed(text: str, rng: random.Random) -> str:
    habits = {ch: rng.choice(opts) for ch, opts in _LATIN_TYPING.items()}
    out = []
    for ch in text:
        low = ch.lower()
        out.append(habits.get(low, low))
    return re.sub(r"[?!.,«»“”]", "", "".join(out))


def _typo(text: str, rng: random.Random) -> str:
    """One typing slip in a longer word: a letter dropped, doubled or two swapped."""
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w, k = words[i], rng.randrange(1, len(words[i]) - 2)
    slip = rng.randrange(3)
    if slip == 0:
        w = w[:k] + w[k + 1 :]
    elif slip == 1:
        w = w[:k] + w[k] + w[k:]
    else:
        w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    words[i] = w
    return " ".join(words)


def _eval_questions(path: Path | None) -> tuple[list[str], list[str]]:
    """The labelled set's (in-scope, out-of-scope) questions, if it is there."""
    if path is None or not path.is_file():
        return [], []
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    items = [d for d in data if isinstance(d, dict) and isinstance(d.get("q"), str)]
    return [d["q"] for d in items if d.get("expect")], [d["q"] for d in items if not d.get("expect")]


def benchmark_messages(faq: FAQ, n: int, *, eval_path: Path | None = None, seed: int = 1) -> list[str]:
    """`n` realistic messages: a third the labelled questions as written, a
    third FAQ phrasings with a typo, a sixth phrasings typed in Latin
    letters, a sixth out of scope."""
    rng = random.Random(seed)
    in_scope, out_of_scope = _eval_questions(eval_path)
    out_of_scope += _OUT_OF_SCOPE
    phrasings = [q for e in faq.entries.values() for lang in LANGS for q in e.questions.get(lang, ())]
    cyrillic = [q for q in phrasings if not q.isascii()]
    messages = []
    for _ in range(n):
        kind = rng.random()
        if kind < 1 / 3 and in_scope:
            messages.append(rng.choice(in_scope))
        elif kind < 2 / 3:
            messages.append(_typo(rng.choice(phrasings), rng))
        elif kind < 5 / 6:
            text = _latin_typed(rng.choice(cyrillic), rng)
            messages.append(_typo(text, rng) if rng.random() < 0.5 else text)
        else:
            messages.append(rng.choice(out_of_scope))
    return messages


# --- figures -------------------------------------------------------------------


@dataclass(frozen=True)
class MatchFigures:
    """`Engine.reply` on one FAQ size, in a process of its own."""

    entries: int
    p50_ms: float
    p99_ms: float
    per_s: float
    phrasings: int = 0
    index_s: float = 0.0  # building the engine (matcher and language model)
    rss_mb: float = 0.0  # peak RSS of that process
    # The machine's speed while the messages were matched (`_speed_probe`):
    # the fastest probe (5th percentile), in µs; the share of messages
    # matched at about that speed; the p99 among them (0.0: too few of
    # them for a p99).
    probe_us: float = 0.0
    full_speed_share: float = 0.0
    p99_full_speed_ms: float = 0.0
    times: int = 1  # the FAQ's size, as a multiple of the shipped one


@dataclass(frozen=True)
class E2EFigures:
    """The real bot against the fake Bot API server."""

    msgs_per_s: float  # every message pushed at once: first push to last reply
    p50_ms: float  # reply latency at the steady `rate`
    p99_ms: float
    rate: float  # messages per second offered while latency was measured
    users: int
    messages: int
    bot_cpu_pct: float  # the bot process's CPU use during the throughput run
    fake_cpu_pct: float  # the fake server's (with the load generator) during it
    fake_max_msgs_per_s: float  # messages per second the fake server could take on its one core
    bot_rss_mb: float
    # The bot's CPU time per message in the throughput run: what limits
    # throughput once a core is busy, and steadier than messages per second
    # when other programs share the machine.
    bot_cpu_ms_per_msg: float = 0.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of already sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _speed_probe() -> float:
    """The CPU time of a fixed piece of pure Python, ~50 µs at full speed.

    Measured around each message matched, it tells at what speed the
    machine ran the message.  On the 2-core machines this was built on,
    the speed swings between two levels 1.5–2× apart every few seconds
    (another guest's load on the same physical core, presumably), and a
    p99 taken over a run is mostly a measure of how much of the run fell
    at the slow level.  It touches no memory to speak of, so it does not
    disturb what the messages leave in the processor's caches."""
    started = time.thread_time()
    total = 0
    for i in range(1000):
        total += i * i
    return time.thread_time() - started


# A message is counted as matched at full speed when the probes around it
# took at most this much longer than the run's fastest (its 5th percentile:
# the very fastest pair can be a fluke).  Between messages the two levels
# are ~1.5× apart (~58 and ~90 µs a probe), and a level's own spread is
# ~10 %.
_FULL_SPEED_SLACK = 1.25
_FASTEST_PERCENTILE = 5
# Fewer messages at full speed than this, and their p99 is not reported.
_FULL_SPEED_MIN = 200


def full_speed_figures(latencies: Sequence[float], probes: Sequence[float]) -> tuple[float, float, float]:
    """From each message's latency and the two speed probes around it,
    added (seconds): the fastest probe in µs (5th percentile), the share of
    messages matched at about that speed, and their p99 in ms (0.0: fewer
    than `_FULL_SPEED_MIN` of them)."""
    fastest = percentile(sorted(probes), _FASTEST_PERCENTILE)
    at_full_speed = sorted(t for t, p in zip(latencies, probes, strict=True) if p <= _FULL_SPEED_SLACK * fastest)
    p99 = round(1000 * percentile(at_full_speed, 99), 3) if len(at_full_speed) >= _FULL_SPEED_MIN else 0.0
    return round(1e6 * fastest / 2, 1), round(len(at_full_speed) / len(latencies), 3), p99


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _pin_to_one_core() -> None:
    """"One core" literally, where the OS lets us choose."""
    if hasattr(os, "sched_getaffinity") and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})


# --- children: each measurement in a fresh process -----------------------------


def _child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: it imports this very `bot` package."""
    env = dict(os.environ, **extra)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    return env


def _run_python(args: list[str], env: dict[str, str], what: str, timeout: float) -> dict[str, Any]:
    """Run `python ARGS` and return the JSON it prints last; a failure names `what`."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise click.ClickException(f"{what} failed:\n{proc.stderr.strip()[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _child(role: str, args: dict[str, Any], *, timeout: float = 900) -> dict[str, Any]:
    """Run `python -m bot.bench ROLE ARGS` and return the JSON it prints last."""
    return _run_python(["-m", "bot.bench", role, json.dumps(args)], _child_env(), f"the {role} benchmark", timeout)


def _match_child(args: dict[str, Any]) -> dict[str, Any]:
    """Matching latency on one FAQ size (runs in the child)."""
    from .caching import freeze_long_lived
    from .engine import Engine
    from .faq import load_faq
    from .i18n import Catalogs

    _pin_to_one_core()
    faq = load_faq(Path(args["faq_dir"]), None)
    big = synthetic_faq(faq, args["times"], seed=args["seed"])
    catalogs = Catalogs(Path(args["locales_dir"]))
    started = time.perf_counter()
    engine = Engine(big, catalogs)
    index_s = time.perf_counter() - started
    freeze_long_lived()  # as the bot does once its engine is built
    if args.get("huge_pages", True):
        from .hugepages import collapse_heap

        collapse_heap()  # as the bot does (in a thread) once its engine is built
    eval_path = Path(args["eval_path"]) if args.get("eval_path") else None
    warmup, n = args["warmup"], args["messages"]
    messages = benchmark_messages(faq, warmup + n, eval_path=eval_path, seed=args["seed"] + 1)
    for text in messages[:warmup]:
        engine.reply(text)
    latencies: list[float] = []
    probes: list[float] = []  # per message: the speed probes before and after it, added
    clock = time.thread_time
    probe = _speed_probe
    for text in messages[warmup:]:
        before = probe()
        t0 = clock()
        engine.reply(text)
        latencies.append(clock() - t0)
        probes.append(before + probe())
    probe_us, share, p99_full_speed_ms = full_speed_figures(latencies, probes)
    return asdict(
        MatchFigures(
            entries=len(big.entries),
            p50_ms=round(1000 * statistics.median(latencies), 3),
            p99_ms=round(1000 * percentile(sorted(latencies), 99), 3),
            per_s=round(n / sum(latencies), 1),
            phrasings=sum(len(q) for e in big.entries.values() for q in e.questions.values()),
            index_s=round(index_s, 3),
            rss_mb=round(_peak_rss_mb(), 1),
            probe_us=probe_us,
            full_speed_share=share,
            p99_full_speed_ms=p99_full_speed_ms,
            times=args["times"],
        )
    )


# The start-up probe runs the code path of `jardam ask` up to a built engine.
# It is given as source so nothing but what `jardam` itself imports is loaded.
_STARTUP_PROBE = """\
import json, os, resource, time
from bot.cli import build_engine, settings_or_fail
build_engine(settings_or_fail())
ready = time.time()
print(json.dumps({
    "startup_s": ready - float(os.environ["JARDAM_BENCH_LAUNCH"]),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def _startup_once(**env_changes: str | None) -> dict[str, float]:
    """One fresh process through `_STARTUP_PROBE`: its start-up time and peak RSS."""
    env = _child_env(JARDAM_BENCH_LAUNCH=repr(time.time()))
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return _run_python(["-c", _STARTUP_PROBE], env, "the start-up probe", 120)


def measure_startup(runs: int = 3) -> tuple[float, float, float]:
    """(seconds from process start to engine ready with Python's bytecode
    cached, peak RSS in MB, the seconds as this environment runs it): the
    median times and the largest RSS over `runs` fresh processes of each.

    An installed Jardam has its modules compiled to bytecode (pip compiles
    them on install, in the Docker image too), and a checkout has them
    cached by its first run, unless Python may not write bytecode
    (``PYTHONDONTWRITEBYTECODE``, set on the machines this was built on):
    then each start compiles the bot's modules again, ~0.1–0.15 s.  So the
    headline figure is taken with the bytecode cached in a directory of its
    own (``PYTHONPYCACHEPREFIX``, filled by one unmeasured run; nothing is
    written beside the sources), and the other as the environment has it.
    The two kinds of run alternate, so both see the machine at the same
    speeds.
    """
    cached_times: list[float] = []
    env_times: list[float] = []
    rss: list[float] = []
    with tempfile.TemporaryDirectory() as cache:
        cached: dict[str, str | None] = {"PYTHONPYCACHEPREFIX": cache, "PYTHONDONTWRITEBYTECODE": None}
        _startup_once(**cached)  # compiles everything it imports into `cache`
        for _ in range(max(1, runs)):
            for times, changes in ((cached_times, cached), (env_times, {})):
                result = _startup_once(**changes)
                times.append(result["startup_s"])
                rss.append(result["rss_mb"])
    return round(statistics.median(cached_times), 3), round(max(rss), 1), round(statistics.median(env_times), 3)


# --- end to end -----------------------------------------------------------------

TOKEN = "123456:BENCH-token-never-real"
OPERATORS = -100777
# The bot's flood control lets a user send this many messages a minute.
MAX_PER_USER = 20


def _bot_child(args: dict[str, Any]) -> None:
    """The real bot, long-polling the fake server (runs in the child).

    Prints `ready` once polling, then answers `cpu` on standard input with
    its CPU seconds and peak RSS, and stops on `stop` or end of input.
    """
    import asyncio

    from .config import Settings
    from .engine import Engine
    from .faq import load_faq
    from .i18n import Catalogs
    from .store import Store
    from .telegram_app import build_application, start_polling_app, stop_polling_app

    settings = Settings(
        token=TOKEN,
        api_url=args["api_url"],
        operator_chat_id=OPERATORS,
        db_path=Path(args["db_path"]),
        faq_dir=Path(args["faq_dir"]),
        locales_dir=Path(args["locales_dir"]),
        seeds_dir=None,
    )

    async def main() -> None:
        engine = Engine(load_faq(settings.faq_dir, None), Catalogs(settings.locales_dir))
        store = Store(settings.db_path)
        app = build_application(settings, engine, store)
        await start_polling_app(app)
        print("ready", flush=True)
        while (await asyncio.to_thread(sys.stdin.readline)).strip() == "cpu":
            print(json.dumps({"cpu_s": _cpu_s(), "rss_mb": _peak_rss_mb()}), flush=True)
        await stop_polling_app(app)

    asyncio.run(main())


class _BotProcess:
    """The bot child, seen from the load generator."""

    def __init__(self, api_url: str, settings: Settings, tmp: Path):
        args = {
            "api_url": api_url,
            "db_path": str(tmp / "bench.db"),
            "faq_dir": str(settings.faq_dir),
            "locales_dir": str(settings.locales_dir),
        }
        self.stderr = (tmp / "bot.log").open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.bench", "bot", json.dumps(args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=_child_env(),
        )
        if self._line(60) != "ready":
            raise click.ClickException("the bot did not start:\n" + self.log())

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        result: list[str] = []

        def read() -> None:
            try:
                while line := stdout.readline():
                    if line.strip():
                        result.append(line.strip())
                        return
            except (OSError, ValueError):  # the bot went away
                return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else ""

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-3000:]

    def usage(self) -> tuple[float, float]:
        """(CPU seconds so far, peak RSS in MB) of the bot."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        data = json.loads(self._line(10) or "{}")
        return data["cpu_s"], data["rss_mb"]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.write("stop\n")
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


def _run_load(api: Any, texts: Sequence[str], chats: Sequence[int], langs: Sequence[str], rate: float | None, timeout: float) -> tuple[float, list[float]]:
    """Send `texts` (message i from chat i mod len(chats), whose user's
    Telegram language is `langs[chat mod len(langs)]`), all at once or at
    `rate` per second; wait for every reply.

    Returns (seconds from the first push to the last reply, reply latencies
    in seconds).  A reply is the bot's first `sendMessage` to that chat after
    the message, as the fake server records it; a chat's replies are paired
    with its messages in order.
    """
    start = api.checkpoint()
    pushed: dict[int, list[float]] = defaultdict(list)
    begin = time.time()
    for i, text in enumerate(texts):
        if rate:
            delay = begin + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        chat = chats[i % len(chats)]
        pushed[chat].append(time.time())
        api.push_text(chat, text, language_code=langs[chat % len(langs)])
    replies: dict[int, list[float]] = defaultdict(list)
    seen, received = start, 0
    deadline = time.monotonic() + timeout
    while received < len(texts):
        if time.monotonic() > deadline:
            raise click.ClickException(f"only {received} of {len(texts)} replies arrived within {timeout:.0f} s")
        time.sleep(0.02)
        end = api.checkpoint()
        for call in api.calls[seen:end]:
            chat = call.params.get("chat_id")
            if call.method == "sendMessage" and call.ok and chat in pushed:
                replies[chat].append(call.time)
                received += 1
        seen = end
    latencies = []
    last = 0.0
    for chat, times in pushed.items():
        answered = sorted(replies[chat])
        latencies += [reply - sent for sent, reply in zip(times, answered, strict=False)]
        last = max(last, answered[-1])
    first = min(t for times in pushed.values() for t in times)
    return last - first, sorted(latencies)


@contextlib.contextmanager
def _quick_thread_switches(interval_s: float = 0.0005) -> Iterator[None]:
    """Let this process's threads take turns every `interval_s`.

    The fake server answers each connection in a thread of this process; at
    the interpreter's default switch interval (5 ms) a thread waits for the
    GIL that long, and the server — a stand-in for Telegram, not what is
    measured — becomes the bottleneck.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this process while it runs.

    The fake server and the load generator keep every call, update and
    reply they handle, and this process's collector, walking them all,
    held the fake server (all its threads: it is one process) for
    100–200 ms at the same two points of every latency run: the replies
    in flight waited it out, and the p99 reply latency measured the
    stand-in for Telegram (38–85 ms) rather than the bot (17–20 ms, as it
    then was, with the collector paused).  Reference counting still frees what it frees;
    the cycles left are collected afterwards.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def bench_e2e(settings: Settings, texts: Sequence[str], *, users: int, messages: int, rate: float) -> E2EFigures:
    """The real bot in its own process against the fake server in this one."""
    from .fakebotapi import FakeBotAPI

    rng = random.Random(7)
    langs = [rng.choice(LANGS) for _ in range(997)]
    # Enough users that none trips the flood control.
    users = max(users, math.ceil(messages / MAX_PER_USER))
    timeout = 60 + messages / 20
    with tempfile.TemporaryDirectory() as tmp, _quick_thread_switches(), _collector_paused():
        api = FakeBotAPI(token=TOKEN).start()
        try:
            bot = _BotProcess(api.base_url, settings, Path(tmp))
        except BaseException:
            api.stop()
            raise
        try:
            # Warm-up: connections opened, caches and SQLite pages filled.
            warm = list(texts[: min(len(texts), 100)])
            _run_load(api, warm, range(900_000, 900_000 + len(warm)), langs, None, timeout)
            bot_cpu0, _ = bot.usage()
            own_cpu0 = _cpu_s()
            wall, _ = _run_load(api, texts[:messages], range(100_000, 100_000 + users), langs, None, timeout)
            bot_cpu1, _ = bot.usage()
            own_cpu = _cpu_s() - own_cpu0
            paced = [texts[(i + messages) % len(texts)] for i in range(messages)]
            _, latencies = _run_load(api, paced, range(200_000, 200_000 + users), langs, rate, timeout)
            _, rss = bot.usage()
        except BaseException:
            click.echo(bot.log(), err=True)
            raise
        finally:
            # The server's threads report the bot's connections going away as
            # errors; they are not.
            with contextlib.redirect_stderr(io.StringIO()):
                bot.stop()
                api.stop()
    return E2EFigures(
        msgs_per_s=round(messages / wall, 1),
        p50_ms=round(1000 * statistics.median(latencies), 2),
        p99_ms=round(1000 * percentile(latencies, 99), 2),
        rate=rate,
        users=users,
        messages=messages,
        bot_cpu_pct=round(100 * (bot_cpu1 - bot_cpu0) / wall, 1),
        fake_cpu_pct=round(100 * own_cpu / wall, 1),
        fake_max_msgs_per_s=round(messages / own_cpu, 1) if own_cpu > 0 else 0.0,
        bot_rss_mb=round(rss, 1),
        bot_cpu_ms_per_msg=round(1000 * (bot_cpu1 - bot_cpu0) / messages, 2),
    )


# --- the whole benchmark -----------------------------------------------------------


@dataclass(frozen=True)
class BenchResult:
    match: list[MatchFigures]
    startup_s: float  # with the bytecode cached, as installed (`measure_startup`)
    rss_mb: float
    e2e: E2EFigures
    startup_env_s: float = 0.0  # as this environment runs it (compiling, if it may not cache bytecode)

    def as_json(self) -> dict[str, Any]:
        return {
            "match": [asdict(m) for m in self.match],
            "startup_s": self.startup_s,
            "startup_env_s": self.startup_env_s,
            "rss_mb": self.rss_mb,
            "e2e": asdict(self.e2e),
        }


def run_bench(
    settings: Settings,
    *,
    sizes: Sequence[int] = (1, 10, 100),
    messages: int = 2000,
    warmup: int = 200,
    users: int = 200,
    e2e_messages: int = 3000,
    e2e_rate: float = 100.0,
    startup_runs: int = 3,
    progress: Any = None,
) -> BenchResult:
    """Every figure of `jardam bench`, measured one after the other (never
    two at once: they would share the machine's cores)."""
    from .faq import load_faq

    say = progress or (lambda _msg: None)
    eval_path = settings.faq_dir.parent / "tests" / "eval" / "questions.yaml"
    base = {
        "faq_dir": str(settings.faq_dir),
        "locales_dir": str(settings.locales_dir),
        "eval_path": str(eval_path) if eval_path.is_file() else "",
        "messages": messages,
        "warmup": warmup,
        "seed": 0,
        "huge_pages": settings.huge_pages,
    }
    match = []
    for times in sizes:
        say(f"matching on the FAQ ×{times} …")
        match.append(MatchFigures(**_child("match", {**base, "times": times})))
    say("start-up …")
    startup_s, rss_mb, startup_env_s = measure_startup(startup_runs)
    say(f"end to end: {e2e_messages} messages from {users} users …")
    faq = load_faq(settings.faq_dir, None)
    texts = benchmark_messages(faq, max(2 * e2e_messages, 200), eval_path=eval_path if eval_path.is_file() else None, seed=3)
    e2e = bench_e2e(settings, texts, users=users, messages=e2e_messages, rate=e2e_rate)
    return BenchResult(match, startup_s, rss_mb, e2e, startup_env_s)


def format_table(result: BenchResult) -> str:
    """The figures for people: the FAQ sizes side by side."""

    def size(m: MatchFigures) -> str:
        return "shipped" if m.times == 1 else f"{m.times}×"

    rows = [
        ("entries", [f"{m.entries}" for m in result.match]),
        ("phrasings", [f"{m.phrasings}" for m in result.match]),
        ("index build, s", [f"{m.index_s:.2f}" for m in result.match]),
        ("p50, ms", [f"{m.p50_ms:.2f}" for m in result.match]),
        ("p99, ms", [f"{m.p99_ms:.2f}" for m in result.match]),
        ("at full speed", [f"{100 * m.full_speed_share:.0f} %" for m in result.match]),
        ("  their p99, ms", [f"{m.p99_full_speed_ms:.2f}" if m.p99_full_speed_ms else "–" for m in result.match]),
        ("speed probe, µs", [f"{m.probe_us:.0f}" for m in result.match]),
        ("messages/s", [f"{m.per_s:.0f}" for m in result.match]),
        ("peak RSS, MB", [f"{m.rss_mb:.0f}" for m in result.match]),
    ]
    width = max(9, *(len(v) for _, vals in rows for v in vals))
    lines = ["Matching: Engine.reply per message, one core", f"{'FAQ size':<16}" + "".join(f"{size(m):>{width + 2}}" for m in result.match)]
    lines += [f"{name:<16}" + "".join(f"{v:>{width + 2}}" for v in vals) for name, vals in rows]
    lines += [
        "(At full speed: the messages around which a fixed piece of Python, the speed probe,",
        f" ran within {100 * (_FULL_SPEED_SLACK - 1):.0f} % of its fastest time in the run; a shared host can slow a core for seconds.)",
    ]
    e = result.e2e
    lines += [
        "",
        f"Start-up to ready (FAQ loaded and indexed): {result.startup_s:.2f} s; peak RSS {result.rss_mb:.0f} MB",
        f"  (with Python's bytecode cached, as installed; as this environment runs it: {result.startup_env_s:.2f} s)",
        "",
        f"End to end: the real bot (python-telegram-bot, SQLite) against the fake Bot API, {e.users} users",
        f"  throughput     {e.msgs_per_s:.0f} messages/s ({e.messages} messages sent at once)",
        f"  reply latency  p50 {e.p50_ms:.1f} ms, p99 {e.p99_ms:.1f} ms at {e.rate:.0f} messages/s",
        f"  CPU            bot {e.bot_cpu_pct:.0f} % ({e.bot_cpu_ms_per_msg:.1f} ms per message), fake server and load "
        f"{e.fake_cpu_pct:.0f} % (it could take ~{e.fake_max_msgs_per_s:.0f} messages/s); bot peak RSS {e.bot_rss_mb:.0f} MB",
    ]
    return "\n".join(lines)


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(s) for s in value.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("a comma-separated list of whole numbers ≥ 1, like 1,10,100")
    return sizes


@click.command("bench")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the last line of output).")
@click.option("--sizes", default="1,10,100", show_default=True, help="FAQ sizes, as multiples of the shipped FAQ.")
@click.option("--messages", type=click.IntRange(min=1), default=2000, show_default=True, help="Messages matched per FAQ size.")
@click.option("--users", type=click.IntRange(min=1), default=200, show_default=True, help="Users sending at once, end to end.")
@click.option("--e2e-messages", type=click.IntRange(min=1), default=3000, show_default=True, help="Messages sent to the bot in each end-to-end run.")
@click.option("--e2e-rate", type=click.FloatRange(min=1), default=100.0, show_default=True, help="Messages per second while reply latency is measured.")
@click.option("--startup-runs", type=click.IntRange(min=1), default=3, show_default=True, help="Fresh processes timed for start-up (the median is shown).")
def bench_command(as_json: bool, sizes: str, messages: int, users: int, e2e_messages: int, e2e_rate: float, startup_runs: int) -> None:
    """Measure speed and memory: matching at several FAQ sizes, start-up,
    and the real bot end to end against a fake Bot API on 127.0.0.1.

    Takes a few minutes with the defaults; progress goes to standard error.

    \b
    Examples:
      jardam bench
      jardam bench --json
      jardam bench --sizes 1,10 --messages 500 --e2e-messages 600
    """
    from .config import ConfigError

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    result = run_bench(
        settings,
        sizes=_sizes(sizes),
        messages=messages,
        warmup=min(200, messages),
        users=users,
        e2e_messages=e2e_messages,
        e2e_rate=e2e_rate,
        startup_runs=startup_runs,
        progress=lambda msg: click.echo(msg, err=True),
    )
    click.echo(json.dumps(result.as_json()) if as_json else format_table(result))


if __name__ == "__main__":  # the children: python -m bot.bench ROLE JSON
    if sys.argv[1] == "match":
        print(json.dumps(_match_child(json.loads(sys.argv[2]))))
    elif sys.argv[1] == "bot":
        _bot_child(json.loads(sys.argv[2]))
