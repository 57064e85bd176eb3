"""Reviewing what the bot could not answer: the library behind `jardam review`.

The FAQ grows from its gaps.  Handed-off questions and "did you mean"
clarifications are grouped into clusters of the same question asked many
ways, each with the FAQ entry it comes closest to and a suggestion — add it
as a phrasing of an entry, write a new entry, or look at it by hand.  An
editor then promotes a question into the FAQ (`promote`), or marks questions
resolved or ignored (`set_status`).

Everything here reads and writes the store with plain SQL on `store.db`, and
edits FAQ files as text: an editor's comments, order and layout are theirs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from rapidfuzz import fuzz, process

from .engine import MAX_MATCH_CHARS, Engine
from .faq import FAQ, LANGS, OUT_OF_SCOPE_FILE, load_faq, topic_files
from .matcher import FILLER_WORDS, Candidate, Matcher, is_informative, stem_text
from .normalize import skeleton
from .privacy import MASKS
from .store import Store

Kind = Literal["phrasing", "new_entry", "unclear", "out_of_scope", "answered"]

log = logging.getLogger(__name__)

# What `promote` locks, in the FAQ directory: a dot-file, which the FAQ loader skips.
PROMOTE_LOCK = ".promote.lock"
NO_LOCKS = "no file locks on this system (no fcntl): promotes are not locked; run one at a time"

# Review states (the `review` column; NULL is "open"), separate from the
# operators' status of a question (open / answered / closed), so that a
# reviewed question never leaves an operator's /open list.
STATUSES: tuple[str, ...] = ("open", "resolved", "ignored")
# What a reviewer may set: "open" undoes a mistaken resolve or ignore.
REVIEW_STATUSES: tuple[str, ...] = ("open", "resolved", "ignored")

# Clustering: two questions are linked when rapidfuzz token_set_ratio of their
# keys (see `cluster_key`: informative words cut to the matcher's 5-letter
# stems) reaches this, and neither has more than twice the other's words.
# Chosen on tests/eval/questions.yaml (623 questions, the expected entries as
# the true groups), single link, B-cubed precision / recall:
#   stems:          75 → 0.81 / 0.22   80 → 0.93 / 0.14   85 → 0.95 / 0.13   90 → 0.98 / 0.10
#   whole words:    75 → 0.89 / 0.16   80 → 0.95 / 0.13   85 → 0.97 / 0.11   90 → 0.98 / 0.10
#   (one cluster per question: 1.00 / 0.08)
# Stems and whole words trade alike there; stems are kept because Kyrgyz
# endings ("Бишкекке", "Бишкектен") would otherwise split real traffic.
# 85 keeps 95 % of merges right: a wrong merge hides a question under
# another's suggestion, a missed one only shows one more row.
CLUSTER_THRESHOLD = 85.0
# token_set_ratio is 100 whenever one text's words are a subset of the
# other's, so without this a one-word message ("amina", "zapret") would chain
# every question using that word into one cluster (precision at 85: 0.95
# with it, 0.90 without).
MIN_WORD_SHARE = 0.5
# An open question at least this close (token_set_ratio on skeletons, same
# word-share guard) to an ignored one is ignored too: the same spam or
# off-topic message, retyped.
LOOKALIKE_THRESHOLD = 90.0
# Suggestion bands, relative to the engine's thresholds so they follow
# tuning.  Measured on the same set with the tuning of 2026-11: of questions
# scoring at least strong_score - 15, 82 % have the right entry nearest (add a
# phrasing); under clarify_at - 5, 95 % are out of scope (a new entry); in
# between, 70 % are out of scope and 24 % have the right entry nearest: too
# mixed to suggest either (by hand).
PHRASING_BAND = 15.0
NEW_ENTRY_BAND = 5.0
MAX_EXAMPLES = 3
# The largest id SQLite stores (a 64-bit signed integer).
MAX_ID = 2**63 - 1

# The text recorded for a 👎 when the question itself was no longer known.
_FEEDBACK_PLACEHOLDER = re.compile(r"^\(👎 [a-z0-9-]+\)$")
# PyYAML's line breaks (str.splitlines knows more, which would shift lines).
_YAML_LINE_END = re.compile(r"(?<=\r\n)|(?<=[\n\x85\u2028\u2029])|(?<=\r)(?!\n)")


@dataclass
class Cluster:
    """One question asked one or more ways, and what to do about it."""

    ids: list[int]  # question ids
    count: int  # questions and clarifications
    langs: list[str]
    examples: list[str]
    first_seen: str
    last_seen: str
    nearest_entry: str | None
    nearest_score: float
    suggestion: str
    kind: Kind
    # The entry named by the suggestion when kind is "phrasing".
    suggested_entry: str | None = None
    # Clarifications ("did you mean" messages) in the cluster, by their own ids.
    clarification_ids: list[int] = field(default_factory=list)
    # The nearest is a known out-of-scope subject (`faq/_out_of_scope.yaml`),
    # not an entry: the bot hands such questions to a person on purpose.
    nearest_out_of_scope: bool = False

    @property
    def refs(self) -> list[str]:
        """References as `promote` accepts them: "12" for questions, "c3" for clarifications."""
        return [str(i) for i in self.ids] + [f"c{i}" for i in self.clarification_ids]


# --- periods ----------------------------------------------------------------


def utc_bound(value: str | dt.date | dt.datetime | None, *, end: bool = False) -> str | None:
    """An ISO UTC string comparable with the stored `ts` columns.

    A bare date means the whole day: as a start, its midnight; as an end
    (`end=True`, exclusive), the next midnight — so `--until 2026-11-20`
    includes the 20th.  Naive datetimes are taken as UTC.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO date and time)") from None
    if not isinstance(value, dt.datetime):
        day = value + dt.timedelta(days=1) if end else value
        value = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _period_sql(since: str | None, until: str | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if since:
        sql += " AND ts >= ?"
        params.append(since)
    if until:
        sql += " AND ts < ?"
        params.append(until)
    return sql, params


# --- loading ----------------------------------------------------------------


def load_questions(
    store: Store,
    *,
    status: str = "open",
    lang: str | None = None,
    since: str | dt.date | dt.datetime | None = None,
    until: str | dt.date | dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Questions to review, oldest first, as plain dicts.

    Each item has `id`, `source` ("question" or "clarification"), `ts`,
    `lang`, `text`, `status`, `reason`, `candidates` (the entries the bot
    offered; for a 👎 the entry that did not help), `chosen` (the entry a
    user picked after "did you mean") and `feedback_entry`.  `status` is the
    review state; the operators' own status of a question is `operator_status`.
    """
    if status not in (*STATUSES, "all"):
        raise ValueError(f"unknown status {status!r}; use one of {', '.join((*STATUSES, 'all'))}")
    period, params = _period_sql(utc_bound(since), utc_bound(until, end=True))
    items = _question_items(store, status, lang, period, params)
    items += _clarification_items(store, status, lang, period, params)
    items.sort(key=lambda item: (item["ts"], item["source"], item["id"]))
    return items


def _question_items(store: Store, status: str, lang: str | None, period: str, params: list[Any]) -> list[dict[str, Any]]:
    sql = "SELECT id, ts, lang, text, status AS operator_status, coalesce(review, 'open') AS status, reason, candidates FROM questions WHERE 1 = 1"
    sql += period
    args = list(params)
    if status != "all":
        sql += " AND coalesce(review, 'open') = ?"
        args.append(status)
    if lang:
        sql += " AND lang = ?"
        args.append(lang)
    items = []
    for row in store.db.query(sql, args):
        candidates = json.loads(row["candidates"] or "[]")
        feedback = candidates[0].get("id") if row["reason"] == "feedback" and candidates else None
        items.append({**row, "text": row["text"] or "", "source": "question", "candidates": candidates, "chosen": None, "feedback_entry": feedback})
    return items


def _clarification_items(store: Store, status: str, lang: str | None, period: str, params: list[Any]) -> list[dict[str, Any]]:
    sql = "SELECT id, ts, lang, text, candidates, chosen, coalesce(review, 'open') AS status FROM clarifications WHERE 1 = 1" + period
    args = list(params)
    if status != "all":
        sql += " AND coalesce(review, 'open') = ?"
        args.append(status)
    if lang:
        sql += " AND lang = ?"
        args.append(lang)
    return [
        {
            **row,
            "text": row["text"] or "",
            "source": "clarification",
            "operator_status": None,
            "reason": "clarify",
            "candidates": json.loads(row["candidates"] or "[]"),
            "feedback_entry": None,
        }
        for row in store.db.query(sql, args)
    ]


def is_placeholder(text: str) -> bool:
    """A 👎 recorded without its question: nothing to cluster or promote."""
    return bool(_FEEDBACK_PLACEHOLDER.match(text.strip()))


# --- ignored look-alikes and known phrasings ----------------------------------


def _comparable_length(a: str, b: str) -> bool:
    """Neither text has more than twice the other's words (see MIN_WORD_SHARE)."""
    na, nb = len(a.split()), len(b.split())
    return min(na, nb) >= MIN_WORD_SHARE * max(na, nb)


def exclude_ignored_lookalikes(store: Store, items: Sequence[dict[str, Any]], *, cutoff: float = LOOKALIKE_THRESHOLD) -> list[dict[str, Any]]:
    """Items without ignored questions and without their look-alikes.

    Ignoring a message once should keep its retyped copies out of the review
    too; the word-share guard keeps an ignored "salam" from hiding every
    question that starts with a greeting.
    """
    rows = store.db.execute(
        "SELECT text FROM questions WHERE review = 'ignored' UNION ALL SELECT text FROM clarifications WHERE review = 'ignored'"
    ).fetchall()
    ignored = sorted({k for k in (skeleton(r[0] or "") for r in rows) if k})
    kept = []
    for item in items:
        if item.get("status") == "ignored":
            continue
        key = skeleton(item["text"])
        if key and ignored:
            hits = process.extract(key, ignored, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=cutoff, limit=None)
            if any(_comparable_length(key, other) for other, _, _ in hits):
                continue
        kept.append(item)
    return kept


def known_phrasings(faq: FAQ) -> dict[str, str]:
    """The skeleton of each phrasing of the FAQ → the entry it belongs to."""
    return {skeleton(q): entry.id for entry in faq.entries.values() for qs in entry.questions.values() for q in qs}


def drop_known_phrasings(items: Sequence[dict[str, Any]], faq: FAQ) -> list[dict[str, Any]]:
    """Clarifications whose text the FAQ already has as a phrasing are done,
    and each question's `phrasing_of` names the entry its text is a
    phrasing of now (None if none).

    Clarifications carry no status: once promoted, this is what takes them
    off the list.  A question keeps its status until a reviewer resolves
    it: one asked before its wording became a phrasing (promoted from
    another question, or added by hand) is answered now, and only needs
    resolving (see `suggest`).
    """
    known = known_phrasings(faq)
    return [
        {**i, "phrasing_of": known.get(skeleton(i["text"]))}
        for i in items
        if i["source"] != "clarification" or skeleton(i["text"]) not in known
    ]


# --- clustering ---------------------------------------------------------------


def cluster_key(text: str) -> str:
    """The words that tell questions apart, as stems: the skeleton without
    greetings and function words ("how", "как", "кантип"), which would
    otherwise link unrelated questions (the whole skeleton when nothing else
    is left), each word cut like the matcher's stems so that endings
    ("Бишкекке", "Бишкека") do not count as different words."""
    key = skeleton(text)
    informative = " ".join(w for w in key.split() if w not in FILLER_WORDS)
    return stem_text(informative or key)


def _linked_pairs(keys: Sequence[str], threshold: float) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) of keys similar enough to share a cluster."""
    for i, key in enumerate(keys):
        if not key:
            continue
        for other, _, j in process.extract(key, keys, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=threshold, limit=None):
            if j > i and _comparable_length(key, other):
                yield i, j


def _groups(keys: Sequence[str], threshold: float) -> list[list[int]]:
    """Single-link groups of key indices (union-find)."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _linked_pairs(keys, threshold):
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(keys)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def cluster(items: Sequence[dict[str, Any]], engine: Engine, *, threshold: float = CLUSTER_THRESHOLD) -> list[Cluster]:
    """Group similar questions, in any language or script, biggest group first.

    Similarity is lexical (rapidfuzz on skeletons), so Cyrillic and Latin
    spellings, typos, word order and Kyrgyz–Russian code-mixing ("билет",
    "патент", "Амина") group together; translations that share no words
    (an English and a Russian question) do not.  Identical keys are compared
    once, so a question asked a hundred times costs one comparison.  A group
    whose members are nearest both entries and out-of-scope subjects is
    listed as more than one cluster (see `_split_by_scope`).
    """
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault(cluster_key(item["text"]), []).append(item)
    keys = list(by_key)
    nearest = _MemberMatches(engine)
    clusters = [
        _make_cluster(part, engine, nearest)
        for group in _groups(keys, threshold)
        for part in _split_answered([m for k in group for m in by_key[keys[k]]], engine, nearest)
    ]
    clusters.sort(key=lambda c: c.last_seen, reverse=True)
    clusters.sort(key=lambda c: c.count, reverse=True)
    return clusters


Match = tuple[str | None, float, bool]


class _MemberMatches:
    """Each text's best entry or out-of-scope subject, its score and whether
    it is a subject, matched once per skeleton (texts sharing one share it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.cache: dict[str, Match] = {}

    def __call__(self, text: str) -> Match:
        if is_placeholder(text):
            return (None, 0.0, False)
        text = text[:MAX_MATCH_CHARS]
        key = skeleton(text)
        if key not in self.cache:
            candidates = self.engine.matcher.match(text, limit=5)
            self.cache[key] = (candidates[0].entry_id, float(candidates[0].score), candidates[0].out_of_scope) if candidates else (None, 0.0, False)
        return self.cache[key]

    def best(self, texts: Iterable[str]) -> Match:
        best: Match = (None, 0.0, False)
        for text in texts:
            match = self(text)
            if match[0] is not None and match[1] > best[1]:
                best = match
        return best


def _split_answered(members: list[dict[str, Any]], engine: Engine, nearest: _MemberMatches) -> list[list[dict[str, Any]]]:
    """The members of one group as the clusters to list: those whose text
    is not a phrasing yet (split by `_split_by_scope`), then, apart, those
    that are one now (`phrasing_of`), one cluster per entry.  Questions
    worded like them may still be to add ("патент керекпи Москвада" beside
    "patent kerekpi"); they are only to resolve."""
    rest: list[dict[str, Any]] = []
    answered: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        entry = m.get("phrasing_of")
        (answered.setdefault(entry, []) if entry else rest).append(m)
    return [*(_split_by_scope(rest, engine, nearest) if rest else []), *answered.values()]


def _split_by_scope(members: list[dict[str, Any]], engine: Engine, nearest: _MemberMatches) -> list[list[dict[str, Any]]]:
    """The members of one group, as the clusters to list.

    Each member counts by its own nearest match: a question worded like its
    neighbours can still be about something else ("сколько стоит патент для
    узбека" is another nationality's procedure; "сколько стоит патент в
    москве" is patent-not-needed).  When some members are nearest an
    out-of-scope subject (and not far from it) and others are not, they are
    listed apart, one cluster per subject, so that a subject neither hides
    the others' entry and the users' choices among them, nor is suggested
    as a phrasing of that entry.  Otherwise the group is one cluster.
    """
    floor = engine.tuning.clarify_at - NEW_ENTRY_BAND
    by_subject: dict[str, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    for m in members:
        entry, score, out_of_scope = nearest(m["text"])
        if entry is not None and out_of_scope and score >= floor:
            by_subject.setdefault(entry, []).append(m)
        else:
            rest.append(m)
    if not rest or not by_subject:
        return [members]
    return [rest, *by_subject.values()]


def _make_cluster(members: list[dict[str, Any]], engine: Engine, matches: _MemberMatches | None = None) -> Cluster:
    members.sort(key=lambda m: (m["ts"], m["id"]))
    nearest, score, out_of_scope = (matches or _MemberMatches(engine)).best(m["text"] for m in members)
    kind, suggestion, entry = suggest(members, nearest, score, engine, out_of_scope=out_of_scope)
    return Cluster(
        ids=[m["id"] for m in members if m["source"] == "question"],
        clarification_ids=[m["id"] for m in members if m["source"] == "clarification"],
        count=len(members),
        langs=sorted({m["lang"] for m in members if m["lang"]}),
        examples=_examples(members),
        first_seen=members[0]["ts"],
        last_seen=members[-1]["ts"],
        nearest_entry=nearest,
        nearest_score=score,
        suggestion=suggestion,
        kind=kind,
        suggested_entry=entry,
        nearest_out_of_scope=out_of_scope,
    )


def _examples(members: Sequence[dict[str, Any]]) -> list[str]:
    """Up to MAX_EXAMPLES distinct texts, newest first, one per language before repeats."""
    newest = sorted(members, key=lambda m: (m["ts"], m["id"]), reverse=True)
    distinct: dict[str, dict[str, Any]] = {}
    for m in newest:
        distinct.setdefault(skeleton(m["text"]) or m["text"], m)
    seen_langs: set[str] = set()
    first: list[str] = []
    rest: list[str] = []
    for m in distinct.values():
        (rest if m["lang"] in seen_langs else first).append(m["text"])
        seen_langs.add(m["lang"])
    return (first + rest)[:MAX_EXAMPLES]


def nearest_entry(texts: Iterable[str], engine: Engine) -> tuple[str | None, float, bool]:
    """The matcher's best entry or out-of-scope subject over all the texts,
    its score (0–100), and whether it is an out-of-scope subject.

    Subjects count like entries, as they do when the bot decides: a question
    closest to one is handed off on purpose, and its runner-up entry is not
    where it belongs ("send money home" is not repatriation)."""
    return _MemberMatches(engine).best(texts)


def out_of_scope_suggestion(subject: str) -> str:
    return f"known out-of-scope subject: {subject} — answer by hand; add a phrasing to that subject if it was not recognised"


def suggest(
    members: Sequence[dict[str, Any]], nearest: str | None, score: float, engine: Engine, *, out_of_scope: bool = False
) -> tuple[Kind, str, str | None]:
    """What an editor should do with a cluster: (kind, suggestion, entry).

    Questions whose text is already a phrasing (`phrasing_of`, set by
    `drop_known_phrasings`) are answered now: resolving them is all that is
    left (`promote` would refuse them).
    A cluster nearest to a known out-of-scope subject (`out_of_scope`) is
    never suggested as a phrasing of an entry: the bot hands it off on
    purpose, and as a phrasing it would answer such questions with a
    look-alike (`promote` refuses it too).  Otherwise users' own evidence
    comes first — the entry they chose after "did you mean", then the entry
    a 👎 names — and then the matcher: close under the answer threshold
    means the FAQ has the answer but not this wording; far under the
    clarify threshold means it has no answer at all.
    """
    answered = Counter(m.get("phrasing_of") for m in members)
    if members and None not in answered:
        refs = " ".join(f"c{m['id']}" if m["source"] == "clarification" else str(m["id"]) for m in members)
        entry = answered.most_common(1)[0][0]
        return "answered", f"answered now: already a phrasing of {entry} — resolve it: jardam review resolve {refs}", None
    known = engine.faq.entries
    chosen = Counter(m["chosen"] for m in members if m.get("chosen") in known)
    disliked = Counter(m["feedback_entry"] for m in members if m.get("feedback_entry") in known and not is_placeholder(m["text"]))
    tuning = engine.tuning
    far = score < tuning.clarify_at - NEW_ENTRY_BAND
    if out_of_scope and nearest is not None:
        # Far from everything, the subject is as unrelated as the entries are.
        if far and not (chosen or disliked):
            return "new_entry", "new entry needed", None
        return "out_of_scope", out_of_scope_suggestion(nearest), None
    for votes in (chosen, disliked):
        if votes:
            entry = votes.most_common(1)[0][0]
            return "phrasing", f"add as a phrasing of {entry}", entry
    if members and all(is_placeholder(m["text"]) for m in members):
        entries = ", ".join(sorted({m["feedback_entry"] for m in members if m.get("feedback_entry")})) or "an answer"
        return "unclear", f"review by hand: 👎 on {entries} without the question", None
    if nearest is not None and score >= tuning.strong_score - PHRASING_BAND:
        return "phrasing", f"add as a phrasing of {nearest}", nearest
    if far:
        return "new_entry", "new entry needed", None
    return "unclear", "review by hand", None


def review(
    store: Store,
    engine: Engine,
    *,
    status: str = "open",
    lang: str | None = None,
    since: str | dt.date | dt.datetime | None = None,
    until: str | dt.date | dt.datetime | None = None,
    threshold: float = CLUSTER_THRESHOLD,
) -> list[Cluster]:
    """The whole `jardam review` listing: load, leave out what is settled, cluster."""
    items = load_questions(store, status=status, lang=lang, since=since, until=until)
    if status == "open":
        items = exclude_ignored_lookalikes(store, items)
    items = drop_known_phrasings(items, engine.faq)
    return cluster(items, engine, threshold=threshold)


# --- decisions ------------------------------------------------------------------


def parse_ref(ref: int | str) -> tuple[str, int]:
    """("question", 12) for 12, "12" or "#12"; ("clarification", 3) for "c3".

    Numbers beyond SQLite's integers are refused here: SQLite would raise
    OverflowError rather than find nothing."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        source, number = "question", ref
    else:
        match = re.fullmatch(r"(c)?#?(\d+)", str(ref).strip().lower())
        if not match:
            raise ValueError(f"not a question reference: {ref!r} (use 12, #12, or c3 for a clarification)")
        source, number = ("clarification" if match.group(1) else "question"), int(match.group(2))
    if number > MAX_ID:
        raise ValueError(f"not a question reference: {ref!r} (too big: at most {MAX_ID})")
    return source, number


def set_status(store: Store, ids: Iterable[int | str], status: str) -> int:
    """Mark questions or clarifications resolved, ignored or open again.

    Returns how many changed.  All references must exist, or nothing
    changes.  Only the review state changes: an operator still sees an
    unanswered question in /open.
    """
    if status not in REVIEW_STATUSES:
        raise ValueError(f"cannot set status {status!r}; use one of {', '.join(REVIEW_STATUSES)}")
    wanted: dict[str, set[int]] = {"question": set(), "clarification": set()}
    for ref in ids:
        source, rid = parse_ref(ref)
        wanted[source].add(rid)
    tables = {"question": "questions", "clarification": "clarifications"}
    missing: list[str] = []
    for source, rids in wanted.items():
        if rids:
            marks = ",".join("?" * len(rids))
            found = {r[0] for r in store.db.execute(f"SELECT id FROM {tables[source]} WHERE id IN ({marks})", sorted(rids)).fetchall()}
            missing += [("c" if source == "clarification" else "#") + str(r) for r in sorted(rids - found)]
    if missing:
        raise ValueError("no such question: " + ", ".join(missing))
    value = None if status == "open" else status
    changed = 0
    with store.transaction():
        for source, rids in wanted.items():
            if rids:
                marks = ",".join("?" * len(rids))
                cursor = store.db.execute(f"UPDATE {tables[source]} SET review = ? WHERE id IN ({marks})", [value, *sorted(rids)])
                changed += int(cursor.rowcount)
    return changed


class NeedsForceError(ValueError):
    """A promote refused unless `force`: as the entry's phrasing, the text
    would have the bot answer messages it should not answer with it."""


class OutOfScopeError(NeedsForceError):
    """The question is closest to a known out-of-scope subject, above the
    entry it was to become a phrasing of (`promote`'s `force` overrides)."""


class NothingInformativeError(NeedsForceError):
    """The question has no word that tells one entry from another ("yes",
    "ok", "а где?"): an entry's own phrasing is answered however little it
    says, so every such message would get that entry at full confidence."""


def promote(
    store: Store,
    faq_dir: Path,
    question_id: int | str,
    entry_id: str,
    *,
    seeds_dir: Path | None = None,
    matcher: Matcher | None = None,
    force: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Path:
    """Add a question's text as a phrasing of an entry; return the file edited.

    The line goes after the last phrasing in the question's language, and no
    other byte of the file changes.  If the FAQ then fails to load, the file
    is restored and the FAQError raised.  A question becomes "resolved"; a
    clarification ("c3") leaves the review by being a phrasing now.

    One promote at a time, across processes: the FAQ is read, checked,
    edited, written and read back under an exclusive lock on
    `faq_dir/.promote.lock`, so
    that two promotes at once do not both edit the same old text (one
    phrasing lost), and the question is marked resolved only once its
    phrasing is read back from the written file.

    A question whose best match is a known out-of-scope subject scoring
    above the entry is refused with OutOfScopeError, unless `force`: the
    bot hands such questions to a person on purpose, and as the entry's
    phrasing it would answer them, and their look-alikes, with that entry.
    So is one with no informative word (NothingInformativeError: "yes",
    "ok"), which as an entry's own phrasing would be answered with it.
    `matcher`, when the caller holds one built on this FAQ, saves indexing it.

    The file is replaced whole (a temporary file and os.replace).  A FAQ
    directory that cannot be locked, read or written raises FAQWriteError
    (a ValueError), and nothing changes.  `warn` gets a warning (no file
    locks on this system); it is logged when None.
    """
    faq_dir = Path(faq_dir)
    source, rid = parse_ref(question_id)
    text, lang = _question_text(store, source, rid)
    if not faq_dir.is_dir():
        raise ValueError(f"no FAQ directory at {faq_dir} (set JARDAM_FAQ_DIR)")
    if not os.access(faq_dir, os.W_OK):
        raise FAQWriteError(_cannot_write(faq_dir))
    try:
        return _promote_locked(store, faq_dir, source, rid, text, lang, entry_id, seeds_dir, matcher, force, warn or log.warning)
    except OSError as exc:
        raise FAQWriteError(_cannot_write(faq_dir, exc)) from exc


class FAQWriteError(ValueError):
    """The FAQ directory or a file in it could not be locked, read or written
    (a read-only image, a network file system without locks): nothing changed."""


def _cannot_write(faq_dir: Path, exc: OSError | None = None) -> str:
    why = f" ({exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''})" if exc is not None else ""
    return f"cannot write the FAQ directory {faq_dir} (read-only?): promote in the git checkout, then rebuild or reload{why}"


def _promote_locked(
    store: Store,
    faq_dir: Path,
    source: str,
    rid: int,
    text: str,
    lang: str,
    entry_id: str,
    seeds_dir: Path | None,
    matcher: Matcher | None,
    force: bool,
    warn: Callable[[str], None],
) -> Path:
    with _exclusive(faq_dir, warn):
        faq = load_faq(faq_dir, seeds_dir)  # as another promote may just have left it
        phrasing = _checked_phrasing(faq, faq_dir, entry_id, text, lang, _ref(source, rid))
        if not force:
            _check_informative(phrasing, entry_id)
            _check_not_out_of_scope(matcher or Matcher(faq), text, entry_id)
        path, original = _entry_file(faq_dir, faq, entry_id)
        edited = insert_phrasing(original.decode("utf-8"), entry_id, lang, phrasing)
        _replace_file(path, edited.encode("utf-8"))
        try:
            written = load_faq(faq_dir, seeds_dir)
        except BaseException as broken:
            try:
                _replace_file(path, original)
            except OSError as exc:
                # Both told: the file is left broken, and why the edit broke it.
                raise FAQWriteError(
                    f"the phrasing broke the FAQ, and {path} could not be put back ({exc.strerror or exc}): "
                    f"remove the line added under {entry_id} ({lang}), or `git checkout -- {path.name}`; the FAQ's problems:\n{broken}"
                ) from broken
            raise
        entry = written.entries.get(entry_id)
        if entry is None or phrasing not in entry.questions.get(lang, ()):
            # Something that takes no lock (an editor) rewrote the file meanwhile: theirs is kept.
            raise ValueError(f"{path} changed while the phrasing was being added, and it is not there; nothing marked resolved")
        ref = _ref(source, rid)
        try:
            set_status(store, [ref], "resolved")
        except sqlite3.Error as exc:
            exc.add_note(f"the phrasing is in {path}: mark the question resolved with `jardam review resolve {ref}`")
            raise
    return path


def _ref(source: str, rid: int) -> str:
    """The reference `jardam review` commands take: "12", or "c3" for a clarification."""
    return f"c{rid}" if source == "clarification" else str(rid)


@contextmanager
def _exclusive(faq_dir: Path, warn: Callable[[str], None]) -> Iterator[None]:
    """An exclusive lock (flock) on `PROMOTE_LOCK` in the FAQ directory, held
    until the block ends.

    A file opened for writing, not the directory: flock on a directory's
    descriptor fails on NFS (EBADF).  Where there is no fcntl (Windows), the
    lock is skipped with a warning: promotes must then not run at once.
    """
    try:
        import fcntl
    except ImportError:
        warn(NO_LOCKS)
        yield
        return
    fd = os.open(faq_dir / PROMOTE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _replace_file(path: Path, data: bytes) -> None:
    """Write `path` through a temporary file beside it and os.replace, so
    that a reader (the bot's /reload) sees the old file or the new one,
    never half of it.  The file keeps its permissions; a symbolic link
    stays one, and its target is replaced."""
    path = path.resolve()
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # a dot-file: the loader skips it
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _check_informative(phrasing: str, entry_id: str) -> None:
    """NothingInformativeError if no word of the phrasing can tell entries
    apart, as the matcher counts them (`is_informative`)."""
    if any(is_informative(word) for word in skeleton(phrasing).split()):
        return
    raise NothingInformativeError(
        f"not added: {phrasing!r} has no word that tells one entry from another (only short words, numbers, or words like 'how', 'please', 'ok'): "
        f"as a phrasing of {entry_id}, every message like it would be answered with {entry_id} at full confidence. Resolve or ignore the question instead."
    )


def _check_not_out_of_scope(matcher: Matcher, text: str, entry_id: str) -> None:
    """OutOfScopeError if the text's best match is an out-of-scope subject scoring above `entry_id`."""
    candidates: list[Candidate] = matcher.match(text[:MAX_MATCH_CHARS], limit=5)
    if not candidates or not candidates[0].out_of_scope:
        return
    best = candidates[0]
    target = next((c.score for c in candidates if c.entry_id == entry_id), None)
    if target is not None and target >= best.score:
        return
    where = f"{entry_id} ({target:.0f})" if target is not None else f"{entry_id} (not among its closest)"
    raise OutOfScopeError(
        f"not added: the question's best match is the known out-of-scope subject {best.entry_id} ({best.score:.0f}), above {where}. "
        f"The bot hands such questions to a person; as a phrasing of {entry_id} they would be answered with it. "
        f"Answer it by hand, or add a phrasing to {best.entry_id} in _out_of_scope.yaml if it was not recognised."
    )


def _question_text(store: Store, source: str, rid: int) -> tuple[str, str]:
    table = "questions" if source == "question" else "clarifications"
    row = store.db.execute(f"SELECT text, lang FROM {table} WHERE id = ?", [rid]).fetchone()
    if row is None:
        raise ValueError(f"no such {source}: {'c' if source == 'clarification' else '#'}{rid}")
    return row[0] or "", row[1] or ""


def _checked_phrasing(faq: FAQ, faq_dir: Path, entry_id: str, text: str, lang: str, ref: str) -> str:
    """The text as one phrasing line, or ValueError saying why it cannot be one."""
    if entry_id in faq.out_of_scope:
        raise ValueError(f"{entry_id} is an out-of-scope subject: add the phrasing to {faq_dir / OUT_OF_SCOPE_FILE} by hand")
    if entry_id not in faq.entries:
        close = process.extractOne(entry_id, list(faq.entries), scorer=fuzz.ratio, processor=None, score_cutoff=70)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"unknown entry {entry_id!r}{hint}")
    if lang not in LANGS:
        raise ValueError(f"the question's language {lang!r} is not one of {', '.join(LANGS)}")
    phrasing = " ".join(text.split())
    if is_placeholder(phrasing):
        raise ValueError("this 👎 was recorded without the user's question; there is no text to add")
    if any(placeholder in phrasing for _, placeholder in MASKS):
        raise ValueError(f"the question contains masked personal data; add a phrasing by hand: {phrasing!r}")
    key = skeleton(phrasing)
    if not key:
        raise ValueError(f"the question has no letters: {phrasing!r}")
    for entry in faq.entries.values():
        for qs in entry.questions.values():
            for q in qs:
                if skeleton(q) == key:
                    raise ValueError(f"{phrasing!r} is already a phrasing of {entry.id} ({q!r}), so the bot answers it now: `jardam review resolve {ref}`")
    return phrasing


def _entry_file(faq_dir: Path, faq: FAQ, entry_id: str) -> tuple[Path, bytes]:
    """The topic file holding the entry, and its bytes.

    Topic files sit directly in `faq_dir`, so the name the FAQ recorded is
    tried first; parsing YAML is slow, the other files only if it moved.
    """
    recorded = faq_dir / Path(faq.entries[entry_id].file).name
    for path in [recorded, *(p for p in topic_files(faq_dir) if p != recorded)]:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if _find_entry(_compose(data.decode("utf-8")), entry_id) is not None:
            return path, data
    raise ValueError(f"entry {entry_id!r} is not in any file of {faq_dir}")


# --- the text edit ----------------------------------------------------------------


# The parsers `load_faq` reads with, in its order: libyaml where PyYAML has
# it, then PyYAML's own.  They differ: libyaml reads `[What is it?, amina]`
# as YAML means it (a '?' followed by a comma is text), PyYAML's parser stops
# there.  A file `jardam faq check` accepted must be read the same way here.
_LOADERS: tuple[Any, ...] = (*((yaml.CSafeLoader,) if hasattr(yaml, "CSafeLoader") else ()), yaml.SafeLoader)


def _parsed(read: Callable[[str, Any], Any], text: str) -> Any:
    """`read(text, loader)` with the first of `_LOADERS` that can read it."""
    *first, last = _LOADERS
    for loader in first:
        with suppress(yaml.YAMLError):
            return read(text, loader)
    return read(text, last)


def _compose(text: str) -> yaml.Node | None:
    return _parsed(lambda t, loader: yaml.compose(t, Loader=loader), text)


def _load(text: str) -> Any:
    return _parsed(lambda t, loader: yaml.load(t, Loader=loader), text)


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _find_entry(root: yaml.Node | None, entry_id: str) -> yaml.MappingNode | None:
    entries = _get(root, "entries")
    if not isinstance(entries, yaml.SequenceNode):
        return None
    for node in entries.value:
        id_node = _get(node, "id")
        if isinstance(node, yaml.MappingNode) and isinstance(id_node, yaml.ScalarNode) and id_node.value == entry_id:
            return node
    return None


def yaml_scalar(text: str) -> str:
    """`text` as a one-line YAML scalar: plain when safe, double-quoted otherwise."""
    width = 2**31 - 1
    body = yaml.safe_dump([text], allow_unicode=True, width=width, default_flow_style=False)[2:].rstrip("\n")
    if body[:1] in ("'", '"') or "\n" in body:
        body = yaml.safe_dump([text], allow_unicode=True, width=width, default_flow_style=False, default_style='"')[2:].rstrip("\n")
    if "\n" in body or _load(body) != text:
        raise ValueError(f"cannot write {text!r} as one YAML line")
    return body


def insert_phrasing(source: str, entry_id: str, lang: str, phrasing: str) -> str:
    """`source` (a topic file's text) with one more line: `phrasing` after the
    last item of the entry's `questions: <lang>:` list, indented like it.

    Positions come from PyYAML's composer; the file is never re-dumped, so
    comments, order and quoting elsewhere stay exactly as the editor left them.
    """
    entry = _find_entry(_compose(source), entry_id)
    items = _get(_get(entry, "questions"), lang)
    where = f"entry {entry_id}, questions {lang}"
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise ValueError(f"{where}: no list of phrasings to add to")
    if items.flow_style:
        raise ValueError(f"{where}: the list is written [in, brackets]; add the phrasing by hand")
    last = items.value[-1]
    if not isinstance(last, yaml.ScalarNode) or last.style in ("|", ">"):
        raise ValueError(f"{where}: the last phrasing is not a one-line text; add the phrasing by hand")
    lines = _YAML_LINE_END.split(source)
    prefix = lines[last.start_mark.line][: last.start_mark.column]
    if prefix.strip() != "-":
        raise ValueError(f"{where}: unexpected layout at line {last.start_mark.line + 1}; add the phrasing by hand")
    end_line = last.end_mark.line if last.end_mark.column > 0 else last.end_mark.line - 1
    newline = _line_break(lines[end_line]) or _line_break(lines[0]) or "\n"
    if not _line_break(lines[end_line]):  # the list ends the file without a final line break
        lines[end_line] += newline
    lines.insert(end_line + 1, prefix + yaml_scalar(phrasing) + newline)
    edited = "".join(lines)
    _check_insert(source, edited, entry_id, lang, phrasing)
    return edited


def _line_break(line: str) -> str:
    return line[len(line.rstrip("\r\n\x85\u2028\u2029")) :]


def _check_insert(before: str, after: str, entry_id: str, lang: str, phrasing: str) -> None:
    """The edit added exactly `phrasing` at the end of that list, nothing else."""

    def phrasings(text: str) -> list[Any]:
        data = _load(text)
        entry = next(e for e in data["entries"] if isinstance(e, dict) and e.get("id") == entry_id)
        return list(entry["questions"][lang])

    if phrasings(after) != [*phrasings(before), phrasing]:
        raise ValueError(f"entry {entry_id}: could not place the phrasing safely; add it by hand")


# --- output -------------------------------------------------------------------------

_CSV_FIELDS = (
    "count", "kind", "suggestion", "suggested_entry", "nearest_entry", "nearest_score", "nearest_out_of_scope",
    "langs", "first_seen", "last_seen", "ids", "clarification_ids",
)


def to_json(clusters: Sequence[Cluster]) -> str:
    """A JSON array, one object per cluster: every field, and `refs` for `promote`."""
    return json.dumps([{**asdict(c), "refs": c.refs} for c in clusters], ensure_ascii=False, indent=2)


def to_csv(clusters: Sequence[Cluster]) -> str:
    """One row per cluster; lists joined by spaces, examples in their own columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_CSV_FIELDS, *(f"example_{i}" for i in range(1, MAX_EXAMPLES + 1))])
    for c in clusters:
        row = asdict(c)
        values = [" ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for v in (row[f] for f in _CSV_FIELDS)]
        writer.writerow([*values, *c.examples, *[""] * (MAX_EXAMPLES - len(c.examples))])
    return out.getvalue()


def format_table(clusters: Sequence[Cluster]) -> str:
    """Readable text for the terminal, one block per cluster."""
    if not clusters:
        return "No questions to review."
    blocks = []
    for n, c in enumerate(clusters, 1):
        scope = ", out of scope" if c.nearest_out_of_scope else ""
        nearest = f"{c.nearest_entry} ({c.nearest_score:.0f}{scope})" if c.nearest_entry else "none"
        lines = [
            f"{n}. ×{c.count}  [{', '.join(c.langs) or '?'}]  {c.first_seen[:10]} → {c.last_seen[:10]}",
            f"   nearest: {nearest}  →  {c.suggestion}",
            f"   refs: {' '.join(c.refs)}",
        ]
        lines += [f"   • {_shorten(e)}" for e in c.examples]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _shorten(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
