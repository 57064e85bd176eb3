"""Usage figures from the store: the library behind `jardam stats`.

What the FAQ's editors and the NGO need to know is whether the bot helps:
how many messages it answered, offered choices for or handed to people, in
which language and on which topic, which answers users found unhelpful,
and how long people waited for an operator.  The events table holds no
text, so none of this touches what users wrote.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from .faq import FAQ, LANGS
from .review import utc_bound
from .store import Store

FEEDBACK = ("feedback_up", "feedback_down")
# Event outcomes as the figures name them.
OUTCOMES = {"answer": "answered", "clarify": "clarified", "handoff": "handed_off"}
UNKNOWN_TOPIC = "(entry no longer in the FAQ)"


def compute(store: Store, faq: FAQ, since: str | dt.date | dt.datetime | None = None) -> dict[str, Any]:
    """Every figure of `jardam stats`, as plain data (JSON-ready).

    `messages` counts the bot's replies: typed questions and answers chosen
    with a button (a topic menu, a deep link, a "did you mean" choice)
    alike; 👍/👎 clicks are counted apart.
    """
    start = utc_bound(since)
    period = " AND ts >= ?" if start else ""
    params = [start] if start else []
    messages, users = store.db.execute(
        f"SELECT count(*), count(DISTINCT chat_id) FROM events WHERE outcome NOT IN (?, ?){period}", [*FEEDBACK, *params]
    ).fetchone()
    return {
        "since": start,
        "messages": messages,
        "users": users,
        "outcomes": _outcomes(store, period, params),
        "by_language": _by_language(store, period, params),
        "by_topic": _by_topic(store, faq, period, params),
        "feedback": _feedback(store, period, params),
        "handoffs": _handoffs(store, period, params),
    }


def _outcomes(store: Store, period: str, params: list[Any]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES.values(), 0)
    for outcome, n in store.db.execute(f"SELECT outcome, count(*) FROM events WHERE 1 = 1{period} GROUP BY outcome", params):
        if outcome in OUTCOMES:
            counts[OUTCOMES[outcome]] = n
    return counts


def _by_language(store: Store, period: str, params: list[Any]) -> dict[str, dict[str, int]]:
    """Messages and outcomes per reply language; ky, ru, en always present."""
    empty = {"messages": 0, **dict.fromkeys(OUTCOMES.values(), 0)}
    out: dict[str, dict[str, int]] = {lang: dict(empty) for lang in LANGS}
    rows = store.db.execute(
        f"SELECT coalesce(lang, '?'), outcome, count(*) FROM events WHERE outcome NOT IN (?, ?){period} GROUP BY 1, 2",
        [*FEEDBACK, *params],
    )
    for lang, outcome, n in rows:
        figures = out.setdefault(lang, dict(empty))
        figures["messages"] += n
        if outcome in OUTCOMES:
            figures[OUTCOMES[outcome]] += n
    return out


def _by_topic(store: Store, faq: FAQ, period: str, params: list[Any]) -> dict[str, int]:
    """Answers per topic of the entry answered, most answered first.

    Topics live in the FAQ, not the database, so the current FAQ decides:
    an entry since removed is counted apart.
    """
    counts: dict[str, int] = {}
    rows = store.db.execute(f"SELECT entry_id, count(*) FROM events WHERE outcome = 'answer'{period} GROUP BY entry_id", params)
    for entry_id, n in rows:
        entry = faq.entries.get(entry_id or "")
        topic = entry.topic if entry else UNKNOWN_TOPIC
        counts[topic] = counts.get(topic, 0) + n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _feedback(store: Store, period: str, params: list[Any]) -> dict[str, dict[str, int]]:
    """👍 ("up") and 👎 ("down") per entry, most 👎 first."""
    out: dict[str, dict[str, int]] = {}
    rows = store.db.execute(
        f"SELECT entry_id, outcome, count(*) FROM events WHERE outcome IN (?, ?){period} GROUP BY entry_id, outcome",
        [*FEEDBACK, *params],
    )
    for entry_id, outcome, n in rows:
        figures = out.setdefault(entry_id or "?", {"up": 0, "down": 0})
        figures["up" if outcome == "feedback_up" else "down"] += n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["down"], -kv[1]["up"], kv[0])))


def _handoffs(store: Store, period: str, params: list[Any]) -> dict[str, Any]:
    """Questions handed to people, how many got an answer, and how fast.

    The median, not the mean: one question answered after a weekend would
    otherwise hide that most are answered within the hour.
    """
    rows = store.db.execute(f"SELECT ts, answered_at, reason FROM questions WHERE 1 = 1{period}", params).fetchall()
    waits = [_minutes(ts, answered) for ts, answered, _ in rows if answered]
    reasons: dict[str, int] = {}
    for _, _, reason in rows:
        reasons[reason or "?"] = reasons.get(reason or "?", 0) + 1
    return {
        "total": len(rows),
        "answered": len(waits),
        "median_minutes_to_answer": round(statistics.median(waits), 1) if waits else None,
        "by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _minutes(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() / 60


# --- output -----------------------------------------------------------------


def _share(n: int, total: int) -> str:
    return f"{n} ({100 * n / total:.0f} %)" if total else str(n)


def format_table(stats: dict[str, Any]) -> str:
    """The figures as readable text for the terminal."""
    total = stats["messages"]
    o = stats["outcomes"]
    lines = [
        f"Since {stats['since'][:10]}" if stats["since"] else "All time",
        f"Messages: {total} from {stats['users']} users",
        f"  answered {_share(o['answered'], total)} · clarified {_share(o['clarified'], total)} · handed off {_share(o['handed_off'], total)}",
        "",
        f"{'language':<10}{'messages':>10}{'answered':>10}{'clarified':>11}{'handed off':>12}",
    ]
    for lang, f in stats["by_language"].items():
        lines.append(f"{lang:<10}{f['messages']:>10}{f['answered']:>10}{f['clarified']:>11}{f['handed_off']:>12}")
    lines += ["", "Answers by topic"]
    lines += [f"  {topic:<30}{n:>6}" for topic, n in stats["by_topic"].items()] or ["  (none)"]
    lines += ["", "Feedback per entry (👍 / 👎)"]
    lines += [f"  {entry:<30}{f['up']:>4} / {f['down']}" for entry, f in stats["feedback"].items()] or ["  (none)"]
    h = stats["handoffs"]
    median = h["median_minutes_to_answer"]
    waited = f", median wait for an answer {median:g} min" if median is not None else ""
    lines += ["", f"Handed to people: {h['total']}, answered {h['answered']}{waited}"]
    if h["by_reason"]:
        lines.append("  by reason: " + ", ".join(f"{reason} {n}" for reason, n in h["by_reason"].items()))
    return "\n".join(lines)
