"""`jardam stats` figures on a real SQLite file, and the Datasette canned
queries run against the same schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from bot import stats
from bot.faq import FAQ
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "x.db")
    events = [
        # ts, chat, lang, outcome, entry
        ("2026-10-01T09:00:00+00:00", 9, "ru", "answer", "ban-check"),  # before --since
        ("2026-11-01T09:00:00+00:00", 1, "ky", "answer", "patent-not-needed"),
        ("2026-11-01T09:01:00+00:00", 1, "ky", "feedback_up", "patent-not-needed"),
        ("2026-11-02T09:00:00+00:00", 1, "ky", "answer", "ban-check"),
        ("2026-11-02T09:01:00+00:00", 1, "ky", "feedback_down", "ban-check"),
        ("2026-11-03T09:00:00+00:00", 2, "ru", "answer", "ban-remove"),
        ("2026-11-03T09:05:00+00:00", 2, "ru", "clarify", None),
        ("2026-11-04T09:00:00+00:00", 2, "ru", "handoff", None),
        ("2026-11-04T09:30:00+00:00", 3, "en", "answer", "amina-what-is"),
        ("2026-11-05T09:00:00+00:00", 3, "en", "handoff", None),
        ("2026-11-05T09:01:00+00:00", 3, "en", "feedback_down", "ban-check"),
    ]
    for ts, chat, lang, outcome, entry in events:
        store.db.execute(
            "INSERT INTO events (ts, chat_id, lang, outcome, entry_id, confidence, via) VALUES (?, ?, ?, ?, ?, 50, 'text')",
            [ts, chat, lang, outcome, entry],
        )
    questions = [
        # ts, reason, status, answered_at: waits of 10, 30 and 120 minutes
        ("2026-10-01T10:00:00+00:00", "engine", "closed", "2026-10-03T10:00:00+00:00"),  # before --since
        ("2026-11-02T09:02:00+00:00", "feedback", "answered", "2026-11-02T09:12:00+00:00"),
        ("2026-11-04T09:00:00+00:00", "engine", "closed", "2026-11-04T09:30:00+00:00"),
        ("2026-11-05T09:00:00+00:00", "engine", "answered", "2026-11-05T11:00:00+00:00"),
        ("2026-11-05T09:02:00+00:00", "human", "open", None),
    ]
    for ts, reason, status, answered in questions:
        store.db.execute(
            "INSERT INTO questions (ts, chat_id, lang, text, candidates, reason, status, answered_at) VALUES (?, 1, 'ru', 'q', '[]', ?, ?, ?)",
            [ts, reason, status, answered],
        )
    return store


def test_figures_since_a_date(store: Store, faq: FAQ) -> None:
    figures = stats.compute(store, faq, since="2026-11-01")

    assert figures["since"] == "2026-11-01T00:00:00+00:00"
    assert figures["messages"] == 7
    assert figures["users"] == 3
    assert figures["outcomes"] == {"answered": 4, "clarified": 1, "handed_off": 2}
    assert figures["by_language"] == {
        "ky": {"messages": 2, "answered": 2, "clarified": 0, "handed_off": 0},
        "ru": {"messages": 3, "answered": 1, "clarified": 1, "handed_off": 1},
        "en": {"messages": 2, "answered": 1, "clarified": 0, "handed_off": 1},
    }
    assert figures["by_topic"] == {"bans": 2, "amina": 1, "work": 1}
    assert figures["feedback"] == {"ban-check": {"up": 0, "down": 2}, "patent-not-needed": {"up": 1, "down": 0}}
    assert figures["handoffs"] == {
        "total": 4,
        "answered": 3,
        "median_minutes_to_answer": 30.0,
        "by_reason": {"engine": 2, "feedback": 1, "human": 1},
    }
    json.dumps(figures)  # JSON-ready for a --json option


def test_all_time_and_an_even_median(store: Store, faq: FAQ) -> None:
    figures = stats.compute(store, faq)

    assert figures["since"] is None
    assert figures["messages"] == 8 and figures["users"] == 4
    assert figures["by_topic"]["bans"] == 3
    # waits 10, 30, 120 and 2880 minutes: the median is between 30 and 120
    assert figures["handoffs"]["median_minutes_to_answer"] == 75.0


def test_empty_store_and_table(tmp_path: Path, store: Store, faq: FAQ) -> None:
    empty = stats.compute(Store(tmp_path / "empty.db"), faq)
    assert empty["messages"] == 0 and empty["handoffs"]["median_minutes_to_answer"] is None
    assert "Messages: 0 from 0 users" in stats.format_table(empty)

    table = stats.format_table(stats.compute(store, faq, since=dt.date(2026, 11, 1)))
    assert "Since 2026-11-01" in table
    assert "Messages: 7 from 3 users" in table
    assert "answered 4 (57 %)" in table
    assert "Handed to people: 4, answered 3, median wait for an answer 30 min" in table
    assert "ban-check" in table and "bans" in table


def test_datasette_canned_queries_run(store: Store) -> None:
    metadata = yaml.safe_load((ROOT / "datasette" / "metadata.yml").read_text(encoding="utf-8"))
    database = metadata["databases"]["jardam"]
    assert metadata["title"] == "Jardam log"
    assert {"questions", "events", "clarifications", "outbox", "users", "relay"} <= set(database["tables"])
    store.db.execute(
        "INSERT INTO questions (ts, chat_id, lang, text, candidates, reason, status) VALUES (?, 1, 'ky', 'жок', ?, 'feedback', 'open')",
        [dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), json.dumps([{"id": "ban-check", "score": 0}])],
    )
    store.add_clarification(chat_id=5, message_id=7, lang="en", text="amina app", candidates=[{"id": "amina-what-is", "score": 50}])
    store.clarification_chosen(5, 7, "amina-what-is")

    results = {name: store.db.execute(q["sql"]).fetchall() for name, q in database["queries"].items()}

    assert set(results) == {"unanswered_this_week", "unanswered_by_language", "answers_by_topic", "thumbs_down", "clarifications_chosen"}
    week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).isoformat(timespec="seconds")
    assert results["unanswered_this_week"][0][4] == "жок"
    assert all(row[1] >= week_ago for row in results["unanswered_this_week"])
    assert results["thumbs_down"] == [("ban-check", 2, 1, 1, "#6 жок")]
    assert results["clarifications_chosen"][0][:3] == ("amina-what-is", 1, 1)


def test_the_wait_for_an_answer_is_to_the_first_one(tmp_path: Path, faq: FAQ, monkeypatch: pytest.MonkeyPatch) -> None:
    """A question answered in 5 minutes, then followed up and answered again
    two days later, waited 5 minutes; the answer kept is the latest."""
    from bot import store as store_module

    store = Store(tmp_path / "w.db")
    clock = iter(["2026-11-20T10:00:00+00:00", "2026-11-20T10:05:00+00:00", "2026-11-20T10:06:00+00:00", "2026-11-22T10:00:00+00:00"])
    monkeypatch.setattr(store_module, "utcnow", lambda: next(clock))
    question = store.add_question(chat_id=7, lang="ru", text="вопрос", candidates=[], reason="engine")
    store.set_question_status(question.id, "answered", answer="first")
    store.set_question_status(question.id, "open")  # the user's follow-up
    store.set_question_status(question.id, "answered", answer="second")
    assert stats.compute(store, faq)["handoffs"]["median_minutes_to_answer"] == 5.0
    assert store.question(question.id).answer == "second"
