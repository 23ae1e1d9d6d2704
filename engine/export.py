"""Export an evaluated policy: a standalone Python file, JSON, or CSV of the rate per epoch.

The Python file imports nothing from this project: it defines ``policy(epoch,
learning_rate)`` (1-based epochs), ``schedule(epochs)`` (the rates, rounded to
float32 after every epoch exactly as Keras's optimizer does), a ready Keras
``LearningRateScheduler`` and a PyTorch ``LambdaLR`` adapter.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .config import Config
from .policy import Const, Node, Policy
from .store import PolicyRow

FORMATS = ("py", "json", "csv")
JSON_FORMAT = "autolr-tui policy"


class ExportError(ValueError):
    pass


def _statements(node: Node, indent: int) -> list[str]:
    pad = "    " * indent
    if isinstance(node, Const):
        return [f"{pad}return {node.value!r}"]
    c = node.cond
    return ([f"{pad}if {c.variable} {c.op} {c.value!r}:"] + _statements(node.then, indent + 1)
            + _statements(node.other, indent))


_PY = '''"""Learning-rate policy evolved by autolr-tui (AutoLR: structured grammatical evolution).

    {phenotype}

Fitness {fitness} ({meaning}), run {run}, generation {generation}, individual {index};
model {model}, {epochs} epochs, starting rate {initial_lr}.

Keras:   model.fit(..., callbacks=[keras_scheduler()])
PyTorch: scheduler = torch_lambda_lr(optimizer); call scheduler.step() after each epoch.
This file needs nothing but the standard library (and Keras or PyTorch for the adapters).
"""

import struct

PHENOTYPE = {phenotype!r}
INITIAL_LR = {initial_lr!r}
EPOCHS = {epochs!r}


def policy(epoch, learning_rate):
    """The rate for 1-based ``epoch``, given the rate in use before it."""
{body}


def _float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def schedule(epochs=EPOCHS, initial_lr=INITIAL_LR):
    """Rates for epochs 1..epochs, fed back as float32 as Keras's optimizer stores them."""
    rates, lr = [], _float32(initial_lr)
    for epoch in range(1, epochs + 1):
        lr = _float32(policy(epoch, lr))
        rates.append(lr)
    return rates


def keras_scheduler(verbose=0):
    """A keras.callbacks.LearningRateScheduler running the policy (Keras counts epochs from 0)."""
    try:
        import keras
    except ImportError:  # Keras 2 through TensorFlow
        from tensorflow import keras
    return keras.callbacks.LearningRateScheduler(lambda epoch, lr: policy(epoch + 1, lr), verbose=verbose)


def torch_lambda_lr(optimizer, initial_lr=INITIAL_LR):
    """A torch.optim.lr_scheduler.LambdaLR giving the policy's rate for each epoch.

    LambdaLR scales each group's starting rate, so the factor is rate / that rate.
    """
    from torch.optim.lr_scheduler import LambdaLR

    cache = {{}}

    def rate(step):  # LambdaLR's step 0 is the first epoch
        if step not in cache:
            cache.update(enumerate(schedule(step + 1, initial_lr)))
        return cache[step]

    return LambdaLR(optimizer, [lambda step, base=group["lr"]: rate(step) / base for group in optimizer.param_groups])
'''


def to_python(row: PolicyRow, cfg: Config) -> str:
    policy = Policy.parse(row.phenotype)
    return _PY.format(
        phenotype=row.phenotype, fitness=f"{row.fitness:.4f}", meaning=cfg.fitness_meaning, run=row.run + 1,
        generation=row.generation + 1, index=row.index + 1, model=cfg.training.model, epochs=cfg.training.epochs,
        initial_lr=cfg.training.initial_lr, body="\n".join(_statements(policy.tree, 1)))


def to_dict(row: PolicyRow, cfg: Config) -> dict[str, Any]:
    return {
        "format": JSON_FORMAT, "version": 1,
        "phenotype": row.phenotype, "genotype": row.genotype,
        "fitness": row.fitness, "fitness_meaning": cfg.fitness_meaning, "status": row.status, "reason": row.reason,
        "run": row.run + 1, "generation": row.generation + 1, "individual": row.index + 1,
        "initial_lr": cfg.training.initial_lr,
        "rates": [float(r) for r in row.schedule],
        "stopped_epoch": row.stopped_epoch,
        "epochs": [asdict(e) for e in row.epochs],
        "config": cfg.to_dict(),
    }


def to_csv(row: PolicyRow) -> str:
    return "epoch,rate\n" + "".join(f"{e},{float(r)!r}\n" for e, r in enumerate(row.schedule, start=1))


def render(row: PolicyRow, cfg: Config, fmt: str) -> str:
    if fmt == "py":
        return to_python(row, cfg)
    if fmt == "json":
        return json.dumps(to_dict(row, cfg), indent=2) + "\n"
    if fmt == "csv":
        return to_csv(row)
    raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def default_name(cfg: Config, row: PolicyRow, fmt: str) -> str:
    return f"{cfg.experiment.name}-run{row.run + 1}-g{row.generation + 1}-i{row.index + 1}.{fmt}"


def read_json_policy(text: str, source: str) -> tuple[Policy, list[float]]:
    """Read back an exported JSON policy, checking it; raises ExportError naming ``source``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
        raise ExportError(f"{source}: not an exported autolr-tui policy")
    try:
        policy = Policy.parse(data["phenotype"])
        rates = [float(r) for r in data["rates"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"{source}: malformed policy ({exc})") from None
    return policy, rates
