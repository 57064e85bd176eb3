"""Loading and validating the FAQ (`faq/*.yaml`).

FAQ editors are consular or NGO staff editing YAML in git.  When they break
something they need the file, the line and the reason, all problems at once,
and a running bot must keep its last good FAQ.  So loading never stops at
the first problem: it collects `Problem`s and raises `FAQError` with all of
them, and only a FAQ without problems is ever returned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .normalize import skeleton

LANGS: tuple[str, ...] = ("ky", "ru", "en")
MIN_QUESTIONS = 5
MAX_ANSWER_CHARS = 1200
MAX_TITLE_CHARS = 60
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Entry and topic ids travel in button data (Telegram: at most 64 bytes, and
# 👎 is "f:ID:down") and in deep links (/start ID, at most 64 characters).
MAX_ID_CHARS = 50
SEED_RE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
SOURCES_FILE = "_sources.yaml"
OUT_OF_SCOPE_FILE = "_out_of_scope.yaml"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the FAQ, where an editor can find it."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class FAQError(Exception):
    """The FAQ cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem], *, first: Sequence[Problem] = ()):
        # In the order an editor goes through the files: file by file, line
        # by line (they are found check by check), the order of one line's
        # kept; but a file that could not be used at all (`first`: unreadable,
        # empty) comes before everything, as what follows from it comes after.
        def in_order(some: Iterable[Problem]) -> list[Problem]:
            return sorted(some, key=lambda p: (p.file, p.line))

        self.problems = in_order(p for p in problems if p in first) + in_order(p for p in problems if p not in first)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    title: Mapping[str, str]
    questions: Mapping[str, tuple[str, ...]]
    answer: Mapping[str, str]
    sources: tuple[str, ...]
    reviewed: dt.date
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    # A known out-of-scope subject (`_out_of_scope.yaml`): matched like an
    # entry so that questions about it lose to it, never answered.
    out_of_scope: bool = False


@dataclass(frozen=True)
class Topic:
    id: str
    title: Mapping[str, str]
    entry_ids: tuple[str, ...]
    file: str


@dataclass(frozen=True)
class FAQ:
    """A validated FAQ: every entry has all languages and resolvable links."""

    topics: tuple[Topic, ...]
    entries: Mapping[str, Entry]
    sources: Mapping[str, Source]
    loaded_from: str = ""
    warnings: tuple[str, ...] = field(default=())
    out_of_scope: Mapping[str, Entry] = field(default_factory=dict)

    def matchable(self) -> list[Entry]:
        """What the matcher indexes: the entries, then the out-of-scope subjects."""
        return [*self.entries.values(), *self.out_of_scope.values()]

    def entry(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


# --- YAML with line numbers -------------------------------------------------


class _LineDict(dict[Any, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int
    key_lines: dict[Any, int]


class _LineList(list[Any]):
    line: int
    item_lines: list[int]
    # index -> (last line, style) of each text item written over several
    # lines, which YAML joins into one: a phrasing indented under the one
    # above becomes part of it
    item_spans: dict[int, tuple[int, str | None]]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records 1-based line numbers and rejects duplicate keys."""

    duplicate_keys: list[tuple[int, str]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:  # type: ignore[override]
        mapping = _LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "a key must be plain text, not a list or a mapping", key_node.start_mark) from None
            if key in mapping:
                self.duplicate_keys.append((key_node.start_mark.line + 1, str(key)))
            mapping[key] = self.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date, or a marked error for one that does not exist (2026-02-30)."""
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(self, node)  # type: ignore[arg-type]
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark) from None

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> Any:  # type: ignore[override]
        seq = _LineList(self.construct_object(child, deep=True) for child in node.value)  # type: ignore[no-untyped-call]
        seq.line = node.start_mark.line + 1
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        seq.item_spans = {
            i: (child.end_mark.line + 1, child.style)
            for i, child in enumerate(node.value)
            # Quoted text wrapped over lines is joined as its editor meant;
            # a plain one usually is a phrasing indented under the one above.
            if child.end_mark.line != child.start_mark.line and isinstance(child, yaml.ScalarNode) and child.style not in ('"', "'")
        }
        return seq


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_timestamp)


# libyaml's parser (when PyYAML was built with it) reads the FAQ several times
# faster, which is most of the start-up time.  The same constructors build
# the same data from it; a file it rejects, or with characters PyYAML's own
# reader would reject, is read again by `_LineLoader`, whose error messages
# editors see.
_CLineLoader: Any = None
if hasattr(yaml, "CSafeLoader"):

    class _LibyamlLineLoader(yaml.CSafeLoader):
        duplicate_keys: list[tuple[int, str]]
        construct_mapping = _LineLoader.construct_mapping
        construct_sequence = _LineLoader.construct_sequence
        construct_timestamp = _LineLoader.construct_timestamp

    _LibyamlLineLoader.add_constructor("tag:yaml.org,2002:map", _LibyamlLineLoader.construct_mapping)
    _LibyamlLineLoader.add_constructor("tag:yaml.org,2002:seq", _LibyamlLineLoader.construct_sequence)
    _LibyamlLineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LibyamlLineLoader.construct_timestamp)
    _CLineLoader = _LibyamlLineLoader


def _read_yaml_fast(text: str) -> tuple[Any, list[tuple[int, str]]] | None:
    """(data, duplicate keys) through libyaml; None where it cannot be used."""
    if _CLineLoader is None:
        return None
    loader = _CLineLoader(text)
    loader.duplicate_keys = []
    try:
        return loader.get_single_data(), loader.duplicate_keys
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):  # `_LineLoader` says where and why
        return None
    finally:
        loader.dispose()


# What the characters YAML refuses usually are, for the editor who has to
# find an invisible one (they come with text copied from Word, PDFs, chats).
_CONTROL_NAMES = {
    0x00: "a NUL byte",
    0x08: "a backspace",
    0x0B: "Word's Shift+Enter line break",
    0x0C: "a page break",
    0x1B: "an escape code",
    0x7F: "a delete code",
    0x85: "a next-line code, from text decoded wrongly, which YAML reads as a line break",
    0x2028: "a Unicode line separator, pasted from a web page or PDF, which YAML reads as a line break",
    0x2029: "a Unicode paragraph separator, which YAML reads as a line break",
}
# Characters YAML refuses, and those it takes for line breaks where an
# editor shows none: they shift every line number after them, or break the
# syntax far from where they are.
_NOT_ALLOWED = re.compile(f"{yaml.reader.Reader.NON_PRINTABLE.pattern}|[\x85\u2028\u2029]")
_LINE_BREAKING = frozenset((0x85, 0x2028, 0x2029))
MAX_CONTROL_LINES = 5  # lines reported per file; a file full of them is reported by its first few


def _control_characters(text: str, shown: str, problems: list[Problem]) -> bool:
    """Report the characters YAML does not allow, once per line: what the
    first is and what precedes it.  False when there is none."""
    match = _NOT_ALLOWED.search(text)
    if match is None:
        return False
    per_line: dict[int, list[int]] = {}
    while match is not None:
        pos = match.start()
        per_line.setdefault(text.count("\n", 0, pos) + 1, []).append(pos)
        match = _NOT_ALLOWED.search(text, pos + 1)
    for line, positions in itertools.islice(per_line.items(), MAX_CONTROL_LINES):
        pos = positions[0]
        code = ord(text[pos])
        start = text.rfind("\n", 0, pos) + 1
        before = text[max(start, pos - 30) : pos].lstrip()
        more = f" (and the {len(positions) - 1} more on this line)" if len(positions) > 1 else ""
        at = f"after {before!r}" if before else "at the start of the line"
        if code in _LINE_BREAKING:
            what = _CONTROL_NAMES[code]
            reason = f"character U+{code:04X} is not allowed ({what}, invisible in most editors): replace it with a space{more}, {at}"
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            what = _CONTROL_NAMES.get(code, "a control code")
            reason = f"control character U+{code:04X} is not allowed ({what}, invisible in most editors): delete it{more}, {at}"
        else:
            reason = f"character U+{code:04X} is not allowed (it is not text): delete it{more}, {at}"
        problems.append(Problem(shown, line, reason))
    if len(per_line) > MAX_CONTROL_LINES:
        problems.append(Problem(shown, line, f"and such characters on {len(per_line) - MAX_CONTROL_LINES} more line(s) after this one"))
    return True


# Where YAML may read an anchor (&name) or an alias (*name): a '&' or '*'
# starting a value, followed by a name.  Only a file with one is scanned.
_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*][^\s\[\]{},]")


def _anchors_and_aliases(text: str, shown: str, problems: list[Problem]) -> bool:
    """Report each anchor (&a) and alias (*a): to YAML they name a value
    and repeat it, and the FAQ uses neither, so one is a text that starts
    with '&' or '*'.  YAML drops an anchor from the text without a word
    ("- &a text" is "text"), repeats another text for an alias, or stops
    with an error lines away.  False when there is none."""
    if not _MAYBE_ANCHOR.search(text):
        return False
    tokens: list[yaml.Token] = []
    with contextlib.suppress(yaml.YAMLError):  # what comes after a syntax error is reported when it is fixed
        tokens.extend(yaml.scan(text, Loader=yaml.SafeLoader if _CLineLoader is None else yaml.CSafeLoader))
    reported = set()
    for i, token in enumerate(tokens):
        if not isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            continue
        line = token.start_mark.line + 1
        if line in reported:
            continue
        reported.add(line)
        anchor = isinstance(token, yaml.AnchorToken)
        written = ("&" if anchor else "*") + str(token.value)
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if isinstance(after, yaml.ScalarToken) and after.plain and after.start_mark.line == token.start_mark.line:
            written += " " + str(after.value)
        how = json.dumps(written, ensure_ascii=False)
        if anchor:
            what = f"YAML reads {'&' + str(token.value)!r} as an anchor (a name for a value to repeat) and drops it from the text"
        else:
            what = f"YAML reads {'*' + str(token.value)!r} as an alias (a repeat of the value named &{token.value}), not as text"
        problems.append(Problem(shown, line, f"a text cannot start with '{written[0]}': {what}; put the whole text in quotes: {how}"))
    return bool(reported)


def _not_utf8(path: Path, shown: str) -> Problem:
    """Where a file that is not UTF-8 first goes wrong: its line (the error
    of a text read counts bytes, and within a buffer), the byte, the text
    before it."""
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return Problem(shown, 1, "the file is UTF-16 (Notepad's \"Unicode\"), not UTF-8: save the file as UTF-8")
        pos = exc.start
        start = data.rfind(b"\n", 0, pos) + 1
        before = data[start:pos].decode("utf-8", "replace")[-30:].lstrip()
        at = f"after {before!r}" if before else "at the start of the line"
        line = data.count(b"\n", 0, pos) + 1
        return Problem(shown, line, f"the file is not UTF-8 text (byte 0x{data[pos]:02X}, {at}): save the file as UTF-8")
    except OSError as exc:
        return Problem(shown, 1, f"cannot read file: {exc}")
    return Problem(shown, 1, "the file is not UTF-8 text: save the file as UTF-8")


def _read_yaml(path: Path, shown: str, problems: list[Problem]) -> Any:
    """The file's data, or None with the reasons added to `problems` (or
    None and no problem: an empty file).  Never raises: every reason is a
    `Problem`, so a running bot's reload reports it as any other."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(_not_utf8(path, shown))
        return None
    except OSError as exc:
        problems.append(Problem(shown, 1, f"cannot read file: {exc}"))
        return None
    # Checked here, for libyaml and PyYAML alike: PyYAML's reader rejects
    # them as it is made, with no line, and libyaml says less.
    if _control_characters(text, shown, problems):
        return None
    if _anchors_and_aliases(text, shown, problems):
        return None
    fast = _read_yaml_fast(text)
    if fast is not None:
        data, duplicates = fast
        for line, key in duplicates:
            problems.append(Problem(shown, line, f"duplicate key {key!r}"))
        return data
    try:
        loader = _LineLoader(text)
    except yaml.YAMLError as exc:  # its reader's checks, made above with a line
        problems.append(Problem(shown, 1, f"YAML error: {exc}"))
        return None
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line, reason = _syntax_error(exc, text)
        problems.append(Problem(shown, line, f"YAML syntax error: {reason}"))
        return None
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # the last two: a value no constructor could make
        problems.append(Problem(shown, 1, f"YAML error: {exc}"))
        return None
    except RecursionError:
        problems.append(Problem(shown, 1, "YAML error: lists or mappings nested too deeply"))
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicate_keys:
        problems.append(Problem(shown, line, f"duplicate key {key!r}"))
    return data


# --- YAML syntax errors, for editors ---------------------------------------
# PyYAML reports where its parser gave up, in its own terms: a missing ':'
# one line below the line that lacks it, an unclosed quote at the end of the
# file, "expected <block end>, but found '<block mapping start>'".  An editor
# needs the line they broke and what to do; PyYAML's words stay as a tail.

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # PyYAML's others are refused before parsing (`_NOT_ALLOWED`)
_KEY_LIKE = re.compile(r"[A-Za-z_][\w-]*")
_BRACKETS = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The line (1-based) an editor should look at, and why, in plain words."""
    lines = _LINE_BREAK.split(text)
    context, problem = exc.context or "", exc.problem or ""
    start, at = exc.context_mark, exc.problem_mark or exc.context_mark
    tail = f" (YAML: {problem})" if problem else ""
    if start is not None and context == "while scanning a quoted scalar" and "end of stream" in problem:
        return start.line + 1, f"a quote opened here is never closed{tail}"
    runaway = _runaway_quote(text, at.line if at is not None else len(lines))
    if runaway is not None:
        return runaway[0] + 1, f"a quote opened here is closed only on line {runaway[1] + 1}: close it on this line{tail}"
    if start is not None and context == "while scanning a simple key":
        word = _first_word(lines[start.line][start.column :])
        if re.match(r"-[^\s-]", word):
            return start.line + 1, f"a '-' must be followed by a space{tail}"
        return start.line + 1, f"missing ':' after {word!r}?{tail}"
    if at is not None and context == "while scanning a double-quoted scalar" and "escape" in problem:
        return at.line + 1, f"inside double quotes a backslash starts an escape: write \\\\ for a backslash, or use single quotes{tail}"
    brackets = _BRACKETS.get(context.removeprefix("while parsing a "))
    if start is not None and brackets:
        opened, closed = brackets
        return start.line + 1, f"a '{opened}' opened here is not closed with '{closed}' where YAML expects it (quote an item with a comma or colon){tail}"
    if at is None:
        return 1, " ".join(x for x in (context, problem) if x)
    here = lines[at.line] if at.line < len(lines) else ""
    if "cannot start any token" in problem:
        char = here[at.column : at.column + 1]
        if char == "\t" and not here[: at.column].strip():
            return at.line + 1, "tab characters are not allowed for indentation: use spaces"
        if char == "\t":
            return at.line + 1, "a tab character here is not allowed (YAML wants spaces around ':', '-' and '#'): use a space"
        return at.line + 1, f"a text cannot start with {char!r}: put the whole text in quotes{tail}"
    if problem.startswith("found undefined alias"):
        return at.line + 1, f"a text cannot start with '*' (YAML reads it as a reference): put the whole text in quotes{tail}"
    if problem == "mapping values are not allowed here":
        return _colon_in_text(text, lines, at.line, tail)
    if problem.startswith("expected <block end>"):
        if here[: at.column].rstrip().endswith(("'", '"')):
            return at.line + 1, f"there is text after the closing quote: put the whole text in quotes{tail}"
        return at.line + 1, f"this line is indented differently from the lines around it{tail}"
    return at.line + 1, " ".join(x for x in (context, problem) if x)


def _runaway_quote(text: str, before: int) -> tuple[int, int] | None:
    """(first line, last line), 0-based, of the last quoted text that runs
    over three lines or more and starts before line `before`: a quote left
    open at a line's end runs on to the next quote in the file, and YAML
    stops somewhere after it.  (A quoted phrasing may go on to a second
    line; one a FAQ writes over three is no phrasing.)"""
    found = None
    with contextlib.suppress(yaml.YAMLError):
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                first, last = token.start_mark.line, token.end_mark.line
                if last - first >= 2 and first < before:
                    found = (first, last)
    return found


def _first_word(text: str) -> str:
    words = text.split(maxsplit=1)
    return words[0] if words else ""


def _colon_in_text(text: str, lines: list[str], line: int, tail: str) -> tuple[int, str]:
    """A ': ' where YAML cannot take a key.  Most often a key above lacks
    its ':', and YAML read it and every line down to the next key as one
    text (`ky`, its phrasings, `ru`); otherwise the ': ' is inside a text.
    The text YAML was reading when it stopped tells which."""
    reading: yaml.Token | None = None
    with contextlib.suppress(yaml.YAMLError):
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            reading = token
    if isinstance(reading, yaml.ScalarToken) and reading.plain and reading.start_mark.line < line:
        begin = reading.start_mark
        word = _first_word(str(reading.value))
        if lines[begin.line][: begin.column].strip() in ("", "-") and _KEY_LIKE.fullmatch(word):
            return begin.line + 1, f"missing ':' after {word!r}?{tail}"
    return line + 1, f"a ': ' (colon and space) inside a text makes YAML read a key: put the whole text in quotes{tail}"


def _line_of(obj: Any, key: Any = None, default: int = 1) -> int:
    if isinstance(obj, _LineDict):
        if key is not None and key in obj.key_lines:
            return obj.key_lines[key]
        return obj.line
    if isinstance(obj, _LineList):
        return obj.line
    return default


def _not_text(value: Any) -> str:
    """Why a value YAML read where text was wanted is not text, and the fix
    ("was read as a number, not text; put it in quotes: "112"")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is empty; write it, or delete its line"
    if isinstance(value, bool):
        return "was read as a yes/no value, not text (a bare yes, no, on, off, true or false is one); put it in quotes, e.g. \"yes\""
    if isinstance(value, int | float):
        return f"was read as a number, not text; put it in quotes: {json.dumps(str(value))}"
    if isinstance(value, dt.date):  # a datetime too
        return f"was read as a date, not text; put it in quotes: {json.dumps(str(value))}"
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, val),) = value.items()
            if isinstance(key, str) and (val is None or isinstance(val, str)):
                text = f"{key}: {val}" if val is not None else f"{key}:"
                quoted = json.dumps(text, ensure_ascii=False)
                return f"was read as a mapping ({text!r}: a colon followed by a space makes a key), not text; put it in quotes: {quoted}"
        return "was read as a mapping (a colon followed by a space makes a key), not text; put it in quotes"
    if isinstance(value, list):
        return "was read as a list, not text; put it in quotes if it starts with [ or -, or give each phrasing its own line"
    return f"was read as {type(value).__name__}, not text; put it in quotes"


def _over_lines(text: str, end: int, style: str | None) -> str:
    """Why a phrasing written over several lines is refused, and the fix."""
    if style in ("|", ">"):
        return "is a block of lines (| or >); write it on one line after the '-'"
    return (
        f"goes on to line {end}, and YAML joined the lines into one phrasing ({' '.join(text.split())!r}): "
        "write each phrasing on one line, its '-' indented as the others'"
    )


# --- validation --------------------------------------------------------------


class _Checker:
    """Collects problems for one FAQ directory."""

    def __init__(self, faq_dir: Path, seeds_dir: Path | None, shown_root: Path | None):
        self.faq_dir = faq_dir
        self.seeds_dir = seeds_dir
        self.shown_root = shown_root
        self.problems: list[Problem] = []
        self.unusable: list[Problem] = []  # a file's problem that keeps all of it unused (`FAQError`'s `first`)
        self.warnings: list[str] = []
        # A review date shown to users cannot be after today.  Today here,
        # or already somewhere (UTC+14): an editor in Bishkek writes the
        # date of their morning while a server on UTC is still on the day
        # before, and that must not stop the bot from starting.
        self.today = dt.date.today()
        self.latest_review = max(self.today, dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date())
        # (entry id, language, index) -> line, so duplicates point at the phrasing
        self.question_lines: dict[tuple[str, str, int], int] = {}
        # (file, entry line) -> the line of each related id, so a bad one is pointed at
        self.related_lines: dict[tuple[str, int], list[int]] = {}
        # Files whose entries (or subjects, or sources) could not be taken:
        # an id that may be defined in one is not reported missing elsewhere,
        # which would only be a knock-on of the problem already reported.
        self.unread_topics: list[Path] = []
        self.unread_sources: Path | None = None
        self._texts: dict[Path, str | None] = {}

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.shown_root)) if self.shown_root else str(path)
        except ValueError:
            return str(path)

    def add(self, file: str, line: int, reason: str) -> None:
        self.problems.append(Problem(file, line, reason))

    def read(self, path: Path, file: str, what: str) -> tuple[Any, bool]:
        """The file's data, and whether it failed to read; a failure's last
        problem then says that `what` (its entries…) went unchecked."""
        known = len(self.problems)
        data = _read_yaml(path, file, self.problems)
        failed = data is None and len(self.problems) > known
        if failed:
            last = self.problems[-1]
            self.problems[-1] = Problem(last.file, last.line, f"{last.reason}; the file could not be read, so {what} were not checked")
            # All of them first, in their lines' order (several lines of control characters, anchors)
            self.unusable.extend(self.problems[known:])
        return data, failed

    def _text(self, path: Path) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                self._texts[path] = None  # cannot tell what it holds
        return self._texts[path]

    def may_be_unread(self, pattern: str, paths: Iterable[Path]) -> bool:
        """Whether text matching `pattern` is in one of the files not read."""
        for path in paths:
            text = self._text(path)
            if text is None or re.search(pattern, text, re.MULTILINE):
                return True
        return False

    def unread_entry(self, entry_id: str) -> bool:
        """Whether an entry or subject id may be in a file that was not read."""
        return bool(self.unread_topics) and self.may_be_unread(rf"(?<![\w-])id:\s*['\"]?{re.escape(entry_id)}['\"]?(?![\w-])", self.unread_topics)

    def unread_source(self, key: str) -> bool:
        """Whether a source key may be in the sources registry, not read."""
        if self.unread_sources is None:
            return False
        return self.may_be_unread(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*:", [self.unread_sources])

    def per_language_text(self, file: str, parent: Any, key: str, limit: int | None) -> dict[str, str]:
        value = parent.get(key) if isinstance(parent, dict) else None
        line = _line_of(parent, key)
        if not isinstance(value, dict):
            self.add(file, line, f"'{key}' must map each language (ky, ru, en) to text")
            return {}
        out: dict[str, str] = {}
        for lang in LANGS:
            text = value.get(lang)
            lang_line = _line_of(value, lang, line)
            if text is None:
                self.add(file, line, f"'{key}' has no '{lang}' text")
            elif not isinstance(text, str) or not text.strip():
                self.add(file, lang_line, f"'{key}.{lang}' must be non-empty text")
            elif limit is not None and len(text.strip()) > limit:
                self.add(file, lang_line, f"'{key}.{lang}' is {len(text.strip())} characters; the limit is {limit}")
            else:
                out[lang] = text.strip()
        for extra in value:
            if extra not in LANGS:
                self.add(file, _line_of(value, extra, line), f"'{key}' has unknown language {extra!r} (use ky, ru, en)")
        return out

    def load_sources(self) -> dict[str, Source]:
        path = self.faq_dir / SOURCES_FILE
        file = self.shown(path)
        if not path.exists():
            self.add(file, 1, "the sources registry is missing")
            self.unread_sources = path  # entries' sources are not each reported unknown
            return {}
        data, failed = self.read(path, file, "the sources that entries cite")
        if data is None:
            if failed:
                self.unread_sources = path
            return {}
        raw = data.get("sources") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            self.add(file, _line_of(data), "expected a mapping 'sources:' of source keys")
            self.unread_sources = path
            return {}
        sources: dict[str, Source] = {}
        for key, spec in raw.items():
            line = _line_of(raw, key)
            if not isinstance(spec, dict):
                self.add(file, line, f"source {key!r} must be a mapping with 'kind' and 'label'")
                sources[str(key)] = Source(str(key), "", {})  # reported once, here, not for each entry citing it
                continue
            kind = spec.get("kind")
            if not isinstance(kind, str) or kind not in {"seed", "law", "press", "official"}:
                self.add(file, line, f"source {key!r}: 'kind' must be seed, law, press or official")
            label = self.per_language_text(file, spec, "label", 200)
            if kind == "seed":
                if not SEED_RE.match(str(key)):
                    self.add(file, line, f"seed source {key!r} must be a file name like 000_0123456789abcdef.txt")
                elif self.seeds_dir is not None and not (self.seeds_dir / str(key)).is_file():
                    self.add(file, line, f"seed file {key!r} does not exist in {self.seeds_dir}")
            sources[str(key)] = Source(str(key), str(kind), label)
        return sources

    def load_topic_file(self, path: Path, sources: Mapping[str, Source]) -> tuple[Topic | None, list[Entry]]:
        file = self.shown(path)
        data, failed = self.read(path, file, "its entries")
        if data is None:
            if failed:
                self.unread_topics.append(path)
            else:  # read, and nothing in it (or only comments)
                self.add(file, 1, "the file is empty: a topic file needs 'topic' and 'entries'")
                self.unusable.append(self.problems[-1])
            return None, []
        if not isinstance(data, dict):
            self.add(file, _line_of(data), "a topic file must be a mapping with 'topic' and 'entries'")
            self.unusable.append(self.problems[-1])
            self.unread_topics.append(path)
            return None, []
        topic_raw = data.get("topic")
        topic_id = ""
        topic_title: dict[str, str] = {}
        if not isinstance(topic_raw, dict):
            self.add(file, _line_of(data, "topic"), "missing 'topic:' with 'id' and 'title'")
        else:
            topic_id = str(topic_raw.get("id") or "")
            if not ID_RE.match(topic_id):
                self.add(file, _line_of(topic_raw, "id"), f"topic id {topic_id!r} must be a slug (a-z, 0-9, dashes)")
            elif len(topic_id) > MAX_ID_CHARS:
                self.add(file, _line_of(topic_raw, "id"), f"topic id {topic_id!r} is longer than {MAX_ID_CHARS} characters (it goes into buttons)")
            topic_title = self.per_language_text(file, topic_raw, "title", MAX_TITLE_CHARS)
        entries_raw = data.get("entries")
        if not isinstance(entries_raw, list) or not entries_raw:
            self.add(file, _line_of(data, "entries"), "'entries:' must be a non-empty list")
            self.unread_topics.append(path)
            return None, []
        lines = entries_raw.item_lines if isinstance(entries_raw, _LineList) else [_line_of(entries_raw)] * len(entries_raw)
        entries = [e for e in (self.entry(file, raw, topic_id, sources, at) for raw, at in zip(entries_raw, lines, strict=True)) if e]
        topic = Topic(topic_id, topic_title, tuple(e.id for e in entries), file)
        return topic, entries

    def entry(self, file: str, raw: Any, topic_id: str, sources: Mapping[str, Source], at: int = 1) -> Entry | None:
        """One entry of a topic file (`at`: the line of its list item)."""
        if not isinstance(raw, dict):
            self.add(file, _line_of(raw, default=at), "each entry must be a mapping")
            return None
        line = _line_of(raw)
        known = {"id", "topic", "title", "questions", "answer", "sources", "reviewed", "related", "keywords"}
        for key in raw:
            if key not in known:
                self.add(file, _line_of(raw, key), f"unknown field {key!r}")
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not ID_RE.match(entry_id):
            self.add(file, _line_of(raw, "id", line), f"entry id {entry_id!r} must be a slug (a-z, 0-9, dashes)")
            entry_id = f"<entry at line {line}>"
        elif len(entry_id) > MAX_ID_CHARS:
            self.add(file, _line_of(raw, "id", line), f"entry id {entry_id!r} is longer than {MAX_ID_CHARS} characters (it goes into buttons and links)")
        where = f"entry {entry_id}"
        topic = raw.get("topic")
        if topic != topic_id:
            self.add(file, _line_of(raw, "topic", line), f"{where}: topic {topic!r} differs from the file's topic {topic_id!r}")
        title = self.per_language_text(file, raw, "title", MAX_TITLE_CHARS)
        answer = self.per_language_text(file, raw, "answer", MAX_ANSWER_CHARS)
        questions = self.questions(file, raw, where, entry_id)
        src = raw.get("sources")
        if isinstance(src, str) and src.strip():
            self.add(file, _line_of(raw, "sources", line), f"{where}: 'sources' must be a list, e.g. [{src.strip()}]")
            src = []
        elif not isinstance(src, list) or not src:
            self.add(file, _line_of(raw, "sources", line), f"{where}: 'sources' must list at least one source")
            src = []
        for i, key in enumerate(src):
            if str(key) not in sources and not self.unread_source(str(key)):
                item_line = src.item_lines[i] if isinstance(src, _LineList) else _line_of(raw, "sources", line)
                self.add(file, item_line, f"{where}: unknown source {key!r} (add it to {SOURCES_FILE})")
        reviewed = raw.get("reviewed")
        if not isinstance(reviewed, dt.date) or isinstance(reviewed, dt.datetime):
            self.add(file, _line_of(raw, "reviewed", line), f"{where}: 'reviewed' must be a date like 2026-11-23")
            reviewed = dt.date.min
        elif reviewed > self.latest_review:
            self.add(
                file,
                _line_of(raw, "reviewed", line),
                f"{where}: 'reviewed' {reviewed} is in the future (today is {self.today}); write the date the answer was last checked",
            )
        related = raw.get("related") or []
        keywords = raw.get("keywords") or []
        if isinstance(keywords, list):
            # Numbers ("2021", "456") are fine as keywords; YAML reads them as ints.
            keywords = [str(k) if isinstance(k, int | float) and not isinstance(k, bool) else k for k in keywords]
        for name, value in (("related", related), ("keywords", keywords)):
            if isinstance(value, str):
                self.add(file, _line_of(raw, name, line), f"{where}: '{name}' must be a list, e.g. [{value.strip()}]")
            elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.add(file, _line_of(raw, name, line), f"{where}: '{name}' must be a list of strings")
        if not isinstance(related, list):
            related = []
        elif isinstance(related, _LineList):
            self.related_lines[(file, line)] = related.item_lines
        if not isinstance(keywords, list):
            keywords = []
        return Entry(
            id=entry_id,
            topic=str(topic),
            title=title,
            questions=questions,
            answer=answer,
            sources=tuple(str(s) for s in src),
            reviewed=reviewed,
            related=tuple(str(r) for r in related),
            keywords=tuple(str(k) for k in keywords),
            file=file,
            line=line,
        )

    def load_out_of_scope(self) -> list[Entry]:
        """Subjects the bot must hand off although they share the FAQ's words
        (money transfers, other countries' rules…); the file is optional."""
        path = self.faq_dir / OUT_OF_SCOPE_FILE
        if not path.exists():
            return []
        file = self.shown(path)
        data, failed = self.read(path, file, "its subjects")
        if data is None:
            if failed:
                self.unread_topics.append(path)
            return []
        raw_list = data.get("out_of_scope") if isinstance(data, dict) else None
        if not isinstance(raw_list, list):
            self.add(file, _line_of(data), "expected a list 'out_of_scope:' of subjects")
            self.unread_topics.append(path)
            return []
        subjects = []
        for raw in raw_list:
            line = _line_of(raw)
            if not isinstance(raw, dict):
                self.add(file, line, "each out-of-scope subject must be a mapping with 'id', 'about' and 'questions'")
                continue
            for key in raw:
                if key not in {"id", "about", "questions"}:
                    self.add(file, _line_of(raw, key), f"unknown field {key!r}")
            subject_id = raw.get("id")
            if not isinstance(subject_id, str) or not ID_RE.match(subject_id):
                self.add(file, _line_of(raw, "id", line), f"subject id {subject_id!r} must be a slug (a-z, 0-9, dashes)")
                subject_id = f"<subject at line {line}>"
            about = raw.get("about")
            if not isinstance(about, str) or not about.strip():
                self.add(file, _line_of(raw, "about", line), f"subject {subject_id}: 'about' must say what it covers")
            questions = self.questions(file, raw, f"subject {subject_id}", subject_id)
            subjects.append(
                Entry(
                    id=subject_id,
                    topic="",
                    title={},
                    questions=questions,
                    answer={},
                    sources=(),
                    reviewed=dt.date.min,
                    file=file,
                    line=line,
                    out_of_scope=True,
                )
            )
        return subjects

    def questions(self, file: str, raw: dict[str, Any], where: str, entry_id: str) -> dict[str, tuple[str, ...]]:
        value = raw.get("questions")
        line = _line_of(raw, "questions")
        if not isinstance(value, dict):
            self.add(file, line, f"{where}: 'questions' must map each language (ky, ru, en) to a list")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for lang in LANGS:
            items = value.get(lang)
            lang_line = _line_of(value, lang, line)
            if not isinstance(items, list):
                self.add(file, lang_line if lang in value else line, f"{where}: no '{lang}' questions")
                continue
            item_lines = items.item_lines if isinstance(items, _LineList) else [lang_line] * len(items)
            spans = items.item_spans if isinstance(items, _LineList) else {}
            texts: list[str] = []
            for i, (q, item_line) in enumerate(zip(items, item_lines, strict=True)):
                if not isinstance(q, str) or not q.strip():
                    self.add(file, item_line, f"{where}: this '{lang}' question {_not_text(q)}")
                    continue
                if i in spans:
                    self.add(file, item_line, f"{where}: this '{lang}' question {_over_lines(q, *spans[i])}")
                self.question_lines[(entry_id, lang, len(texts))] = item_line
                texts.append(q.strip())
            if len(items) < MIN_QUESTIONS:
                self.add(file, lang_line, f"{where}: {len(items)} '{lang}' questions; at least {MIN_QUESTIONS} are needed")
            out[lang] = tuple(texts)
        for extra in value:
            if extra not in LANGS:  # its phrasings would be dropped
                self.add(file, _line_of(value, extra, line), f"{where}: 'questions' has unknown language {extra!r} (use ky, ru, en)")
        return out

    def cross_checks(self, entries: list[Entry]) -> None:
        raw_lines = self.question_lines
        seen: dict[str, Entry] = {}
        for e in entries:
            if e.id in seen:
                first = seen[e.id]
                self.add(e.file, e.line, f"duplicate entry id {e.id!r} (first at {first.file}:{first.line})")
            else:
                seen[e.id] = e
        for e in entries:
            if e.out_of_scope:
                continue
            rel_lines = self.related_lines.get((e.file, e.line), [])
            for i, rel in enumerate(e.related):
                rel_line = rel_lines[i] if i < len(rel_lines) else e.line
                if rel not in seen:
                    if not self.unread_entry(rel):
                        self.add(e.file, rel_line, f"entry {e.id}: related id {rel!r} does not exist")
                elif seen[rel].out_of_scope:
                    self.add(e.file, rel_line, f"entry {e.id}: related id {rel!r} is an out-of-scope subject, which has no answer to show")
                elif rel == e.id:
                    self.add(e.file, rel_line, f"entry {e.id}: an entry cannot be related to itself")
        # A phrasing claimed twice is reported at both copies, each naming
        # the other: the one added last may be in either file, and may come
        # first in the order files are read.
        claimed: dict[str, tuple[Entry, str, int]] = {}
        for e in entries:
            for lang, qs in e.questions.items():
                for i, q in enumerate(qs):
                    line = raw_lines.get((e.id, lang, i), e.line)
                    key = skeleton(q)
                    if not key:
                        self.add(e.file, line, f"entry {e.id}: question {q!r} has no letters")
                        continue
                    other = claimed.get(key)
                    if other and other[0].id != e.id:
                        first, first_q, first_line = other
                        self.add(e.file, line, f"{_claim(e, q)} is also claimed by {_kind(first)} {first.id} ({first_q!r}, at {first.file}:{first_line})")
                        self.add(first.file, first_line, f"{_claim(first, first_q)} is also claimed by {_kind(e)} {e.id} ({q!r}, at {e.file}:{line})")
                    claimed.setdefault(key, (e, q, line))


def _kind(entry: Entry) -> str:
    return "out-of-scope subject" if entry.out_of_scope else "entry"


def _claim(entry: Entry, phrasing: str) -> str:
    return f"{'subject' if entry.out_of_scope else 'entry'} {entry.id}: question {phrasing!r}"


def topic_files(faq_dir: Path) -> list[Path]:
    """The topic files of a FAQ directory, in a stable order.

    Names starting with a dot are editors' and systems' files, not topics
    (Emacs's lock `.#work.yaml`, macOS's `._work.yaml`); names starting with
    `_` are the registries.
    """
    return sorted(p for p in faq_dir.glob("*.yaml") if not p.name.startswith(("_", ".")))


def misnamed_files(faq_dir: Path) -> list[Path]:
    """YAML files that would not be read for their extension (`work.yml`,
    `work.YAML`): a topic silently left out is worse than an error."""
    return sorted(p for p in faq_dir.iterdir() if not p.name.startswith(".") and p.suffix.lower() in {".yaml", ".yml"} and p.suffix != ".yaml")


def load_faq(faq_dir: Path, seeds_dir: Path | None = None, *, shown_root: Path | None = None) -> FAQ:
    """Load and validate every file; raise `FAQError` listing all problems.

    `seeds_dir` is where seed sources must exist; None skips that check (the
    source documents live beside the repository, not inside a deployment).
    """
    faq_dir = Path(faq_dir)
    checker = _Checker(faq_dir, seeds_dir, shown_root)
    if not faq_dir.is_dir():
        raise FAQError([Problem(str(faq_dir), 1, "FAQ directory does not exist")])
    for path in misnamed_files(faq_dir):
        checker.add(checker.shown(path), 1, f"not read: FAQ files must end in .yaml; rename it to {path.stem}.yaml")
    sources = checker.load_sources()
    files = topic_files(faq_dir)
    if not files:
        checker.add(checker.shown(faq_dir), 1, "no topic files (*.yaml) found")
    topics: list[Topic] = []
    entries: list[Entry] = []
    for path in files:
        topic, file_entries = checker.load_topic_file(path, sources)
        if topic:
            other = next((t for t in topics if t.id == topic.id), None)
            if other:
                checker.add(topic.file, 1, f"topic id {topic.id!r} is also used by {other.file}")
            topics.append(topic)
        entries.extend(file_entries)
    out_of_scope = checker.load_out_of_scope()
    checker.cross_checks(entries + out_of_scope)
    if seeds_dir is None:
        checker.warnings.append("source documents not found: seed file names were not checked")
    if checker.problems:
        raise FAQError(checker.problems, first=checker.unusable)
    return FAQ(
        topics=tuple(topics),
        entries={e.id: e for e in entries},
        sources=sources,
        loaded_from=str(faq_dir),
        warnings=tuple(checker.warnings),
        out_of_scope={e.id: e for e in out_of_scope},
    )


def iter_phrasings(faq: FAQ) -> Iterable[tuple[Entry, str, str]]:
    """Every (entry, language, phrasing) the matcher indexes."""
    for entry in faq.entries.values():
        for lang in LANGS:
            for q in entry.questions.get(lang, ()):
                yield entry, lang, q
