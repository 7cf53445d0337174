"""The training loop shared by the restorer and the prior.

AdamW with linear warm-up, gradient-norm clipping, an EMA of the weights, bf16 autocast with
channels_last weights on CUDA and on CPUs where bf16 measures faster (fp32 elsewhere), a CSV loss log, a validation
figure per checkpoint (``validation.csv``), preview grids, and checkpoints that resume
bit-exactly: every random draw of step
s is keyed by (seed, s), the checkpoint restores network, EMA, optimiser and the global RNG states
(dropout draws from them), and the DataLoader draws from a generator of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import signal
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from faceapp.core import termination
from faceapp.core.devices import cpu_runs_bf16_fast, resolve_device
from faceapp.core.errors import FaceappError
from faceapp.core.file_lock import lock_exclusively
from faceapp.core.loading import build_network, count_parameters
from faceapp.training import checkpoint as ckpt
from faceapp.training.batches import StepBatches
from faceapp.training.config import CONFIGS_DIR, ConfigError, TrainingConfig, load_config, parse_config
from faceapp.training.csvlog import CsvLog
from faceapp.training.data import DatasetError, FaceDataset, read_manifest
from faceapp.training.degradation import sample_rng
from faceapp.training.ema import EMA
from faceapp.training.tasks import make_task

PREVIEW_FACES = 4
VALIDATION_FACES = 16
VALIDATION_STREAM = 2**31 - 2  # the degradation stream of the validation faces (previews use 2**31 − 1)


class TrainingDivergedError(FaceappError):
    """The loss became NaN or infinite; the last checkpoint before it is kept."""


class RunInUseError(FaceappError):
    """Another trainer holds the run folder's lock."""


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    start_step: int
    end_step: int
    losses: list[float]  # loss of every step run in this call, in order
    portable: Path
    stopped_by: str | None = None  # the signal (SIGINT, SIGTERM, SIGHUP; SIGBREAK on Windows) that stopped it before its last step


LOCK_NAME = "train.lock"

#: The signals that make a run stop after its current step with a checkpoint: Ctrl-C and those the rest of
#: faceapp handles like it (on Windows, closing the console or Ctrl+Break: SIGBREAK; portability QA).
STOP_SIGNALS = (signal.SIGINT, *termination.SIGNALS)


class _StopRequest:
    """Set by the first stop signal: the run saves after its current step and returns. A second one stops at once
    (KeyboardInterrupt), keeping only the last checkpoint."""

    def __init__(self) -> None:
        self.signal: str | None = None

    def __call__(self, signum, _frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt(f"stopped by a second {signal.Signals(signum).name}")
        self.signal = signal.Signals(signum).name


@contextlib.contextmanager
def _stop_after_step():
    """Within the block, the :data:`STOP_SIGNALS` ask the run to stop after its current step (main thread
    only; a signal the process was told to ignore, as ``nohup`` ignores SIGHUP, stays ignored)."""
    request = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {signum: signal.signal(signum, request) for signum in STOP_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _ignore_stop_signals(_worker_id: int) -> None:
    """DataLoader worker start: Ctrl-C (or a kill of the process group) reaches every worker, and a worker it
    killed would fail the step the main process finishes before saving; the main process alone decides when
    to stop. (Forked workers inherit the run's handler, spawned ones, as on macOS, would not.)"""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _unwritable_run(run_dir: Path, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot write in the run folder {run_dir}: {exc.strerror or exc} (a read-only disk or "
                       "folder?): give a --run-dir where you may write")


@contextlib.contextmanager
def run_lock(run_dir: Path, log: Callable[[str], None] = print):
    """Hold an exclusive lock on ``run_dir`` (``train.lock``, with the holder's process id) for the block;
    raises :class:`RunInUseError` while another trainer holds it. Where there are no locks
    (:func:`faceapp.core.file_lock.lock_exclusively`) it trains unlocked, with a note."""
    path = run_dir / LOCK_NAME
    try:
        opened = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:  # (own-model QA: a run on a read-only disk ended in a traceback)
        raise _unwritable_run(run_dir, exc) from None
    with opened as fh:
        result, why = lock_exclusively(fh)
        if result == "held":
            fh.seek(0)
            holder = fh.read().strip()
            raise RunInUseError(f"another trainer{f' (process {holder})' if holder.isdigit() else ''} is using "
                                f"{run_dir}: wait for it to finish, or give another --run-dir")
        if result == "unavailable":  # (Lustre without flock, some NFS; Windows): train unlocked
            log(f"note: cannot lock {path} ({why}): training without a lock")
            yield
            return
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)


def learning_rate(step: int, *, base: float, warmup: int, warmup_from: int = 0,
                  milestones: tuple[int, ...] = (), gamma: float = 1.0) -> float:
    """Linear warm-up from base/warmup to base over ``warmup`` steps after ``warmup_from`` (a warm
    start warms its fresh optimiser up again), then constant, times ``gamma`` for every milestone
    step already reached (step decay)."""
    decayed = base * gamma ** sum(step >= m for m in milestones)
    return decayed * min(1.0, (step - warmup_from + 1) / warmup) if warmup > 0 else decayed


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """The generator for the in-step randomness (timesteps, noise) of ``step``."""
    return torch.Generator(device=device).manual_seed((seed & 0xFFFFFFFF) * 1_000_003 + step)


def opencv_for_workers(num_workers: int) -> None:
    """With DataLoader workers, OpenCV runs on one thread in this process and so in the workers it
    forks. PyTorch gives each worker one thread, but OpenCV's pool would start a thread per core in
    every worker: N workers on N cores would fight over N² threads in their blurs and resizes.
    It is set here, before the fork: ``cv2.setNumThreads`` called inside a forked worker, once this
    process has used OpenCV's pool, waits forever on pool threads the fork did not copy."""
    if num_workers > 0:
        cv2.setNumThreads(1)


def loader_generator(seed: int, start_step: int) -> torch.Generator:
    """The DataLoader's own generator, keyed by (seed, first step). Starting an iterator draws
    the workers' base seed from it; drawn from the global RNG instead, that draw would put a
    resumed run's dropout one draw ahead of the uninterrupted run."""
    key = np.random.SeedSequence([seed & 0xFFFFFFFF, 0x10AD, start_step]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(key[0]) << 32 | int(key[1]))


def autocast_factory(device: torch.device, bf16: bool) -> Callable[[], contextlib.AbstractContextManager]:
    """The context network forwards run in: bf16 autocast on CUDA and on a CPU with bf16 matrix
    instructions (when the config asks for bf16), else plain float32."""
    if bf16 and (device.type == "cuda" or (device.type == "cpu" and cpu_runs_bf16_fast())):
        return functools.partial(torch.autocast, device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def prepare_network(model: torch.nn.Module, device: torch.device, *, channels_last: bool) -> torch.nn.Module:
    """Move ``model`` to ``device``, in the channels_last layout when asked (bf16 convolutions run
    fastest in it; fp32 ones on a CPU ran slower: bench/README.md). Values, state dict and
    checkpoints are the same either way."""
    model = model.to(device=device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def train_step(model, ema: EMA, optimizer, task, batch, *, lr: float, generator, autocast, grad_clip: float):
    """One optimisation step (forward, loss, backward, clipping, AdamW, EMA); returns
    (loss, named loss parts, gradient norm before clipping)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss, parts = task.loss(model, batch, generator=generator, autocast=autocast)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    ema.update(model)
    return loss, parts, grad_norm


def build_training_state(cfg: TrainingConfig, device: torch.device):
    """(network, EMA, optimiser) for ``cfg`` on ``device``, seeded by the config."""
    t = cfg.train
    torch.manual_seed(t.seed)
    bf16 = autocast_factory(device, t.bf16) is not contextlib.nullcontext
    model = prepare_network(build_network(cfg.model.arch, cfg.model.config), device, channels_last=bf16).train()
    ema = EMA(model, decay=t.ema_decay)
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, betas=t.betas, weight_decay=t.weight_decay)
    return model, ema, optimizer


def train(
    cfg: TrainingConfig,
    *,
    run_dir: str | Path,
    device: str = "auto",
    data_root: str | Path | None = None,
    max_steps: int | None = None,
    warm_start: str | Path | None = None,
    time_limit_s: float | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train ``cfg`` in ``run_dir`` until ``max_steps`` (default: the config's; a step number, counted
    across resumes and warm starts), resuming if a checkpoint is there, else optionally warm-starting
    from a portable EMA file.

    With ``time_limit_s``, training stops after the first step that ends past the limit and
    saves a checkpoint there (the next call resumes from it). SIGINT (Ctrl-C), SIGTERM and SIGHUP (SIGBREAK on Windows) do
    the same after the current step, and the result says which signal stopped it. The run folder is
    locked while it trains: a second trainer on it raises :class:`RunInUseError`.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"the run folder {run_dir} is a file: give a folder (new or holding a run) as --run-dir")
    made = [folder for folder in (run_dir, *run_dir.parents) if not folder.exists()]  # by this call
    try:
        present = set(os.listdir(run_dir)) if not made else set()
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (own-model QA: a read-only folder ended in a traceback)
        raise _unwritable_run(run_dir, exc) from None
    try:
        with run_lock(run_dir, log), _stop_after_step() as stop:
            return _train(cfg, run_dir=run_dir, device=device, data_root=data_root, max_steps=max_steps,
                          warm_start=warm_start, time_limit_s=time_limit_s, log=log, stop=stop)
    except RunInUseError:
        raise  # (the folder is another trainer's)
    except BaseException:
        _tidy_refused_run(run_dir, made, present)
        raise


def _tidy_refused_run(run_dir: Path, made: list[Path], present: set[str]) -> None:
    """A run that ended before it wrote anything of its own (a log, a checkpoint) takes back what it added
    to ``run_dir`` (its lock and config files; the folders in ``made``, ``run_dir`` and the new parents
    above it, when empty), so that no empty run is left behind to look like one to resume."""
    added = set(os.listdir(run_dir)) - present
    if not added <= {LOCK_NAME, "config.toml"}:
        return
    for name in added:
        with contextlib.suppress(OSError):
            (run_dir / name).unlink(missing_ok=True)
    for folder in made:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()  # (only when empty)


def _train(cfg: TrainingConfig, *, run_dir: Path, device, data_root, max_steps, warm_start, time_limit_s, log,
           stop: _StopRequest) -> TrainResult:
    dev = resolve_device(device)
    end_step = int(max_steps if max_steps is not None else cfg.train.max_steps)
    t = cfg.train

    model, ema, optimizer = build_training_state(cfg, dev)

    resumed = ckpt.checkpoint_path(run_dir).exists()
    start_step, warmup_from, seconds_before, samples_before, data_before = _restore(
        run_dir, cfg, model, ema, optimizer, warm_start=warm_start, device=dev, log=log)
    (run_dir / "config.toml").write_text(cfg.source, encoding="utf-8")
    portable = run_dir / ckpt.PORTABLE_NAME
    if resumed:
        _refresh_portable(run_dir, cfg, ema, start_step, seconds_before, samples_before, data_before, log=log)
    autocast = autocast_factory(dev, t.bf16)
    precision = "float32" if autocast is contextlib.nullcontext else "bf16 autocast"
    steps = (f"steps {start_step} → {end_step}" if start_step < end_step else
             f"already at step {start_step} ≥ {end_step} (the step to stop at), nothing to train")
    log(f"{cfg.kind} {cfg.name}: {cfg.model.arch}, {count_parameters(model):,} parameters, on {dev} ({precision}, "
        f"{torch.get_num_threads()} threads), {steps}")

    task = make_task(cfg, device=dev)
    opencv_for_workers(cfg.data.num_workers)
    root = Path(data_root or cfg.data.root)
    data_roots = _with_root(data_before, root)
    batches = StepBatches(
        FaceDataset(root, split=cfg.data.split, limit=cfg.data.limit), task.make_sample,
        batch_size=t.batch_size, seed=t.seed,
    )
    preview_batch = _fixed_batch(root, task, cfg, count=PREVIEW_FACES, stream=2**31 - 1)
    validation = validation_batch(root, task, cfg)
    if not any(r.split == "val" for r in read_manifest(root)):  # (verify QA: unsaid, the figures flattered)
        log(f"note: {root} has no validation faces (split \"val\"): checkpoints are validated on training faces, "
            "which flatters the figures; `prepare` holds some out once there are 3 faces or more")
    loader = torch.utils.data.DataLoader(
        batches, sampler=range(start_step, end_step), batch_size=None, num_workers=cfg.data.num_workers,
        pin_memory=dev.type == "cuda", persistent_workers=False,
        prefetch_factor=4 if cfg.data.num_workers else None, generator=loader_generator(t.seed, start_step),
        worker_init_fn=_ignore_stop_signals if cfg.data.num_workers else None,
    )
    # the compiled module shares the parameters; EMA, checkpoints and validation use the plain one
    step_model = torch.compile(model) if t.compile else model
    csv_log = CsvLog(run_dir / "losses.csv", resume_step=start_step)
    validation_log = CsvLog(run_dir / "validation.csv", resume_step=start_step)
    losses: list[torch.Tensor] = []
    tick = time.perf_counter()
    cpu_tick = time.process_time()  # CPU time of this process (all its threads), not wall time
    done = start_step
    for step, batch in zip(range(start_step, end_step), loader):
        lr = learning_rate(step, base=t.lr, warmup=t.warmup_steps, warmup_from=warmup_from,
                           milestones=t.lr_milestones, gamma=t.lr_gamma)
        loss, parts, grad_norm = train_step(step_model, ema, optimizer, task, batch, lr=lr,
                                            generator=step_generator(t.seed, step, dev), autocast=autocast,
                                            grad_clip=t.grad_clip)
        losses.append(loss.detach())
        done = step + 1
        out_of_time = time_limit_s is not None and time.perf_counter() - tick > time_limit_s
        stopping = stop.signal is not None
        if stopping:
            log(f"{stop.signal} received: saving a checkpoint at step {done} (send it again to stop without saving)")
        last = done == end_step or out_of_time or stopping
        saving = done % t.checkpoint_every == 0 or last
        if done % t.log_every == 0 or saving:  # never save weights trained on a NaN
            _check_finite(cfg, run_dir, done, loss=loss, grad_norm=grad_norm)
        if done % t.log_every == 0 or last:
            seconds = time.perf_counter() - tick
            values = {"loss": loss.detach(), **parts, "grad_norm": grad_norm, "lr": lr, "seconds": seconds}
            values = {k: float(v) for k, v in values.items()}
            csv_log.write(done, values)
            log(f"step {done}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
        if done % t.sample_every == 0 or last:
            with _keeping_rng():
                _save_preview(run_dir, done, task.preview(ema.module, preview_batch))
        if saving:
            with _keeping_rng():
                figures = {k: float(v) for k, v in task.validate(ema.module, validation, autocast=autocast).items()}
            train_seconds = seconds_before + time.process_time() - cpu_tick
            samples = samples_before + (done - start_step) * t.batch_size
            validation_log.write(done, {**figures, "samples_seen": samples, "cpu_hours": train_seconds / 3600,
                                        "val_faces": len(next(iter(validation.values())))})  # (for the card: ML QA)
            log(f"validation at step {done}: " + ", ".join(f"{k} {v:.5g}" for k, v in figures.items()))
            _save(run_dir, cfg, model, ema, optimizer, done, warmup_from, train_seconds, samples, data_roots)
        if out_of_time:
            log(f"time limit of {time_limit_s:g} s reached at step {done}")
            break
        if stopping:
            break
        if saving and stop.signal is not None:  # it came while this checkpoint was validated and saved
            log(f"{stop.signal} received: the checkpoint at step {done} is saved")
            break
    if start_step >= end_step and not portable.exists():
        _save(run_dir, cfg, model, ema, optimizer, start_step, warmup_from, seconds_before, samples_before, data_before)
    end = max(start_step, done)
    return TrainResult(run_dir, start_step, end, [float(v) for v in losses], portable,
                       stopped_by=stop.signal if stop.signal is not None and end < end_step else None)


@contextlib.contextmanager
def _keeping_rng():
    """Run the block (a preview, a validation) without moving the global RNG states that training draws from:
    a run that saves at an extra step (a time limit, Ctrl-C) then resumes exactly as if it had not."""
    state = ckpt.rng_state()
    try:
        yield
    finally:
        ckpt.restore_rng_state(state)


def _check_finite(
    cfg: TrainingConfig, run_dir: Path, step: int, *, loss: torch.Tensor, grad_norm: torch.Tensor
) -> None:
    """Raise :class:`TrainingDivergedError` if the step's loss or gradient norm is NaN or infinite
    (either makes the weights it updated worthless). Called before every save, so the checkpoint
    on disk is always of an earlier, finite step."""
    for label, value in (("loss", float(loss.detach())), ("gradient norm", float(grad_norm))):
        if not math.isfinite(value):
            raise TrainingDivergedError(
                f"{cfg.name}: the {label} is {value} at step {step}; the checkpoint of an earlier step is kept in "
                f"{run_dir}. Lower [train] lr or grad_clip and resume."
            )


def _restore(run_dir, cfg, model, ema, optimizer, *, warm_start, device, log) -> tuple[int, int, float, int, list[str]]:
    """Load the run's checkpoint, else a warm start; returns (start step, warm-up origin, CPU
    seconds of training behind the weights, samples seen, the data folders they were trained on).
    Samples are counted, not worked out from the step: a warm start may change the batch size (the
    GPU restorer's 32 after the CPU's 16)."""
    path = ckpt.checkpoint_path(run_dir)
    if path.exists():
        state = ckpt.load_checkpoint(path, map_location=device)
        if warm_start:  # the same command run again resumes (review): the file only starts a new run
            log(f"note: {run_dir} holds a checkpoint at step {int(state['step'])}, which this resumes; --warm-start "
                f"{warm_start} starts only a new run (give another --run-dir for that)")
        _compare_configs(run_dir, state, cfg, log=log)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        ckpt.restore_rng_state({k: v.cpu() for k, v in state["rng"].items()})
        log(f"resumed from {path} at step {state['step']}")
        step = int(state["step"])
        # checkpoints written before samples were counted: every step had this config's batch
        samples = int(state.get("samples_seen", step * cfg.train.batch_size))
        return (step, int(state.get("warmup_from", 0)), float(state.get("train_seconds", 0.0)), samples,
                ckpt.data_roots(state, cfg.source))
    if warm_start:
        warm_start = ckpt.run_weights_path(warm_start)
        if not warm_start.is_file():
            raise ConfigError(f"--warm-start {warm_start} does not exist: give an ema.safetensors (or the run folder "
                              "holding one, or an exported *-restorer/*-prior.safetensors)")
        weights, meta = ckpt.load_portable(Path(warm_start))
        added = _added_options(Path(warm_start), meta, cfg)
        try:  # only options the file lacks may leave layers without weights
            missing, unexpected = model.load_state_dict({k: v.float() for k, v in weights.items()},
                                                        strict=not added)
        except RuntimeError as exc:  # a shape the new options changed
            raise ConfigError(f"{warm_start} does not fit {cfg.name}'s network: {exc}") from None
        if unexpected:
            raise ConfigError(f"{warm_start} has weights that {cfg.name} lacks ({', '.join(unexpected[:3])})")
        if missing:
            new_names = set(missing)
            fresh = sum(p.numel() for name, p in model.named_parameters() if name in new_names)
            log(f"warm start grows the network ({', '.join(f'{k} = {v}' for k, v in added.items())}): "
                f"{fresh:,} new parameters start from their initialisation")
        ema.module.load_state_dict(model.state_dict())
        # a grown network's new layers have no history: its EMA warms up again, else it would lag
        # them by ~1/(1 − decay) steps (the CPU prior's grew a tail whose EMA trailed the trained
        # weights by 0.16 against 0.03 ε-MSE at t = 200, 200 steps on)
        ema.updates = 0 if missing else int(meta.get("ema_updates", 0))
        step = int(meta.get("step", 0))
        log(f"warm start from {warm_start} (EMA weights of step {step}; fresh optimiser)")
        samples = int(meta.get("samples_seen", step * cfg.train.batch_size))
        return step, step, float(meta.get("train_seconds", 0.0)), samples, ckpt.data_roots(meta, meta.get("config"))
    return 0, 0, 0.0, 0, []


def _with_root(roots: list[str], root: Path) -> list[str]:
    """``roots`` and ``root`` (the folder this run reads: --data, or its config's), once each. A run on
    your own faces, warm-started from faceapp's weights, was trained on both (own-model QA: its card
    named aaf256 alone)."""
    # by the folder's name: its path would carry the user's name into a card meant to be shared (review)
    return list(dict.fromkeys([*roots, root.resolve().name]))


#: Settings of a run that make its network: a checkpoint resumes only under a config that has them all the same.
NETWORK_KEYS = ("kind", "model.arch", "model.config")


def _flat(doc: dict, prefix: str = "") -> dict[str, object]:
    """``doc``'s values by dotted key (``train.lr``), lists for tuples."""
    flat = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return flat


def _settings(text: str, where: str) -> dict[str, object]:
    """The settings of a config's TOML ``text`` by dotted key, defaults filled in (as written when it no
    longer parses: a config of an older trainer), without its name and source."""
    try:
        doc = dataclasses.asdict(parse_config(text, where=where))
    except ConfigError:
        doc = tomllib.loads(text)
    flat = _flat(doc)
    flat.pop("name", None)
    flat.pop("source", None)
    return flat


def _compare_configs(run_dir: Path, state: dict, cfg: TrainingConfig, *, log) -> None:
    """Check ``cfg`` against the config stored in the run's checkpoint: another network (:data:`NETWORK_KEYS`) is a
    :class:`ConfigError` naming the options that differ; other changed settings (a new learning rate) are
    logged, old → new, and the checkpoint's config is kept as ``config.<step>.toml`` beside ``config.toml``."""
    text, step = state.get("config"), int(state["step"])
    if not isinstance(text, str) or text == cfg.source:
        return
    old, new = _settings(text, f"{run_dir}/checkpoint"), _settings(cfg.source, cfg.name)
    changed = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    network = [k for k in changed if any(k == n or k.startswith(n + ".") for n in NETWORK_KEYS)]

    def value(doc, key):
        return repr(doc[key]) if key in doc else "not set"

    if network:
        kind = [k for k in network if k in ("kind", "model.arch")]  # another kind of network: that alone is said
        diffs = "; ".join(f"{k} is {value(old, k)} in the run, {value(new, k)} in {cfg.name}" for k in kind or network)
        raise ConfigError(f"{run_dir} holds a checkpoint (step {step}) of another network than {cfg.name} ({diffs}): "
                          f"give a new --run-dir, or resume with the config the run was trained with")
    if not changed:
        return
    archive = run_dir / f"config.{step}.toml"
    archive.write_text(text, encoding="utf-8")
    log(f"note: {cfg.name} resumes step {step} with changed settings ("
        + ", ".join(f"{k} {value(old, k)} → {value(new, k)}" for k in changed)
        + f"); the config of the steps before is kept as {archive}")


# Per-level block counts a warm start may raise: each network's new blocks start as the identity
# (residual pairs whose last convolution is zero), appended after the ones the file holds, so the
# grown network computes exactly what the stored one did.
DEPTH_OPTIONS = {"conv_restorer": "blocks"}


def _added_options(path: Path, meta: dict, cfg: TrainingConfig, *, suggest: bool = True) -> dict:
    """Options by which ``cfg``'s network grows the one stored in ``path``: options the file lacks
    (e.g. the UNet's ``tail_channels``, whose new layers start from their own initialisation) and
    per-level block counts raised (:data:`DEPTH_OPTIONS`); {} when it is the same network. Raises
    :class:`ConfigError` for another network."""
    stored = meta.get("model_config")
    same_arch = meta.get("arch") == cfg.model.arch and isinstance(stored, dict)
    depth = DEPTH_OPTIONS.get(cfg.model.arch)
    deeper = same_arch and depth in stored and _raises_counts(stored[depth], cfg.model.config.get(depth))
    hint = "warm-start from a file written by the same configuration, or one that only adds options or blocks to it"
    if not same_arch:
        raise ConfigError(f"{path} holds a different network ({meta.get('arch')}) than {cfg.name} ({cfg.model.arch}): "
                          f"{hint}{_fitting(meta) if suggest else ''}")
    differ = [k for k, v in stored.items() if cfg.model.config.get(k) != v and not (k == depth and deeper)]
    if differ:
        options = "; ".join(f"{k} is {stored[k]!r} in the file, {cfg.model.config.get(k, 'not set')!r} in {cfg.name}"
                            for k in differ)
        raise ConfigError(f"{path} holds a different network ({meta.get('arch')} with other [model.config] options: "
                          f"{options}) than {cfg.name}: {hint}{_fitting(meta) if suggest else ''}")
    added = {k: v for k, v in cfg.model.config.items() if k not in stored}
    return {**added, depth: cfg.model.config[depth]} if deeper else added


def _fitting(meta: dict) -> str:
    """The bundled configs whose network a file with ``meta`` warm-starts, as a clause for an error ("" if none)."""
    names = []
    for path in sorted(CONFIGS_DIR.glob("*.toml")):
        try:
            other = load_config(path)
            if other.kind == meta.get("kind") and other.model.arch == meta.get("arch"):
                _added_options(Path(path), meta, other, suggest=False)
                names.append(path.stem)
        except ConfigError:
            continue
    return f" (its network fits the bundled {', '.join(names)})" if names else ""


def _raises_counts(stored, new) -> bool:
    """Whether ``new`` has as many levels as ``stored``, at least as many blocks at each, and more at one."""
    return (isinstance(stored, list) and isinstance(new, list) and len(stored) == len(new)
            and all(b >= a for a, b in zip(stored, new)) and new != stored)


def _save(run_dir: Path, cfg: TrainingConfig, model, ema, optimizer, step: int, warmup_from: int,
          train_seconds: float, samples_seen: int, data_roots: list[str]) -> None:
    """Write the run's ``ema.safetensors``, then its checkpoint: a process killed between the two leaves
    the EMA file ahead of the checkpoint, matching the validation.csv row just written; the next resume
    sees the steps differ and rewrites the EMA file from the checkpoint (:func:`_refresh_portable`)."""
    _save_portable(run_dir, cfg, ema, step, train_seconds, samples_seen, data_roots)
    ckpt.save_checkpoint(ckpt.checkpoint_path(run_dir), model=model, ema=ema, optimizer=optimizer, step=step,
                         config_text=cfg.source, extra={"warmup_from": warmup_from, "train_seconds": train_seconds,
                                                        "samples_seen": samples_seen, "data_roots": data_roots})


def _save_portable(run_dir: Path, cfg: TrainingConfig, ema, step: int, train_seconds: float, samples_seen: int,
                   data_roots: list[str]) -> None:
    ckpt.save_portable(
        run_dir / ckpt.PORTABLE_NAME,
        state_dict=ema.module.state_dict(),
        metadata={"kind": cfg.kind, "name": cfg.name, "arch": cfg.model.arch, "model_config": cfg.model.config,
                  "step": step, "ema_updates": ema.updates, "config": cfg.source,
                  "samples_seen": samples_seen, "train_seconds": round(train_seconds, 1), "data_roots": data_roots},
    )


def _refresh_portable(run_dir: Path, cfg: TrainingConfig, ema, step: int, train_seconds: float, samples_seen: int,
                      data_roots: list[str], *, log) -> None:
    """After a resume, rewrite ``ema.safetensors`` from the checkpoint when it is missing, unreadable or of
    another step (a process killed between the two writes of a save): exports and evaluations read it."""
    path = run_dir / ckpt.PORTABLE_NAME
    try:
        stored = ckpt.portable_metadata(path).get("step") if path.is_file() else None
    except FaceappError:
        stored = "an unreadable file"
    if stored == step:
        return
    _save_portable(run_dir, cfg, ema, step, train_seconds, samples_seen, data_roots)
    if stored is not None:
        was = stored if isinstance(stored, str) else f"of step {stored}"
        log(f"{path} was {was}, the checkpoint is of step {step}: rewrote it from the checkpoint")


def validation_batch(root: Path, task, cfg: TrainingConfig) -> dict[str, torch.Tensor]:
    """The faces (as ``task``'s samples) that every checkpoint of a run is validated on."""
    return _fixed_batch(root, task, cfg, count=VALIDATION_FACES, stream=VALIDATION_STREAM)


def _fixed_batch(root: Path, task, cfg: TrainingConfig, *, count: int, stream: int) -> dict[str, torch.Tensor]:
    """``count`` validation faces spread over the split (falling back to the training split), made
    into samples with draws keyed by (seed, ``stream``, face): the same batch at every checkpoint
    and resume."""
    try:
        faces = FaceDataset(root, split="val", limit=count, spread=True)
    except DatasetError:
        faces = FaceDataset(root, split=cfg.data.split, limit=count, spread=True)
    samples = [task.make_sample(faces.image(i), sample_rng(cfg.train.seed, stream, i)) for i in range(len(faces))]
    return {k: torch.stack([torch.from_numpy(s[k]) for s in samples]) for k in samples[0]}


def _save_preview(run_dir: Path, step: int, grid_rgb) -> None:
    path = run_dir / "samples" / f"step_{step:07d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid_rgb, cv2.COLOR_RGB2BGR))
