"""The `jardam` command: a thin click layer over the library.

Each command reads the settings, opens what it needs, calls one library
function and turns user errors into `click.ClickException`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from .config import ConfigError, Settings
from .faq import FAQ, LANGS, FAQError, load_faq

# Imported by the commands that use them, not here: the store pulls in
# sqlite_utils (and through it numpy), the engine rapidfuzz and Babel, and
# the benchmark and stress commands a fake Bot API server; together about
# half of the start-up time of commands that need none of them (see
# "Performance" in the README).
if TYPE_CHECKING:
    from .engine import Engine, Reply
    from .store import Store

LANG_CHOICE = click.Choice(list(LANGS))


class BotUsername(click.ParamType):
    """A Telegram bot's username, as people copy it: `jardam_bot`,
    `@jardam_bot`, `t.me/jardam_bot` or `https://t.me/jardam_bot` all give
    `jardam_bot`.  Anything else is refused: a link made of it would open
    no bot (`https://t.me/https://t.me/jardam_bot?start=…`)."""

    name = "username"
    _LINK = re.compile(r"(?:(?:https?://)?(?:www\.)?(?:t|telegram)\.me/)?@?(?P<name>[^/]*)/?", re.IGNORECASE)
    # Telegram's rule: 5 to 32 letters, digits or underscores, starting with a letter; a bot's ends in "bot".
    _USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,28}bot", re.IGNORECASE)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        link = self._LINK.fullmatch(text)
        if link is None or not self._USERNAME.fullmatch(link["name"]):
            why = "5 to 32 letters, digits or _, starting with a letter and ending in 'bot' (e.g. jardam_bot, @jardam_bot or t.me/jardam_bot)"
            self.fail(f"{text!r} is not a Telegram bot username: {why}", param, ctx)
        return link["name"]


def settings_or_fail() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def load_faq_or_fail(settings: Settings) -> FAQ:
    try:
        return load_faq(settings.faq_dir, settings.seeds_dir, shown_root=Path.cwd())
    except FAQError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"the FAQ has {len(exc.problems)} problem(s); fix them and run `jardam faq check`") from exc


def build_engine(settings: Settings) -> Engine:
    from .engine import Engine
    from .i18n import Catalogs

    return Engine(load_faq_or_fail(settings), Catalogs(settings.locales_dir), default_lang=settings.default_lang)


def open_store(settings: Settings) -> Store:
    from .store import Store, StoreError

    try:
        return Store(settings.db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


def open_existing_store(settings: Settings) -> Store:
    """The store for commands that report on or edit what the bot recorded:
    a wrong path (the default is relative to the current directory) must not
    create an empty database and report zeros."""
    if not settings.db_path.is_file():
        raise click.ClickException(f"no database at {settings.db_path.absolute()} (set JARDAM_DB)")
    return open_store(settings)


@contextmanager
def existing_store(settings: Settings) -> Iterator[Store]:
    """`open_existing_store`, closed after the block.  A database error in
    it (locked by another process's write for longer than the store waits,
    disk full, read-only) is one line and status 1, as at start-up, not a
    traceback."""
    import sqlite3

    from .store import database_error

    store = open_existing_store(settings)
    try:
        yield store
    except sqlite3.Error as exc:
        raise click.ClickException("; ".join([database_error(store.path, exc), *getattr(exc, "__notes__", [])])) from exc
    finally:
        store.close()


class LazyGroup(click.Group):
    """A command group whose listed subcommands are imported when used.

    Click's documented pattern for lazily loaded subcommands: `jardam ask`
    does not import the benchmark or the stress run (and the fake Bot API
    server they bring), which would cost every command tens of
    milliseconds.  `jardam --help` imports them, to show their help.
    """

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # command name -> "module:attribute"
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name, __package__), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    # Each lives in its own module.
    lazy_subcommands={"stress": ".stress:stress_command", "bench": ".bench:bench_command"},
)
@click.version_option(package_name="jardam")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Jardam: answers Kyrgyz migrant workers' questions from a checked FAQ.

    With no command: the Telegram bot when TELEGRAM_BOT_TOKEN is set, the
    terminal chat otherwise.

    \b
    Examples:
      jardam                 # bot or chat, whichever is configured
      jardam chat            # try it in the terminal
      jardam ask "patent kerekpi"
      jardam faq check
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_fail()
    if settings.token:
        ctx.invoke(run)
    else:
        ctx.invoke(chat)


@cli.command()
@click.option("--lang", type=LANG_CHOICE, help="Your language when a message does not show it.")
def chat(lang: str | None) -> None:
    """Chat with the engine in the terminal.

    Unanswered questions are recorded in the database (JARDAM_DB) for the
    team, as the bot does.  Type a number to pick an offered choice, /lang
    ky|ru|en to switch language, and /quit (or Ctrl-D) to leave.

    \b
    Example:
      jardam chat --lang ky
    """
    from .chat import run_chat

    settings = settings_or_fail()
    engine = build_engine(settings)
    store = open_store(settings)
    try:
        run_chat(engine, store, user_lang=lang or settings.default_lang)
    finally:
        store.close()


def _as_the_bot_says(reply: Reply, engine: Engine, settings: Settings) -> Reply:
    """The reply as the bot configured by `settings` shows it: the engine's
    hand-off promises a person, who answers only where OPERATOR_CHAT_ID
    names an operators' group."""
    from .engine import HANDOFF_RECORDED

    if reply.outcome != "handoff" or settings.operator_chat_id is not None:
        return reply
    return dataclasses.replace(reply, text=engine.catalogs.gettext(reply.lang, HANDOFF_RECORDED))


def _print_reply(reply: Reply, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(reply.as_json(), ensure_ascii=False))
    else:
        click.echo(reply.text)


@cli.command()
@click.option("--lang", type=LANG_CHOICE, help="The user's chosen language, used when the text does not show one.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer.")
@click.argument("text", nargs=-1, required=True)
def ask(lang: str | None, as_json: bool, text: tuple[str, ...]) -> None:
    """Answer one message; with TEXT "-", answer each line of standard input.

    JSON objects carry outcome (answer, clarify, handoff), id, lang,
    confidence (0-100), text (what the user would be shown: a hand-off
    promises a person only when OPERATOR_CHAT_ID is set) and choices.

    \b
    Examples:
      jardam ask "kak proverit zapret na vezd"
      jardam ask --json --lang ky "Amina?"
      printf 'patent kerekpi\\nAmina?\\n' | jardam ask --json -
    """
    settings = settings_or_fail()
    engine = build_engine(settings)
    if text == ("-",):
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line.strip():
                _print_reply(_as_the_bot_says(engine.reply(line, lang), engine, settings), as_json)
        return
    _print_reply(_as_the_bot_says(engine.reply(" ".join(text), lang), engine, settings), as_json)


@cli.group()
def faq() -> None:
    """Check and inspect the FAQ files."""


@faq.command("check")
@click.option(
    "--dir",
    "faq_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="FAQ directory (default: JARDAM_FAQ_DIR if set, else faq/ in the current directory if there is one, else the FAQ installed with Jardam).",
)
def faq_check(faq_dir: Path | None) -> None:
    """Validate every FAQ file; print problems as file:line: reason.

    Exits with status 1 if there is any problem.  The last line says which
    directory was checked.

    \b
    Example:
      jardam faq check
    """
    settings = settings_or_fail()
    checked = (faq_dir or settings.faq_dir).absolute()
    try:
        loaded = load_faq(checked, settings.seeds_dir, shown_root=Path.cwd())
    except FAQError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"{len(exc.problems)} problem(s) found in {checked}.", err=True)
        sys.exit(1)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    phrasings = sum(len(q) for e in loaded.entries.values() for q in e.questions.values())
    subjects = f", {len(loaded.out_of_scope)} out-of-scope subjects" if loaded.out_of_scope else ""
    click.echo(
        f"OK: {len(loaded.entries)} entries in {len(loaded.topics)} topics, {phrasings} phrasings{subjects}, languages {', '.join(LANGS)}; "
        f"checked {checked}."
    )


@faq.command("links")
@click.option(
    "--bot",
    "username",
    type=BotUsername(),
    envvar="TELEGRAM_BOT_USERNAME",
    required=True,
    help="The bot's username, @username or t.me link (or TELEGRAM_BOT_USERNAME).",
)
@click.option("--lang", type=LANG_CHOICE, default="en", show_default=True, help="Language of the titles.")
def faq_links(username: str, lang: str) -> None:
    """Print a deep link for every entry, to share one answer.

    A link opens the bot with that entry's answer (`/start ENTRY_ID`).

    \b
    Example:
      jardam faq links --bot jardam_bot --lang ky
    """
    loaded = load_faq_or_fail(settings_or_fail())
    for topic in loaded.topics:
        for entry_id in topic.entry_ids:
            title = loaded.entries[entry_id].title[lang]
            click.echo(f"https://t.me/{username}?start={entry_id}\t{title}")


@cli.command("eval")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--tune", is_flag=True, help="Search the tuning on the dev splits (FILE's and --also's) and print it.")
@click.option("--write", is_flag=True, help="With --tune: save the result into bot/tuning.py, if it beats the shipped tuning.")
@click.option(
    "--also",
    "also",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="With --tune: tune on this set's dev split too (repeatable; default tests/eval/reviews.yaml when FILE is not given).",
)
@click.option("--thresholds-only", is_flag=True, help="With --tune: keep the matcher's weights, fit only the confidence model and thresholds.")
def eval_cmd(file: Path | None, as_json: bool, tune: bool, write: bool, also: tuple[Path, ...], thresholds_only: bool) -> None:
    """Measure the engine on a labelled question set, beside a naive baseline.

    FILE defaults to tests/eval/questions.yaml.  Figures are printed for the
    dev split (used for tuning), the holdout split (never tuned on) and both.

    --tune fits on the dev splits of FILE and of the review set (the
    reviewers' messages and look-alikes, tests/eval/reviews.yaml): the
    labelled set alone has almost no look-alike left for the confidence
    model to learn from.

    \b
    Examples:
      jardam eval
      jardam eval --tune --thresholds-only
      jardam eval --tune --write && jardam eval
    """
    from dataclasses import asdict

    from .evaluation import better_of, format_report, load_items, rewrite_tuning_module, run_report, split_items, tune_engine

    settings = settings_or_fail()
    engine = build_engine(settings)
    path = file or settings.faq_dir.parent / "tests" / "eval" / "questions.yaml"
    try:
        items = load_items(path, engine.faq)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    except ValueError as exc:  # it names the file and the item
        raise click.ClickException(str(exc)) from exc
    if not tune and (also or thresholds_only):
        raise click.UsageError("--also and --thresholds-only go with --tune")
    if tune:
        reviews = settings.faq_dir.parent / "tests" / "eval" / "reviews.yaml"
        extra = also or ((reviews,) if file is None and reviews.is_file() else ())
        dev = split_items(items)["dev"]
        for other in extra:
            try:
                dev += split_items(load_items(other, engine.faq))["dev"]
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise click.ClickException(f"cannot read {other}: {exc}") from exc
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
        click.echo(f"tuning on {len(dev)} dev messages from {', '.join(str(p) for p in (path, *extra))}", err=True)
        found = tune_engine(dev, engine.faq, engine.tuning, weights=not thresholds_only)
        click.echo(json.dumps(asdict(found), indent=2))
        best, before, after = better_of(dev, engine, found)
        click.echo(f"dev objective through the engine's replies: shipped {before:.2f}, found {after:.2f}", err=True)
        if best is not found:
            click.echo("The shipped tuning scores at least as well: it is kept.", err=True)
            return
        if write:
            from . import tuning as tuning_module

            target = Path(tuning_module.__file__)
            target.write_text(rewrite_tuning_module(target.read_text(encoding="utf-8"), best), encoding="utf-8")
            click.echo(f"written to {target}", err=True)
        return
    if write:
        raise click.UsageError("--write goes with --tune")
    report = run_report(items, engine)
    if as_json:
        out = {
            who: {split: {lang: t.summary() for lang, t in per.items()} for split, per in data.items()}
            for who, data in (("engine", report.engine), ("baseline", report.baseline))
        }
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(format_report(report))


REVIEW_STATES = click.Choice(["open", "resolved", "ignored", "all"])


@cli.group(invoke_without_command=True)
@click.option("--status", type=REVIEW_STATES, default="open", show_default=True, help="Review state to list.")
@click.option("--lang", type=LANG_CHOICE, help="Only questions in this language.")
@click.option("--since", help="From this date (YYYY-MM-DD) on.")
@click.option("--until", help="Up to this date (YYYY-MM-DD), inclusive.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of a table.")
@click.pass_context
def review(ctx: click.Context, status: str, lang: str | None, since: str | None, until: str | None, as_json: bool, as_csv: bool) -> None:
    """Unanswered questions, grouped into clusters of the same question.

    Biggest cluster first, each with its languages, examples, first and last
    seen, the nearest FAQ entry and a suggestion: "add as a phrasing of
    ENTRY", "new entry needed", or "answered now" for questions whose text
    has become a phrasing since (resolve them).  Handed-off questions, "did you mean"
    clarifications (with the entry users chose) and 👎 answers all count.

    \b
    Examples:
      jardam review --lang ky --since 2026-11-01
      jardam review --csv > review.csv
      jardam review resolve 12 14
      jardam review ignore 15 c3
      jardam review promote 12 ban-check
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if ctx.invoked_subcommand is not None:
        return
    from . import review as reviewing

    settings = settings_or_fail()
    with existing_store(settings) as store:
        engine = build_engine(settings)
        try:
            clusters = reviewing.review(store, engine, status=status, lang=lang, since=since, until=until)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(reviewing.to_json(clusters))
    elif as_csv:
        click.echo(reviewing.to_csv(clusters), nl=False)
    else:
        click.echo(reviewing.format_table(clusters))


def _set_review_state(refs: tuple[str, ...], state: str) -> None:
    from . import review as reviewing

    with existing_store(settings_or_fail()) as store:
        try:
            changed = reviewing.set_status(store, refs, state)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{changed} marked {state}.")


@review.command("resolve")
@click.argument("refs", nargs=-1, required=True)
def review_resolve(refs: tuple[str, ...]) -> None:
    """Mark questions (12, #12) or clarifications (c3) resolved."""
    _set_review_state(refs, "resolved")


@review.command("ignore")
@click.argument("refs", nargs=-1, required=True)
def review_ignore(refs: tuple[str, ...]) -> None:
    """Mark questions ignored; their look-alikes stay out of the list too."""
    _set_review_state(refs, "ignored")


@review.command("reopen")
@click.argument("refs", nargs=-1, required=True)
def review_reopen(refs: tuple[str, ...]) -> None:
    """Undo a resolve or ignore."""
    _set_review_state(refs, "open")


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


@review.command("promote")
@click.argument("ref")
@click.argument("entry_id")
@click.option("--force", is_flag=True, help="Add it even though the question is closest to a known out-of-scope subject, or has no informative word.")
def review_promote(ref: str, entry_id: str, force: bool) -> None:
    """Add a question's text as a phrasing of ENTRY_ID in its YAML file.

    Only one line is added (comments, order and layout stay); the FAQ is
    then checked, and the file restored if the check fails.  A question
    closest to a known out-of-scope subject (money transfers, Russian
    citizenship…), above ENTRY_ID, or with no word that tells one entry
    from another ("yes", "ok", "а где?"), is refused unless --force is given.

    \b
    Example:
      jardam review promote 12 ban-check
    """
    from . import review as reviewing

    settings = settings_or_fail()
    with existing_store(settings) as store:
        try:
            path = reviewing.promote(store, settings.faq_dir, ref, entry_id, seeds_dir=settings.seeds_dir, force=force, warn=_warn)
        except reviewing.NeedsForceError as exc:
            raise click.ClickException(f"{exc} Use --force to add it all the same.") from exc
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        except FAQError as exc:
            raise click.ClickException(f"the FAQ would break, nothing changed:\n{exc}") from exc
    click.echo(f"Added to {path}; `jardam faq check` passes. Reload the bot (/reload or SIGHUP) to use it.")


@cli.command()
@click.option("--since", help="From this date (YYYY-MM-DD) on.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def stats(since: str | None, as_json: bool) -> None:
    """Usage: messages, users, outcomes per language and topic, 👍/👎, operators' answer time.

    \b
    Example:
      jardam stats --since 2026-11-01
    """
    from . import stats as statistics

    settings = settings_or_fail()
    faq_loaded = load_faq_or_fail(settings)
    with existing_store(settings) as store:
        try:
            figures = statistics.compute(store, faq_loaded, since=since)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(figures, ensure_ascii=False) if as_json else statistics.format_table(figures))


DEFAULT_RETENTION_DAYS = 180
# Open questions: an operator may still answer one after the retention
# period, but one left untouched for a year is given up, text and all.
DEFAULT_OPEN_RETENTION_DAYS = 365
# A century: more is no retention period, and a date that many days ago
# soon does not exist (800000 days is before the year 1: OverflowError).
MAX_RETENTION_DAYS = 36500
RETENTION_DAYS = click.IntRange(min=1, max=MAX_RETENTION_DAYS)


@cli.command()
@click.option(
    "--older-than",
    "days",
    type=RETENTION_DAYS,
    default=DEFAULT_RETENTION_DAYS,
    show_default=True,
    help="Delete records older than this many days.",
)
@click.option(
    "--open-older-than",
    "open_days",
    type=RETENTION_DAYS,
    default=DEFAULT_OPEN_RETENTION_DAYS,
    show_default=True,
    help="Close and delete open questions untouched for this many days (at least --older-than).",
)
def purge(days: int, open_days: int) -> None:
    """Delete old records from the database (JARDAM_DB).

    Messages still waiting to be delivered are kept whatever their age.
    Answered and closed questions are as old as their last answer,
    follow-up or closing; open questions are kept until --open-older-than
    days without a post, follow-up or answer.  Users go once nothing of
    theirs is left.

    \b
    Example:
      jardam purge --older-than 90
    """
    with existing_store(settings_or_fail()) as store:
        deleted = store.purge(days, max(open_days, days))
    click.echo(f"Deleted records older than {days} days: " + ", ".join(f"{n} {table}" for table, n in deleted.items()))


@cli.command()
def run() -> None:
    """Run the Telegram bot (needs TELEGRAM_BOT_TOKEN).

    \b
    Example:
      TELEGRAM_BOT_TOKEN=123:abc OPERATOR_CHAT_ID=-100123 jardam run
    """
    # First of all: a `kill -HUP` (a deploy's `git pull && kill -HUP`) may
    # come while the bot starts, and would end it (SIGHUP's default action).
    # Until the bot's own reload is in place it is noted, then done once.
    sighup = threading.Event()
    if hasattr(signal, "SIGHUP"):  # not on Windows, where no one sends it
        signal.signal(signal.SIGHUP, lambda signum, frame: sighup.set())
    settings = settings_or_fail()
    if not settings.token:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set. To try Jardam without Telegram, run: jardam chat")
    lock = hold_run_lock(settings.db_path)  # before the slow part of the start: a second one stops at once
    from .telegram_app import run_bot

    try:
        # Straight into the bot, which frees it when a FAQ reload replaces it.
        run_bot(settings, build_engine(settings), open_store(settings), sighup=sighup)
    finally:
        os.close(lock)


def hold_run_lock(db_path: Path) -> int:
    """An exclusive lock on `<db>.lock` beside the database, for `jardam
    run` only, held while the process lives (the kernel lets go of it when
    the process ends, however it ends): two bots on one database would both
    poll Telegram, take each other's updates and answer some twice.  The
    file holds the holder's pid, for the message the second one gets.
    (`fcntl` is imported here, not with the module: without it, on Windows,
    every other command, `faq check` for an editor above all, still runs.)"""
    import fcntl

    real = db_path.resolve()  # one lock for a database reached through a symlink too
    path = real.with_name(real.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise click.ClickException(f"cannot lock the database {db_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise click.ClickException(f"another jardam run is using {db_path} (pid {holder})") from None
    except OSError as exc:
        os.close(fd)
        raise click.ClickException(f"cannot lock the database {db_path}: {exc}") from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def main() -> None:
    cli()
