"""The worker process: TensorFlow lives here, its output in a log file, never on the terminal.

Protocol over a multiprocessing pipe (parent -> worker / worker -> parent):
``("train", rates, seed)`` / ``("epoch", EpochRecord)`` answered with a bool
(go on, or stop), then ``("result", EvalResult)``; at start ``("ready",)`` or
``("error", message)``; ``("close",)`` ends the worker. When the parent dies the
pipe breaks and the worker exits.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from .config import Config
from .data import DataError
from .results import EvalResult


def _redirect_output(log_path: str) -> None:
    """Send this process's stdout and stderr (Python's and C++'s) to the log file."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def worker_main(conn, cfg: Config, log_path: str, gpu: str | None) -> None:
    _redirect_output(log_path)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    print(f"worker {os.getpid()} starting (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')})",
          flush=True)
    try:
        from .training import Trainer, configure_tensorflow

        configure_tensorflow()
        trainer = Trainer(cfg)
    except DataError as exc:
        conn.send(("error", str(exc)))
        return
    except Exception as exc:
        traceback.print_exc()
        conn.send(("error", f"the worker could not start: {type(exc).__name__}: {exc} (see {log_path})"))
        return
    conn.send(("ready",))
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "close":
                return
            _, rates, seed = msg

            def on_epoch(record) -> bool:
                conn.send(("epoch", record))
                return bool(conn.recv())

            try:
                result = trainer.train(rates, seed, on_epoch)
            except (EOFError, BrokenPipeError):
                raise
            except Exception as exc:  # e.g. out of GPU memory: this schedule failed, the worker lives on
                traceback.print_exc()
                result = EvalResult(0.0, f"training failed: {type(exc).__name__}: {exc}", (), 0.0, None, "failed")
            conn.send(("result", result))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the parent is gone
