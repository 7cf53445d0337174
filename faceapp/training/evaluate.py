"""Evaluate a restoration model on the test split with a fixed, seeded degradation.

    python -m faceapp.training.evaluate --model faceapp-compact          # a registry model
    python -m faceapp.training.evaluate --restorer-run runs/r --prior-run runs/p   # training runs

Prints PSNR, SSIM, the Laplacian-pyramid SWD (realism, no pretrained network; its mean and each
level's, finest first: noise-like grain shows in the finest level, missing texture in the next) and the identity
distance (dlib's face-recognition embedding, with the ``[eval]`` extra) for: bicubic upsampling
of the degraded face, the restorer alone, and the full pipeline at several fidelities and step
counts (and, with ``--refine K``, the model's default setting followed by 1…K refinement passes,
as the GUI's Refine face and the CLI's ``--refine`` run them); saves a side-by-side grid (rows:
faces; columns: degraded, each method, truth); and says which fidelity and step count to ship as
the model's defaults (:func:`choose_defaults`).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from faceapp.core import schedule
from faceapp.core.engine import FaceEngine, load_engine
from faceapp.core.errors import FaceappError
from faceapp.core.preferences import MAX_STEPS, PRECISIONS
from faceapp.core.refine import MAX_REFINE_PASSES, refine_sampler
from faceapp.core.settings import MAX_TONES_SIGMA, SamplerSettings, is_tones_sigma
from faceapp.arguments import at_least, fraction, within
from faceapp.training.arguments import image_path
from faceapp.training.checkpoint import load_run_network
from faceapp.training.config import DegradationConfig, load_config, parse_config
from faceapp.training.data import FaceDataset
from faceapp.training.degradation import degrade, sample_rng
from faceapp.training.identity import IdentityEmbedder, IdentityUnavailableError
from faceapp.training.metrics import psnr, ssim
from faceapp.training.swd import swd

EVAL_SIZE = 256  # metrics are computed on the data set's 256 px faces


@dataclass(frozen=True)
class Method:
    label: str
    sampler: SamplerSettings | None  # None: the degraded input itself (bicubic upsampling)
    refine: int = 0  # refinement passes after the restoration (faceapp.core.refine)


@dataclass(frozen=True)
class Row:
    label: str
    psnr: float
    ssim: float
    swd: float
    seconds_per_face: float
    identity: float | None = None  # mean dlib embedding distance to the truth (None: dlib not installed)
    swd_levels: tuple[float, ...] = ()  # the SWD of each pyramid level, finest first (its mean is ``swd``)


def default_methods(*, fidelities=(0.25, 0.5, 0.75), step_counts=(4, 8), eta: float = 0.5) -> list[Method]:
    methods = [Method("bicubic", None), Method("restorer only", SamplerSettings(fidelity=1.0, eta=eta))]
    for steps in step_counts:
        for fidelity in fidelities:
            methods.append(Method(f"fidelity {fidelity:g}, {steps} step{'s' * (steps != 1)}", SamplerSettings(fidelity=fidelity, steps=steps, eta=eta)))
    return methods


def refine_methods(fidelity: float, steps: int, passes: int, *, eta: float = 0.5) -> list[Method]:
    """The restoration at ``fidelity`` with ``steps`` followed by 1…``passes`` refinement passes."""
    sampler = SamplerSettings(fidelity=fidelity, steps=steps, eta=eta)
    return [Method(f"{fidelity:g}, {steps} steps, refined ×{k}", sampler, refine=k) for k in range(1, passes + 1)]


def spared_method(fidelity: float, steps: int, *, eta: float = 0.5) -> Method:
    """The restoration at ``fidelity`` with ``steps``, sharp faces spared on the model's ramp
    (:mod:`faceapp.core.sparing`), as the front-ends run the model's default."""
    return Method(f"{fidelity:g}, {steps} steps, sparing", SamplerSettings(fidelity=fidelity, steps=steps, eta=eta,
                                                                           spare_sharp_faces=True))


def degraded_test_set(root, *, limit: int, seed: int, degradation: DegradationConfig | None):
    """(truth, degraded) uint8 RGB faces of the test split, ``limit`` of them spread over the split;
    face i is degraded with (seed, i). ``degradation`` None: the faces as they are (faces that need
    no repair, to see what a restoration does to them)."""
    faces = FaceDataset(root, split="test", limit=limit, spread=True)
    truth = [faces.image(i) for i in range(len(faces))]
    if degradation is None:
        return truth, [im.copy() for im in truth]
    return truth, [degrade(im, degradation, sample_rng(seed, i)) for i, im in enumerate(truth)]


def run_method(engine: FaceEngine | None, method: Method, degraded: list[np.ndarray], *, seed: int) -> list[np.ndarray]:
    if method.sampler is None:
        return list(degraded)
    outputs = []
    for face in degraded:
        out = engine.restore(face, sampler=method.sampler, seeds=[seed])[0]
        for _ in range(method.refine):  # as photo_restore.iter_refine_face: the same seed, a high fidelity
            out = engine.restore(out, sampler=refine_sampler(method.sampler), seeds=[seed])[0]
        if out.shape[0] != EVAL_SIZE:
            out = cv2.resize(out, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
        outputs.append(out)
    return outputs


def evaluate(engine, truth, degraded, methods: list[Method], *, seed: int = 0, log=print, identity=None):
    """Score every method (identity distance too when ``identity`` is an IdentityEmbedder);
    returns (rows, outputs per method)."""
    rows, outputs = [], []
    for method in methods:
        started = time.perf_counter()
        out = run_method(engine, method, degraded, seed=seed)
        seconds = (time.perf_counter() - started) / len(degraded)
        realism = swd(out, truth, seed=seed)
        row = Row(
            method.label,
            float(np.mean([psnr(o, t) for o, t in zip(out, truth)])),
            float(np.mean([ssim(o, t) for o, t in zip(out, truth)])),
            realism.mean,
            seconds,
            float(np.mean(identity.distances(out, truth))) if identity is not None else None,
            realism.per_level,
        )
        log(format_row(row))
        rows.append(row)
        outputs.append(out)
    return rows, outputs


def precision_agreement(methods: list[Method], first: list[list[np.ndarray]], other: list[list[np.ndarray]],
                        first_name: str, other_name: str) -> str:
    """How far apart two precisions' outputs of the same faces and seeds are, per method that runs
    a network: mean and lowest PSNR between them (inf where identical)."""
    lines = [f"{other_name} against {first_name}, the same faces and seeds (PSNR between the two outputs):"]
    for method, ours, theirs in zip(methods, first, other):
        if method.sampler is None:
            continue  # (bicubic: no network)
        apart = [psnr(a, b) for a, b in zip(ours, theirs)]
        lines.append(f"  {method.label}: {np.mean(apart):.1f} dB, lowest {min(apart):.1f} dB")
    return "\n".join(lines)


#: ``--degradation`` value that scores the test faces undegraded.
NO_DEGRADATION = "none"

#: A default may cost at most this much PSNR against the restorer alone (issue 9's bar).
MAX_PSNR_LOSS_DB = 1.0
#: SWDs within this fraction of the best count as equal: then fewer steps, then the higher fidelity.
SWD_TIE = 0.02


@dataclass(frozen=True)
class Defaults:
    fidelity: float
    steps: int
    reason: str


def choose_defaults(methods: list[Method], rows: list[Row], *,
                    max_psnr_loss: float = MAX_PSNR_LOSS_DB) -> Defaults | None:
    """The model's default fidelity and step count from its evaluation (None when no setting of the
    pipeline under fidelity 1 was evaluated: nothing to choose from).

    Among the pipeline's settings that lose at most ``max_psnr_loss`` dB PSNR against the restorer
    alone, the most realistic (lowest SWD); near-ties (within :data:`SWD_TIE`) go to fewer steps,
    then to the higher fidelity. When none is more realistic than the restorer alone, the prior
    does not pay at any evaluated setting: fidelity 1, the restorer alone, is chosen (with the fewest
    steps evaluated, which sparing and Diffuse anyway use), and the reason says so (own-model QA: a
    setting worse than the restorer on both counts, 6 dB and 60 % more SWD, was advised).
    """
    by_label = {row.label: row for row in rows}
    # refinement is not a default, and sparing is judged at the defaults, not a candidate for them
    sampled = [m for m in methods if m.sampler is not None and not m.refine and not m.sampler.spare_sharp_faces]
    restorer = next(by_label[m.label] for m in sampled if m.sampler.fidelity >= 1.0)
    pipeline = [(m.sampler, by_label[m.label]) for m in sampled if m.sampler.fidelity < 1.0 and m.label in by_label]
    if not pipeline:
        return None
    kept = [(s, r) for s, r in pipeline if r.psnr >= restorer.psnr - max_psnr_loss and r.swd < restorer.swd]
    if not kept:
        sampler, row = max(pipeline, key=lambda p: (p[0].fidelity, -p[0].steps))
        return Defaults(1.0, min(s.steps for s, _ in pipeline),
                        f"no setting is more realistic than the restorer alone within {max_psnr_loss:g} dB, so the "
                        f"prior does not pay yet: the restorer alone (PSNR {restorer.psnr:.2f} dB, SWD "
                        f"{restorer.swd:.1f}; the most faithful setting evaluated, fidelity {sampler.fidelity:g}: "
                        f"{row.psnr:.2f} dB, SWD {row.swd:.1f})")
    best = min(r.swd for _, r in kept)
    near = [(s, r) for s, r in kept if r.swd <= best * (1 + SWD_TIE)]
    sampler, row = min(near, key=lambda p: (p[0].steps, -p[0].fidelity))
    return Defaults(sampler.fidelity, sampler.steps,
                    f"the most realistic setting within {max_psnr_loss:g} dB of the restorer alone: SWD "
                    f"{row.swd:.1f} vs {restorer.swd:.1f} ({1 - row.swd / restorer.swd:.0%} lower), PSNR "
                    f"{row.psnr:.2f} vs {restorer.psnr:.2f} dB")


#: Width of the per-level SWD column: five levels of a 256 px face, up to 4 digits each.
LEVELS_WIDTH = 24


def format_header() -> str:
    return (f"| {'method':28s} | {'PSNR dB':>7s} | {'SSIM':>6s} | {'SWD×10³':>8s} | {'SWD per level, fine → coarse':{LEVELS_WIDTH}s} "
            f"| {'ID dist':>7s} | {'s/face':>7s} |\n"
            f"|{'-' * 30}|{'-' * 9}|{'-' * 8}|{'-' * 10}|{'-' * (LEVELS_WIDTH + 2)}|{'-' * 9}|{'-' * 9}|")


def format_row(row: Row) -> str:
    identity = f"{row.identity:7.3f}" if row.identity is not None else f"{'n/a':>7s}"
    levels = " / ".join(f"{v:.0f}" for v in row.swd_levels)
    return (f"| {row.label:28s} | {row.psnr:7.2f} | {row.ssim:6.3f} | {row.swd:8.1f} | {levels:{LEVELS_WIDTH}s} | {identity} | "
            f"{row.seconds_per_face:7.2f} |")


def save_grid(path: Path, truth, degraded, outputs, *, faces: int = 4, tile: int = 128) -> Path:
    """Rows: the first ``faces`` faces; columns: degraded, each method's output, ground truth."""
    def small(im):
        return cv2.resize(im, (tile, tile), interpolation=cv2.INTER_AREA)

    rows = [np.concatenate([small(degraded[i]), *(small(o[i]) for o in outputs[1:]), small(truth[i])], axis=1)
            for i in range(min(faces, len(truth)))]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return path


def engine_from_runs(restorer_run: Path, prior_run: Path, *, device: str = "auto", precision: str = "auto") -> FaceEngine:
    """A FaceEngine over the EMA weights of two training runs (or their ema.safetensors), loaded strictly."""
    nets, prior_cfg = {}, None
    for kind, run in (("restorer", Path(restorer_run)), ("prior", Path(prior_run))):
        nets[kind], meta = load_run_network(run, kind)
        if kind == "prior":
            prior_cfg = parse_config(meta["config"], where=str(run))
    d = prior_cfg.diffusion
    return FaceEngine.from_networks(
        nets["restorer"], nets["prior"], face_size=EVAL_SIZE, template="ffhq5", name="training runs",
        device=device, betas=schedule.linear_betas(d.timesteps, d.beta_start, d.beta_end), precision=precision,
        prediction=d.prediction,
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m faceapp.training.evaluate", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="name of a model in the registry (its weights must be installed)")
    src.add_argument("--restorer-run", type=Path, help="training run folder (or ema.safetensors) of the restorer")
    p.add_argument("--prior-run", type=Path, help="training run folder (or ema.safetensors) of the prior")
    p.add_argument("--data", default="../shared/datasets/aaf256",
                   help="data folder (manifest.jsonl + shards; 'python -m faceapp.training prepare' makes one from your "
                        "face images); its test split is scored")
    p.add_argument("--limit", type=at_least(1), default=24, help="number of test faces (default 24)")
    p.add_argument("--seed", type=int, default=0, help="seed of the degradation and the sampler")
    p.add_argument("--degradation", default="restorer_compact",
                   help=f"config whose [degradation] is used, or '{NO_DEGRADATION}': the test faces as they are, "
                        "to see what a restoration does to a face that needs no repair")
    p.add_argument("--fidelity", type=fraction, nargs="+", default=[0.25, 0.5, 0.75],
                   help="fidelities (0 to 1) to score the pipeline at, each with every --steps (default 0.25 0.5 0.75)")
    p.add_argument("--steps", type=within(1, MAX_STEPS), nargs="+", default=[4, 8],
                   help="DDIM step counts, 1 to 1000 (default 4 8)")
    p.add_argument("--eta", type=fraction, default=0.5,
                   help="DDIM stochasticity, 0 (deterministic) to 1 (fresh noise each step; default 0.5)")
    p.add_argument("--refine", type=int, default=0, metavar="K", choices=range(MAX_REFINE_PASSES + 1),
                   help=f"also score the model's default setting followed by 1…K refinement passes (K ≤ "
                        f"{MAX_REFINE_PASSES}; default 0)")
    p.add_argument("--spared", action="store_true",
                   help="also score the model's default setting with sharp faces spared, as the front-ends run it "
                        "(needs a model whose manifest has [sharp_faces])")
    p.add_argument("--restorer-tones", type=float, metavar="SIGMA",
                   help="keep the restorer's tones below a blur of SIGMA face pixels in every sample "
                        "(faceapp.core.tones; 0: off); default: as the model's manifest says")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (a GPU if there is one; default auto)")
    p.add_argument("--precision", nargs="+", default=["auto"], choices=PRECISIONS,
                   help="network precision(s); with several, every method is scored in each, and its outputs "
                        "compared with the first precision's (PSNR between them; e.g. fp32 bf16)")
    p.add_argument("--no-identity", action="store_true", help="skip the identity distance (needs the [eval] extra)")
    p.add_argument("--grid", type=image_path, default=Path("runs/eval_grid.png"),
                   help="image file (.png, .jpg) to save the grid of faces to (default runs/eval_grid.png, under the "
                        "current folder)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not args.model and args.prior_run is None:
            raise FaceappError("--restorer-run needs --prior-run as well")

        def load(precision: str) -> FaceEngine:
            if args.model:
                engine = load_engine(args.model, device=args.device, precision=precision)
            else:
                engine = engine_from_runs(args.restorer_run, args.prior_run, device=args.device, precision=precision)
            if args.restorer_tones is not None:  # 0: off, as DifFace samples
                engine.restorer_tones = args.restorer_tones or None
            return engine

        if args.restorer_tones is not None and not (args.restorer_tones == 0 or is_tones_sigma(args.restorer_tones)):
            raise FaceappError(f"--restorer-tones must be 0 (off) or a blur in face pixels, above 0 and at most "
                               f"{MAX_TONES_SIGMA:g}, not {args.restorer_tones:g}")
        first = load(args.precision[0])  # weights that do not fit fail here, before the data is read
        if args.spared and first.sharp_faces is None:
            raise FaceappError(f"{first.model_name} spares no face: its manifest has no [sharp_faces] ramp")
        undegraded = args.degradation == NO_DEGRADATION
        truth, degraded = degraded_test_set(
            args.data, limit=args.limit, seed=args.seed,
            degradation=None if undegraded else load_config(args.degradation).degradation,
        )
        identity = None
        if not args.no_identity:
            try:
                identity = IdentityEmbedder()
            except IdentityUnavailableError as exc:
                print(f"note: no identity distance ({exc})", file=sys.stderr)
        methods = default_methods(fidelities=args.fidelity, step_counts=args.steps, eta=args.eta)
        if undegraded:
            methods[0] = Method("input (undegraded)", None)
        methods += refine_methods(first.default_fidelity, first.default_steps, args.refine, eta=args.eta)
        if args.spared:
            methods.append(spared_method(first.default_fidelity, first.default_steps, eta=args.eta))
        outputs = None
        for i, precision in enumerate(args.precision):
            engine = first if i == 0 else load(precision)
            how = "undegraded" if undegraded else f"degradation seed {args.seed}"
            tones = f"restorer tones σ {engine.restorer_tones:g}" if engine.restorer_tones else "no restorer tones"
            print(f"{engine.model_name} in {engine.precision}, {tones}: {len(truth)} test faces, {how}")
            print(format_header())
            rows, scored = evaluate(engine, truth, degraded, methods, seed=args.seed, identity=identity)
            if outputs is not None:  # the same seeds in another precision: how far apart (issue 10: ≥ 40 dB)
                print(precision_agreement(methods, outputs, scored, args.precision[0], precision))
            if not undegraded:  # defaults are chosen on faces that need repair
                chosen = choose_defaults(methods, rows)
                if chosen is None:  # (reproducibility QA: a traceback, and no grid)
                    print("defaults to ship: none chosen (only the restorer alone, fidelity 1, was evaluated; "
                          "give --fidelity under 1 to choose them)")
                else:
                    print(f"defaults to ship: fidelity {chosen.fidelity:g}, {chosen.steps} steps ({chosen.reason}); "
                          f"export with --default-fidelity {chosen.fidelity:g} --default-steps {chosen.steps}")
            outputs = outputs or scored  # the grid shows the first precision
            first = engine = None  # free this precision's networks before the next one loads
        columns = " | ".join(["input" if undegraded else "degraded", *(m.label for m in methods[1:]), "ground truth"])
        print(f"grid: {save_grid(args.grid, truth, degraded, outputs)} (columns: {columns})")
    except FaceappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
