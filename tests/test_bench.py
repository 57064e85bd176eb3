"""`jardam bench` in a quick mode: it runs and reports every figure.

Timings depend on the machine and are never asserted; what is checked is
that each measurement happened and produced a positive number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.bench import BenchResult, E2EFigures, MatchFigures, _startup_once, bench_command, format_table, full_speed_figures, synthetic_faq
from bot.faq import FAQ


@pytest.fixture(scope="module")
def quick_run() -> dict[str, Any]:
    args = ["--json", "--sizes", "1,2", "--messages", "20", "--users", "5", "--e2e-messages", "20", "--startup-runs", "1"]
    result = CliRunner().invoke(bench_command, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_bench_reports_every_figure(quick_run: dict[str, Any]) -> None:
    data = quick_run
    assert set(data) >= {"match", "startup_s", "rss_mb", "e2e"}
    shipped = data["match"][0]["entries"]
    assert [m["entries"] for m in data["match"]] == [shipped, 2 * shipped]
    assert [m["times"] for m in data["match"]] == [1, 2]
    for figures in data["match"]:
        assert all(figures[key] > 0 for key in ("entries", "p50_ms", "p99_ms", "per_s", "index_s", "rss_mb"))
        assert figures["p50_ms"] <= figures["p99_ms"]
        assert figures["probe_us"] > 0 and 0 < figures["full_speed_share"] <= 1
    assert data["startup_s"] > 0 and data["startup_env_s"] > 0 and data["rss_mb"] > 0
    e2e = data["e2e"]
    assert all(e2e[key] > 0 for key in ("msgs_per_s", "p50_ms", "p99_ms", "bot_rss_mb"))
    assert e2e["messages"] == 20 and e2e["p50_ms"] <= e2e["p99_ms"]


def test_bench_table_shows_the_sizes_side_by_side(quick_run: dict[str, Any]) -> None:
    data = quick_run
    result = BenchResult(
        [MatchFigures(**m) for m in data["match"]], data["startup_s"], data["rss_mb"], E2EFigures(**data["e2e"]), data["startup_env_s"]
    )
    table = format_table(result)
    header = next(line for line in table.splitlines() if line.startswith("FAQ size"))
    assert header.split()[2:] == ["shipped", "2×"]
    for label in ("p99, ms", "at full speed", "speed probe, µs", "messages/s", "Start-up to ready", "as this environment runs it", "End to end"):
        assert label in table


def test_bench_table_labels_each_size_by_its_own_multiple() -> None:
    """`--sizes 2,3`: neither is the shipped FAQ."""
    match = [MatchFigures(entries=60 * n, p50_ms=0.5, p99_ms=1.0, per_s=900.0, times=n) for n in (2, 3)]
    e2e = E2EFigures(300.0, 5.0, 20.0, 100.0, 10, 100, 90.0, 40.0, 2000.0, 80.0)
    header = next(line for line in format_table(BenchResult(match, 0.5, 70.0, e2e)).splitlines() if line.startswith("FAQ size"))
    assert header.split()[2:] == ["2×", "3×"]


def test_synthetic_faq_is_bigger_and_not_a_copy(faq: FAQ) -> None:
    big = synthetic_faq(faq, 3)
    assert len(big.entries) == 3 * len(faq.entries)
    for entry in list(faq.entries.values())[:5]:
        copy = big.entries[f"{entry.id}-2"]
        assert copy.answer == entry.answer and copy.sources == entry.sources
        assert copy.questions != entry.questions
        assert all(r in big.entries for r in copy.related)


def test_full_speed_figures_keep_the_messages_matched_at_the_fast_speed() -> None:
    # 600 messages at full speed (probes 100 µs, added: 50 each), 1 ms each
    # but the slowest seven; 400 at half speed (probes 200 µs), 2–3 ms each.
    fast = [0.001] * 593 + [0.0015] * 7
    slow = [0.002 + i * 0.0000025 for i in range(400)]
    latencies = fast + slow
    probes = [0.0001 + (i % 7) * 0.000002 for i in range(600)] + [0.0002] * 400
    probe_us, share, p99 = full_speed_figures(latencies, probes)
    assert 50 <= probe_us <= 57
    assert share == 0.6
    assert p99 == 1.5  # the slow messages' 2–3 ms do not count
    # Too few at full speed for a p99 of their own.
    assert full_speed_figures(latencies[:100], probes[:100])[2] == 0.0


def test_the_startup_probe_can_run_with_cached_bytecode(tmp_path: Path) -> None:
    """The headline start-up is measured as an installed package starts:
    the probe's modules compiled once into a cache of their own, even where
    the environment forbids writing bytecode, and nothing written beside
    the sources."""
    result = _startup_once(PYTHONPYCACHEPREFIX=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    assert result["startup_s"] > 0 and not list(tmp_path.rglob("*.pyc"))  # the control: forbidden, nothing cached
    _startup_once(PYTHONPYCACHEPREFIX=str(tmp_path), PYTHONDONTWRITEBYTECODE=None)
    cached = {path.name.split(".")[0] for path in tmp_path.rglob("*.pyc") if path.parent.name == "bot"}
    assert {"cli", "engine", "matcher", "faq"} <= cached
