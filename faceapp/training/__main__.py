"""python -m faceapp.training {prepare,train,export,budget,pack} — see ``--help`` of each command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faceapp.core.errors import FaceappError
from faceapp.core.termination import EXIT_INTERRUPTED, terminate_like_interrupt
from faceapp.core.wording import ended
from faceapp.arguments import above_zero, at_least, fraction, within, zero_or_more
from faceapp.training.arguments import existing_file, folder, weights_or_run


def _train(args) -> int:
    import torch

    from faceapp.core.host_memory import keep_freed_memory
    from faceapp.training.checkpoint import checkpoint_path
    from faceapp.training.config import ConfigError, load_config
    from faceapp.training.trainer import RunInUseError, train

    keep_freed_memory()  # reuse freed activation memory between steps (faceapp.core.host_memory)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    try:
        result = train(cfg, run_dir=args.run_dir, device=args.device, data_root=args.data, max_steps=args.max_steps,
                       warm_start=args.warm_start, time_limit_s=args.minutes * 60 if args.minutes else None)
    except FaceappError as exc:  # (own-model QA: after a bad face, nothing said the checkpoint was kept)
        said = ended(str(exc))
        # (not where the same command cannot go on: another trainer holds the folder, or it holds another
        # network: ML QA, the advice ran into those errors' own)
        kept = (f" {args.run_dir} keeps its last checkpoint; the same command resumes from it once this is mended."
                if checkpoint_path(args.run_dir).is_file() and not isinstance(exc, (RunInUseError, ConfigError)) else "")
        print(f"error: {said}{kept}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C (or one before training started)
        print(f"Interrupted; {args.run_dir} keeps its last checkpoint (run the same command to resume).",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.stopped_by:
        print(f"Stopped by {result.stopped_by}: step {result.end_step} saved in {checkpoint_path(args.run_dir)}; "
              "run the same command to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    target = args.max_steps or cfg.train.max_steps
    if result.start_step >= target:
        why = (f"--max-steps {target} (the step to stop at, not a number of steps to add)" if args.max_steps else
               f"the config's max_steps {target}: the run is finished")
        print(f"{cfg.name}: already at step {result.start_step} ≥ {why}; nothing to train. "
              f"EMA weights in {result.portable}")
    else:
        print(f"{cfg.name}: steps {result.start_step} → {result.end_step}; EMA weights in {result.portable}")
        if result.end_step < target:  # (--minutes ran out: ML QA, the way on was said after a Ctrl-C only)
            print(f"Step {result.end_step} of {target} is saved in {checkpoint_path(args.run_dir)}: run the same "
                  "command to go on.")
    return 0


def _export(args) -> None:
    from faceapp.core.manifest import FidelityRange
    from faceapp.core.sparing import SharpFaceSparing
    from faceapp.training.export import export_model

    evaluation = args.evaluation.read_text(encoding="utf-8") if args.evaluation else ""
    notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
    result = export_model(restorer_run=args.restorer_run, prior_run=args.prior_run, out_dir=args.out,
                          name=args.name, title=args.title, default=not args.not_default, replace=args.replace,
                          default_steps=args.default_steps, default_fidelity=args.default_fidelity,
                          sharp_faces=SharpFaceSparing(*args.sharp_faces) if args.sharp_faces else None,
                          fidelity_range=(FidelityRange(args.works_down_to[0], args.works_down_to[1])
                                          if args.works_down_to else None),
                          restorer_tones=args.restorer_tones, evaluation=evaluation, notes=notes)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
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


def _prepare(args) -> None:
    from faceapp.training.prepare import prepare_faces

    prepare_faces(args.images, args.out, align=args.align, val_fraction=args.val_fraction,
                  test_fraction=args.test_fraction, detector_dir=args.detector_dir)


def _pack(args) -> None:
    from faceapp.training.pack import pack_parts

    pack_parts(args.data, args.out, max_mib=args.max_mib, quality=args.quality, seed=args.seed,
               max_parts=args.max_parts, val_faces=args.val_faces)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m faceapp.training", description="Train faceapp's compact model.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("prepare", help="make a data folder (for train --data and evaluate --data) from your face images",
                       description="Make a data folder from a folder of face images (its sub-folders too): "
                                   "manifest.jsonl and tar shards of 256×256 FFHQ-aligned JPEGs, each face in the "
                                   "train, val or test split (drawn from a hash of its path). Images must be aligned "
                                   "square face crops of at least 256 px (resized to 256), or, with --align, photos "
                                   "whose largest face is found and cut out as the app cuts faces. Images that "
                                   "cannot be used are left out and said.")
    r.add_argument("images", type=Path, help="folder of face images (or photos, with --align)")
    r.add_argument("--out", type=folder, required=True, help="the data folder to make (new, or empty)")
    r.add_argument("--align", action="store_true",
                   help="find the largest face of each image and cut it out aligned (images that are photos, not "
                        "crops); a face that would be enlarged more than 1.25× to its 256 px crop is left out")
    r.add_argument("--val-fraction", type=fraction, default=0.05,
                   help="share of the faces held out to validate each checkpoint (default 0.05)")
    r.add_argument("--test-fraction", type=fraction, default=0.05,
                   help="share of the faces held out for evaluate (default 0.05)")
    r.add_argument("--detector-dir", type=Path, default=None,
                   help="folder of the face detector's weights (default: the bundled one); for --align")
    r.set_defaults(func=_prepare)

    t = sub.add_parser("train", help="train (or resume) one network from a config",
                       description="Train (or resume) one network. Ctrl-C, SIGTERM or SIGHUP stop it after the current "
                                   "step with a checkpoint; the same command resumes it.")
    t.add_argument("config", help="config file, or a name in faceapp/training/configs/ (e.g. prior_compact)")
    t.add_argument("--run-dir", type=folder, required=True,
                   help="run folder: checkpoints, losses.csv, samples/ (made if missing; resumed if it holds a "
                        "checkpoint)")
    t.add_argument("--data", help="data folder (manifest.jsonl + shards: 'prepare' makes one from your face images); "
                                  "default: the config's")
    t.add_argument("--max-steps", type=at_least(1),
                   help="stop at this step number (default: the config's max_steps); steps count on across resumes and "
                        "warm starts, so after a warm start from step N it must be above N")
    t.add_argument("--minutes", type=above_zero,
                   help="stop (and checkpoint) after this many minutes; default: no time limit")
    t.add_argument("--warm-start", type=weights_or_run,
                   help="an earlier run's ema.safetensors (or its run folder, or an exported *-restorer/*-prior."
                        "safetensors) to start from; only for a --run-dir without a checkpoint")
    t.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (a GPU if there is one; default auto)")
    t.add_argument("--threads", type=at_least(1), help="CPU threads for torch (default: torch's, one per core)")
    t.set_defaults(func=_train)

    e = sub.add_parser("export", help="export EMA weights as a faceapp model (fp16 + manifest + card)")
    e.add_argument("--restorer-run", type=Path, required=True,
                   help="the restorer's run folder (its ema.safetensors is exported), or an ema.safetensors file")
    e.add_argument("--prior-run", type=Path, required=True,
                   help="the prior's run folder (its ema.safetensors is exported), or an ema.safetensors file")
    e.add_argument("--out", type=folder, required=True,
                   help="manifest folder to write into, e.g. models/ (the bundled one) or your own models' folder, "
                        "where the app finds the model ('faceapp-cli models list' names that folder)")
    e.add_argument("--name", default="faceapp-compact",
                   help="the model's name: lower-case letters, digits, '.', '_' and '-' (default faceapp-compact, "
                        "the bundled model's, which only --out models may take)")
    e.add_argument("--not-default", action="store_true",
                   help="do not mark the model default = true (a model in the user's manifest folder is the default "
                        "only while the bundled one cannot be used: choose it with --model NAME or in Settings)")
    e.add_argument("--replace", action="store_true",
                   help="replace a model of this name already in --out (its weights, manifest and card); without it "
                        "the export refuses, writing nothing")
    e.add_argument("--title", help="the model's display name (default: the bundled model's for its name, else the name)")
    e.add_argument("--sampling-of", metavar="MODEL",
                   help="take the default steps and fidelity, the sparing ramp, the fidelity range and the restorer "
                        "tones from this installed model's manifest (e.g. faceapp-compact, for networks warm-started "
                        "from its weights); the options below, where given, win")
    e.add_argument("--default-steps", type=at_least(1),
                   help=f"the model's default DDIM steps (from the evaluation; default {_EXPORT_STEPS})")
    e.add_argument("--default-fidelity", type=fraction,
                   help="the fidelity a restore starts from, 0 to 1 (from the evaluation: where realism improves "
                        f"without losing the person; default {_EXPORT_FIDELITY})")
    e.add_argument("--sharp-faces", type=zero_or_more, nargs=2, metavar=("UNTOUCHED_BELOW", "FULL_ABOVE"),
                   help="the restorer's sparing ramp, in grey levels of restorer change (faceapp.core.sparing; "
                        "from evaluating both test sets; UNTOUCHED_BELOW < FULL_ABOVE); default: no face is spared")
    e.add_argument("--works-down-to", nargs=2, metavar=("FIDELITY", "BELOW"),
                   help="the lowest fidelity (0 to 1, at most --default-fidelity) the evaluation found the model works "
                        "at, and what its faces show lower down (a clause told to users who go there); default: the "
                        "whole slider")
    e.add_argument("--restorer-tones", type=float, metavar="SIGMA",
                   help="keep the restorer's tones below a Gaussian blur of SIGMA face pixels in every sample "
                        "(faceapp.core.tones; from the evaluation's --restorer-tones); default: sample as DifFace does")
    e.add_argument("--evaluation", type=existing_file, help="a file with the evaluation table for the model card")
    e.add_argument("--notes", type=existing_file,
                   help="a Markdown file added to the model card (e.g. what the figures show)")
    e.set_defaults(func=_export, check=lambda args: _check_export(e, args))

    b = sub.add_parser("budget", help="print parameters, fp16 size, FLOPs and CPU time of a config pair")
    b.add_argument("--restorer", default="restorer_cpu_deep",
                   help="the restorer's config (default restorer_cpu_deep: the shipped model's)")
    b.add_argument("--prior", default="prior_cpu", help="the prior's config (default prior_cpu: the shipped model's)")
    b.add_argument("--steps", type=at_least(1), default=6, help="DDIM steps of one restore (default 6: the shipped "
                   "model's default)")
    b.add_argument("--threads", type=at_least(1), default=2, help="CPU threads to measure on (default 2)")
    b.set_defaults(func=_budget)

    k = sub.add_parser("pack", help="pack the data set into parts small enough for one GPU job each")
    k.add_argument("--data", default="../shared/datasets/aaf256",
                   help="data folder to pack (manifest.jsonl + shards; default ../shared/datasets/aaf256)")
    k.add_argument("--out", type=folder, default=Path(".gpu/data"),
                   help="folder the parts are written into, one subfolder each (default .gpu/data)")
    k.add_argument("--max-mib", type=above_zero, default=34.0, help="the most MiB a part may hold (default 34)")
    k.add_argument("--quality", type=within(0, 100), default=0,
                   help="re-encode at this JPEG quality, 1 to 100 (default 0: keep the bytes)")
    k.add_argument("--max-parts", type=at_least(0), default=0, help="stop after this many parts (default 0: all)")
    k.add_argument("--seed", type=at_least(0), default=0, help="seed of the faces' shuffle (default 0)")
    k.add_argument("--val-faces", type=at_least(0), default=4,
                   help="validation faces in each part (checkpoints are validated on up to 16 of them; default 4)")
    k.set_defaults(func=_pack)
    return p


#: export's default steps and fidelity where neither an option nor --sampling-of gives them.
_EXPORT_STEPS, _EXPORT_FIDELITY = 8, 0.5


def _check_export(parser: argparse.ArgumentParser, args) -> None:
    """The checks of export's options that involve two values, after --sampling-of fills in those not
    given (docs QA: README's recipe for one's own faces, warm-started from the bundled networks,
    exported a model sampled at 0.5 and 8 steps with no tones nor sparing, where the same networks
    ship at 0.8 and 6 with both)."""
    if args.sampling_of:
        from faceapp.core.registry import Registry

        try:
            manifest = Registry().get(args.sampling_of)
        except Exception as exc:  # noqa: BLE001 - an unknown or unreadable model: said as a usage error
            parser.error(f"--sampling-of {args.sampling_of}: {exc}")
        if args.default_steps is None:
            args.default_steps = manifest.default_steps
        if args.default_fidelity is None:
            args.default_fidelity = manifest.default_fidelity
        if args.sharp_faces is None and manifest.sharp_faces is not None:
            args.sharp_faces = [manifest.sharp_faces.untouched_below, manifest.sharp_faces.full_above]
        if (args.works_down_to is None and manifest.fidelity_range is not None
                and manifest.fidelity_range.works_down_to <= args.default_fidelity):  # (a default set lower goes
            args.works_down_to = [str(manifest.fidelity_range.works_down_to), manifest.fidelity_range.below]  # without)
        if args.restorer_tones is None:
            args.restorer_tones = manifest.restorer_tones
    args.default_steps = _EXPORT_STEPS if args.default_steps is None else args.default_steps
    args.default_fidelity = _EXPORT_FIDELITY if args.default_fidelity is None else args.default_fidelity
    if args.sharp_faces and not args.sharp_faces[0] < args.sharp_faces[1]:
        parser.error(f"--sharp-faces: UNTOUCHED_BELOW ({args.sharp_faces[0]:g}) must be below FULL_ABOVE "
                     f"({args.sharp_faces[1]:g})")
    if args.works_down_to:
        try:
            fidelity = fraction(args.works_down_to[0])
        except argparse.ArgumentTypeError as exc:
            parser.error(f"--works-down-to: FIDELITY {exc}")
        if fidelity > args.default_fidelity:
            parser.error(f"--works-down-to: FIDELITY ({fidelity:g}) must not be above --default-fidelity "
                         f"({args.default_fidelity:g}): the default must work")
        if not args.works_down_to[1].strip():
            parser.error("--works-down-to: BELOW must say what faces show below that fidelity")
        args.works_down_to = (fidelity, args.works_down_to[1])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "check", None):
        args.check(args)
    try:
        with terminate_like_interrupt():  # SIGTERM and SIGHUP end a command as Ctrl-C does
            return args.func(args) or 0
    except FaceappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
