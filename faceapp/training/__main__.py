"""python -m faceapp.training {train,export,budget,pack} — see ``--help`` of each command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faceapp.core.errors import FaceappError


def _train(args) -> None:
    import torch

    from faceapp.core.host_memory import keep_freed_memory
    from faceapp.training.config import load_config
    from faceapp.training.trainer import train

    keep_freed_memory()  # reuse freed activation memory between steps (faceapp.core.host_memory)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    result = train(cfg, run_dir=args.run_dir, device=args.device, data_root=args.data, max_steps=args.max_steps,
                   warm_start=args.warm_start, time_limit_s=args.minutes * 60 if args.minutes else None)
    print(f"{cfg.name}: steps {result.start_step} → {result.end_step}; EMA weights in {result.portable}")


def _export(args) -> None:
    from faceapp.core.manifest import FidelityRange
    from faceapp.core.sparing import SharpFaceSparing
    from faceapp.training.export import export_model

    evaluation = args.evaluation.read_text(encoding="utf-8") if args.evaluation else ""
    notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
    result = export_model(restorer_run=args.restorer_run, prior_run=args.prior_run, out_dir=args.out,
                          name=args.name, title=args.title, default=not args.not_default,
                          default_steps=args.default_steps, default_fidelity=args.default_fidelity,
                          sharp_faces=SharpFaceSparing(*args.sharp_faces) if args.sharp_faces else None,
                          fidelity_range=(FidelityRange(float(args.works_down_to[0]), args.works_down_to[1])
                                          if args.works_down_to else None),
                          restorer_tones=args.restorer_tones, evaluation=evaluation, notes=notes)
    for path in (result.manifest, *result.files, result.model_card):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


def _budget(args) -> None:
    from faceapp.training.budget import format_budget, measure_budget
    from faceapp.training.config import load_config

    budget = measure_budget(load_config(args.restorer), load_config(args.prior), steps=args.steps,
                            threads=args.threads or 2)
    print(format_budget(budget))
    if not budget.ok:
        raise SystemExit(2)


def _pack(args) -> None:
    from faceapp.training.pack import pack_parts

    pack_parts(args.data, args.out, max_mib=args.max_mib, quality=args.quality, seed=args.seed,
               max_parts=args.max_parts, val_faces=args.val_faces)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m faceapp.training", description="Train faceapp's compact model.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train (or resume) one network from a config")
    t.add_argument("config", help="config file, or a name in faceapp/training/configs/ (e.g. prior_compact)")
    t.add_argument("--run-dir", type=Path, required=True, help="run folder: checkpoints, losses.csv, samples/")
    t.add_argument("--data", help="data folder (manifest.jsonl + shards); default: the config's")
    t.add_argument("--max-steps", type=int, help="stop at this step (default: the config's max_steps)")
    t.add_argument("--minutes", type=float, help="stop (and checkpoint) after this many minutes")
    t.add_argument("--warm-start", type=Path, help="ema.safetensors of an earlier run, when --run-dir is new")
    t.add_argument("--device", default="auto")
    t.add_argument("--threads", type=int, help="CPU threads for torch")
    t.set_defaults(func=_train)

    e = sub.add_parser("export", help="export EMA weights as a faceapp model (fp16 + manifest + card)")
    e.add_argument("--restorer-run", type=Path, required=True)
    e.add_argument("--prior-run", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True, help="manifest folder, e.g. models/")
    e.add_argument("--name", default="faceapp-compact")
    e.add_argument("--not-default", action="store_true", help="do not mark the model default = true")
    e.add_argument("--title", default="faceapp compact (256 px, CPU-friendly)", help="the model's display name")
    e.add_argument("--default-steps", type=int, default=8, help="the model's default DDIM steps (from the evaluation)")
    e.add_argument("--default-fidelity", type=float, default=0.5,
                   help="the fidelity a restore starts from (from the evaluation: where realism improves without losing the person)")
    e.add_argument("--sharp-faces", type=float, nargs=2, metavar=("UNTOUCHED_BELOW", "FULL_ABOVE"),
                   help="the restorer's sparing ramp, in grey levels of restorer change (faceapp.core.sparing; "
                        "from evaluating both test sets); default: no face is spared")
    e.add_argument("--works-down-to", nargs=2, metavar=("FIDELITY", "BELOW"),
                   help="the lowest fidelity the evaluation found the model works at, and what its faces show "
                        "lower down (a clause told to users who go there); default: the whole slider")
    e.add_argument("--restorer-tones", type=float, metavar="SIGMA",
                   help="keep the restorer's tones below a Gaussian blur of SIGMA face pixels in every sample "
                        "(faceapp.core.tones; from the evaluation's --restorer-tones); default: sample as DifFace does")
    e.add_argument("--evaluation", type=Path, help="a file with the evaluation table for the model card")
    e.add_argument("--notes", type=Path, help="a Markdown file added to the model card (e.g. what the figures show)")
    e.set_defaults(func=_export)

    b = sub.add_parser("budget", help="print parameters, fp16 size, FLOPs and CPU time of a config pair")
    b.add_argument("--restorer", default="restorer_compact")
    b.add_argument("--prior", default="prior_compact")
    b.add_argument("--steps", type=int, default=8)
    b.add_argument("--threads", type=int, default=2)
    b.set_defaults(func=_budget)

    k = sub.add_parser("pack", help="pack the data set into parts small enough for one GPU job each")
    k.add_argument("--data", default="../shared/datasets/aaf256")
    k.add_argument("--out", type=Path, default=Path(".gpu/data"))
    k.add_argument("--max-mib", type=float, default=34.0)
    k.add_argument("--quality", type=int, default=0, help="re-encode at this JPEG quality (0: keep the bytes)")
    k.add_argument("--max-parts", type=int, default=0)
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--val-faces", type=int, default=4,
                   help="validation faces in each part (checkpoints are validated on up to 16 of them)")
    k.set_defaults(func=_pack)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except FaceappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
