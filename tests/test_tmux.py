"""The real `autolr-tui` in a real terminal (tmux, 100x30), on tiny real-training settings."""

import os
import shlex
import shutil
import subprocess
import time

from tests.test_cli import EXE

TMUX = shutil.which("tmux")


def screen(session):
    return subprocess.run([TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_screen(session, words, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = screen(session)
        if words in text:
            return text
        time.sleep(0.25)
    raise AssertionError(f"{words!r} never appeared; the screen was:\n{screen(session)}")


def test_pause_and_quit_in_a_real_terminal(tmp_path, data_dir):
    assert TMUX, "tmux is not installed (.ci/run installs it)"
    assert EXE
    session = f"autolr-test-{os.getpid()}"
    args = [EXE, "--set", "data.train=300", "--set", "data.validation=100", "--set", "data.test=100",
            "--set", "training.epochs=2", "--set", "training.batch_size=50", "--set", "evolution.population=3",
            "--set", "evolution.tournament_size=3", "--set", "evolution.generations=50"]
    command = (f"cd {shlex.quote(str(tmp_path))} && AUTOLR_DATA_DIR={shlex.quote(str(data_dir))} "
               f"{shlex.join(args)}; echo EXIT=$?; sleep 60")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
    try:
        wait_screen(session, "READY", 30)
        subprocess.run([TMUX, "send-keys", "-t", session, "g"], check=True)
        text = wait_screen(session, "generation 1 done", 120)
        assert "RUNNING" in text
        subprocess.run([TMUX, "send-keys", "-t", session, "p"], check=True)
        text = wait_screen(session, "PAUSED", 10)
        assert "tensorflow" not in text.lower() and "cuda" not in text.lower()
        subprocess.run([TMUX, "send-keys", "-t", session, "q"], check=True)
        wait_screen(session, "Stop it and quit?", 10)
        subprocess.run([TMUX, "send-keys", "-t", session, "y"], check=True)
        text = wait_screen(session, "EXIT=", 30)
        assert "EXIT=0" in text and "Traceback" not in text
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True)
    # nothing left running: the worker process ended with the app
    log = (tmp_path / "runs" / "logs" / "worker-0.log").read_text()
    pids = [int(line.split()[1]) for line in log.splitlines() if line.startswith("worker ") and "starting" in line]
    assert pids
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert "stopped" in subprocess.run([EXE, "runs", "runs/default.sqlite"], cwd=tmp_path, capture_output=True,
                                       text=True).stdout
