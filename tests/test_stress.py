"""`jardam stress` as a real process, in small runs: it leaves no bot and no
work folder behind however it ends, runs outside a checkout, says why the
bot did not start, and fails a kill it was asked for but never did."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.stress import quantiles, sigterm_exits

ROOT = Path(__file__).resolve().parent.parent
FAQ_SMALL = ROOT / "tests" / "fixtures" / "faq_small"


def stress_env(tmp_path: Path) -> dict[str, str]:
    """No bot settings of the caller's; temporary folders in one we can look into."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPERATOR_", "JARDAM_", "WEBHOOK_"))}
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env["TMPDIR"] = str(scratch)
    return env


def work_folders(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "tmp").glob("jardam-stress-*"))


def stress_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "stress", *args]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def polling_stress_run(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`jardam stress ARGS` started, once its bot is polling."""
    proc = subprocess.Popen(stress_command(*args), cwd=ROOT, env=stress_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "bot polling after" in line:
            break
    return proc


@pytest.mark.slow
def test_sigterm_stops_the_bot_and_removes_the_work_folder(tmp_path: Path) -> None:
    proc = polling_stress_run(tmp_path, "--users", "5", "--messages", "20", "--kill-after", "0", "--timeout", "300")
    bots: list[int] = []
    try:
        bots = children(proc.pid)
        assert len(bots) == 1 and running(bots[0]), bots
        assert work_folders(tmp_path)  # the control: both exist while the run lasts
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in bots:
            if running(pid):  # an orphan: do not leave it polling
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert not running(bots[0]), "the bot outlived the stress run"
    assert not work_folders(tmp_path)


@pytest.mark.slow
def test_a_bot_that_dies_during_the_run_ends_it_at_once(tmp_path: Path) -> None:
    proc = polling_stress_run(tmp_path, "--users", "3", "--messages", "30", "--kill-after", "0", "--timeout", "120")
    try:
        bots = children(proc.pid)
        assert len(bots) == 1, bots
        started = time.monotonic()
        os.kill(bots[0], signal.SIGKILL)  # not a kill the run asked for
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "Error: the bot exited with status -9" in err and "during the run" in err, err
    assert time.monotonic() - started < 30  # not the whole --timeout
    assert not work_folders(tmp_path)


def test_sigterm_is_an_exit_only_while_the_run_lasts() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with pytest.raises(SystemExit) as raised, sigterm_exits():
            signal.raise_signal(signal.SIGTERM)
            time.sleep(1)  # not reached
        assert raised.value.code == 143
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.slow
@pytest.mark.parametrize(("kill_after", "killed"), [("0.5", True), ("600s", False)])
def test_a_kill_asked_for_is_checked(tmp_path: Path, kill_after: str, killed: bool) -> None:
    result = subprocess.run(
        stress_command("--users", "2", "--messages", "2", "--fail-rate", "0", "--kill-after", kill_after, "--timeout", "120", "--json"),
        cwd=ROOT,
        env=stress_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(result.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    kill = checks.pop("the bot was killed as asked")
    assert kill["ok"] is killed, kill
    assert all(c["ok"] for c in checks.values()), checks
    assert (data["figures"]["sigkill_at_s"] is not None) is killed
    assert result.returncode == (0 if killed else 1)
    if not killed:
        assert "asked after 600 s, but the run ended first" in kill["detail"]
        assert data["ok"] is False


@pytest.mark.slow
def test_runs_outside_a_checkout(tmp_path: Path) -> None:
    """As installed: the package alone (no tests/, no faq/ beside it), run
    from a folder holding the FAQ and the catalogues.  The users ask the
    FAQ's own phrasings, and the bot, which runs in the package's folder,
    is told where the FAQ is."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "bot", site / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    here = tmp_path / "deploy"
    shutil.copytree(FAQ_SMALL, here / "faq")
    shutil.copytree(ROOT / "locales", here / "locales")
    env = stress_env(tmp_path) | {"PYTHONPATH": str(site)}
    result = subprocess.run(
        stress_command("--users", "2", "--messages", "2", "--fail-rate", "0", "--kill-after", "0", "--timeout", "120", "--json"),
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"no labelled questions at {here / 'tests' / 'eval' / 'questions.yaml'}: users ask the FAQ's own phrasings" in result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and data["figures"]["messages_sent"] == 4


@pytest.mark.slow
def test_a_bot_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    faq_dir = tmp_path / "deploy" / "faq"
    shutil.copytree(FAQ_SMALL, faq_dir)
    (faq_dir / "work.yaml").write_text("topic: [unclosed\n", encoding="utf-8")
    labelled = tmp_path / "deploy" / "tests" / "eval" / "questions.yaml"
    labelled.parent.mkdir(parents=True)
    labelled.write_text("- {q: нужен ли патент, lang: ru, expect: patent-not-needed}\n", encoding="utf-8")
    env = stress_env(tmp_path) | {"JARDAM_FAQ_DIR": str(faq_dir)}
    started = time.monotonic()
    result = subprocess.run(
        stress_command("--users", "1", "--messages", "1", "--kill-after", "0", "--timeout", "60"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout
    assert "Error: the bot exited with status 1 before polling; the end of its log:\n" in result.stderr
    assert "work.yaml" in result.stderr and "the FAQ has 1 problem(s)" in result.stderr  # what the bot said
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # not the 60 s wait for a poll
    assert not work_folders(tmp_path)


def test_latency_percentiles_are_nearest_rank() -> None:
    figures = quantiles([float(v) for v in range(100, 0, -1)])
    assert (figures["p50"], figures["p95"], figures["p99"], figures["max"]) == (50.0, 95.0, 99.0, 100.0)
    assert quantiles([0.25])["p99"] == 0.25
    assert quantiles([]) == {}
