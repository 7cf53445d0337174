"""Export trained EMA weights as a faceapp model: fp16 safetensors, a manifest and a model card.

The result drops into a manifest folder (the repository's ``models/`` for the shipped model, or
the user's manifest folder) and loads through the registry like any other model.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from faceapp import paths
from faceapp.core.errors import ManifestError
from faceapp.core.file_digest import file_sha256
from faceapp.core.loading import save_safetensors
from faceapp.core.manifest import FidelityRange, load_manifest
from faceapp.core.registry import Registry
from faceapp.core.settings import MAX_TONES_SIGMA, is_tones_sigma
from faceapp.core.sparing import SharpFaceSparing
from faceapp.training.checkpoint import (
    PORTABLE_NAME,
    checkpoint_path,
    checkpoint_step,
    data_roots,
    load_run_weights,
    run_weights_path,
)
from faceapp.training.config import ConfigError, TrainingConfig, parse_config
from faceapp.training.csvlog import read_log

#: The bundled model, whose card is the repository's ``models/MODEL_CARD.md``; any other model's card is
#: ``<name>.md`` beside its manifest.
SHIPPED_NAME = "faceapp-compact"
MODEL_CARD_NAME = "MODEL_CARD.md"
#: A model name is a file name: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit
#: (the manifest schema's pattern).
MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
#: A network trained fewer steps than this is exported with a warning: it restores faces poorly, if at all
#: (the shipped networks trained for thousands; smoke runs for tens).
MIN_TRAINED_STEPS = 1000
DATA_NOTE = (
    "Trained on aaf256: 12,233 aligned faces of the All-Age-Faces data set (mostly East-Asian faces "
    "aged 2-80, web photos). The upstream data set has no licence file and asks users to cite its "
    "paper; treat it as research data."
)
SHIPPED_TITLE = "faceapp compact (256 px, CPU-friendly)"


@dataclass(frozen=True)
class ExportResult:
    manifest: Path
    files: tuple[Path, ...]
    model_card: Path
    warnings: tuple[str, ...] = ()  # one line each, for the user (a network trained only a few steps)


def model_card_name(name: str) -> str:
    """The file name of model ``name``'s card, beside its manifest."""
    return MODEL_CARD_NAME if name == SHIPPED_NAME else f"{name}.md"


def bundled_model_names() -> dict[str, Path]:
    """The names of the models the app bundles, each with its manifest (read by the app's registry,
    over :func:`faceapp.paths.bundled_models_dir` alone)."""
    return {m.name: m.source for m in Registry([paths.bundled_models_dir()]).list()}


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_destination(out: Path, name: str) -> None:
    """Refuse a name that is not a plain file name, an ``out`` that is a file, and the name of a bundled model
    outside the bundled folder (the registry would show the bundled one and hide the export)."""
    if not MODEL_NAME.fullmatch(name):
        raise ConfigError(f"--name {name!r} is not a model name: use lower-case letters, digits, '.', '_' and '-', "
                          "starting with a letter or digit (it names the files written into --out)")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: give the manifest folder to write the model into")
    bundled = bundled_model_names()
    if name in bundled and not _same_folder(out, bundled[name].parent):
        raise ConfigError(f"{name} is the name of a model bundled with the app ({bundled[name]}), which would hide "
                          f"this one: give the export another --name (or --out {bundled[name].parent} to replace it)")


def _run_warnings(kind: str, run: Path, meta: dict) -> list[str]:
    """Refuse a run folder whose ema.safetensors is older than its checkpoint (a save cut short: the card's curve
    would list steps the exported weights never took); warnings for one newer than its checkpoint and for a
    network trained fewer than :data:`MIN_TRAINED_STEPS` steps."""
    weights = run_weights_path(run)
    step = int(meta.get("step", 0))
    warnings = []
    folder = weights.parent if weights.name == PORTABLE_NAME else None
    checkpoint = checkpoint_path(folder) if folder is not None else None
    if checkpoint is not None and checkpoint.is_file():
        saved = checkpoint_step(checkpoint)
        if step < saved:
            raise ConfigError(f"{weights} holds the {kind}'s step {step} but {checkpoint} step {saved} (a save was cut "
                              f"short): run `python -m faceapp.training train <its config> --run-dir {folder} "
                              f"--max-steps {saved}` to rewrite it from the checkpoint (it trains nothing), then export")
        if step > saved:
            warnings.append(f"{weights} (step {step}) is newer than {checkpoint} (step {saved}): a save was cut short; "
                            f"the export takes step {step}, a resume of {folder} retrains from step {saved}")
    if step < MIN_TRAINED_STEPS:
        warnings.append(f"the {kind} ({weights}) has trained only {step:,} steps: a model this untrained restores "
                        f"faces as noise; export a run trained for thousands of steps")
    return warnings


def _validate_manifest(text: str, manifest: Path) -> None:
    """Check a manifest's ``text`` with the app's own validator (:func:`faceapp.core.manifest.load_manifest`)
    before anything is written, so that the app never skips what export wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / manifest.name
        path.write_text(text, encoding="utf-8")
        try:
            load_manifest(path)
        except ManifestError as exc:
            raise ConfigError(f"{str(exc).replace(str(path), str(manifest))} Nothing was written; change the "
                              "export's options.") from None


def export_model(
    *,
    restorer_run: str | Path,
    prior_run: str | Path,
    out_dir: str | Path,
    name: str = "faceapp-compact",
    title: str | None = None,
    default: bool = True,
    replace: bool = False,
    default_steps: int = 8,
    default_fidelity: float = 0.5,
    sharp_faces: SharpFaceSparing | None = None,
    fidelity_range: FidelityRange | None = None,
    restorer_tones: float | None = None,
    evaluation: str = "",
    notes: str = "",
) -> ExportResult:
    """Write ``<name>-restorer.safetensors``, ``<name>-prior.safetensors``, ``<name>.toml`` and the
    model card (:func:`model_card_name`: ``<name>.md``, the bundled model's ``MODEL_CARD.md``) into
    ``out_dir`` from two training runs (or their ``ema.safetensors``). The manifest is checked with the
    app's validator, the name against the bundled models', and each run's ``ema.safetensors`` against
    its checkpoint, before anything is written (:class:`ConfigError`).

    ``sharp_faces`` is the restorer's sparing ramp (:mod:`faceapp.core.sparing`), written as the
    manifest's ``[sharp_faces]``; None spares no face. ``fidelity_range`` (the ``[fidelity_range]``:
    how far towards "realistic" the evaluation found the model works) is told to users who go
    lower; None: the whole slider. ``restorer_tones`` (σ in face pixels, the ``[restorer_tones]``
    of :mod:`faceapp.core.tones`) keeps the restorer's tones in every sample; None samples as
    DifFace does. The model's face size is the prior's
    ``image_size``. The card lists each network's training (steps, samples, hours, its validation
    curve when a run folder is given), the evaluation table and ``notes`` (e.g. what was seen in the
    figures). ``title`` defaults to the bundled model's for its name, else to the name.

    A model of that name already in ``out_dir`` (the bundled one in models/, an earlier export) is
    replaced only with ``replace``: its card may hold what no export writes (:class:`ConfigError`)."""
    if title is None:
        title = SHIPPED_TITLE if name == SHIPPED_NAME else name
    if restorer_tones is not None and not is_tones_sigma(restorer_tones):
        raise ConfigError(f"the restorer tones' blur must be a number of face pixels above 0 and at most "
                          f"{MAX_TONES_SIGMA:g}, not {restorer_tones:g}")
    out = Path(out_dir)
    _check_destination(out, name)
    runs = {"restorer": Path(restorer_run), "prior": Path(prior_run)}
    loaded, warnings = {}, []
    for kind, run in runs.items():
        loaded[kind] = load_run_weights(run, kind)
        warnings += _run_warnings(kind, run, loaded[kind][1])
    restorer_cfg = parse_config(loaded["restorer"][1]["config"], where="restorer run")
    prior_cfg = parse_config(loaded["prior"][1]["config"], where="prior run")
    manifest = out / f"{name}.toml"
    card_name = model_card_name(name)
    there = [path for path in (manifest, out / card_name, *(out / f"{name}-{kind}.safetensors" for kind in runs))
             if path.exists()]
    if there and not replace:
        raise ConfigError(f"{there[0]} exists: the model {name!r} is in {out} already (the bundled one, or an earlier "
                          "export), and its card may hold what no export writes. Give another --name, or --replace to "
                          "replace its files and its card. Nothing was written.")

    by_network = {kind: data_roots(meta, meta.get("config")) for kind, (_, meta) in loaded.items()}
    roots = by_network["restorer"] + by_network["prior"]
    data = _data_note(by_network)
    aaf256, own_data = any(map(_is_aaf256, roots)), not all(map(_is_aaf256, roots))

    def manifest_text(entries) -> str:
        return _manifest_text(name, title, default, default_steps, default_fidelity, prior_cfg, entries,
                              sharp_faces, fidelity_range, restorer_tones, card_name=card_name,
                              aaf256=aaf256, own_data=own_data)

    # the files' sizes and checksums are known once written: checked as "unknown" (0, "") first
    _validate_manifest(manifest_text({kind: (meta, f"{name}-{kind}.safetensors", 0, "")
                                      for kind, (_, meta) in loaded.items()}), manifest)
    out.mkdir(parents=True, exist_ok=True)
    entries, files = {}, []
    for kind, (weights, meta) in loaded.items():
        # the run's own metadata (JSON, as in its ema.safetensors): a new machine warm-starts from the shipped file
        path = save_safetensors(weights, out / f"{name}-{kind}.safetensors",
                                metadata={k: json.dumps(v) for k, v in meta.items()})
        digest = file_sha256(path)
        entries[kind] = (meta, path.name, path.stat().st_size, digest)
        files.append(path)
    bundled = paths.bundled_models_dir()
    if default and not _same_folder(out, bundled) and any(m.is_default for m in Registry([bundled]).list()):
        warnings.append(f"{name} is marked default = true, but a model bundled with the app stays the default while "
                        f"it can be used: choose {name} with --model {name}, or in Settings ▸ Model")
    curves = {kind: _validation_rows(run) for kind, run in runs.items()}
    manifest.write_text(manifest_text(entries), encoding="utf-8")
    card = out / card_name
    card.write_text(_model_card(name, title, entries, evaluation, curves, notes,
                                training=_training_text(restorer_cfg, prior_cfg), data=data), encoding="utf-8")
    return ExportResult(manifest, tuple(files), card, tuple(warnings))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} into a manifest")


def _manifest_text(name, title, default, default_steps, default_fidelity, prior_cfg, entries, sharp_faces=None,
                   fidelity_range=None, restorer_tones=None, *, card_name=MODEL_CARD_NAME, aaf256=True,
                   own_data=False) -> str:
    """The manifest's TOML; ``entries``: (run metadata, file name, size, sha256) by network. ``aaf256``:
    trained on aaf256 (research data); ``own_data``: on other faces (their terms are the card's)."""
    d = prior_cfg.diffusion
    if name == SHIPPED_NAME:
        description = ("A small restorer and face prior trained by the faceapp project for fast restoration on a "
                       "CPU, bundled with the app (no download). Less detailed than the official DifFace model. "
                       f"Trained on research data (All-Age-Faces): see {card_name}.")
    else:
        data = " and ".join((["on research data, All-Age-Faces"] if aaf256 else [])
                            + (["on the data its card names"] if own_data else []))
        description = f"A restorer and face prior trained with faceapp's training code ({data}): see {card_name}."
    licence = ("faceapp project weights; training data is research data" if aaf256 and not own_data
               else "weights trained with faceapp; the training data's terms apply"
               + ("; part of it is research data" if aaf256 else ""))
    lines = [
        "# A faceapp model, exported by python -m faceapp.training export.",
        "schema = 1",
        f"name = {_toml_value(name)}",
        f"title = {_toml_value(title)}",
        'description = """',
        f'{description}"""',
        f'licence = "{licence} (see {card_name})"',
        'homepage = ""',
        f"face_size = {int(prior_cfg.model.config['image_size'])}",
        'face_template = "ffhq5"',
        f"default_steps = {default_steps}",
        f"default_fidelity = {float(default_fidelity)!r}",
        f"default = {_toml_value(default)}",
        "",
        "[diffusion]",
        f"timesteps = {d.timesteps}",
        f"beta_start = {d.beta_start!r}",
        f"beta_end = {d.beta_end!r}",
        f"prediction = {_toml_value(d.prediction)}",
    ]
    if sharp_faces is not None:
        lines += ["", "[sharp_faces]", f"untouched_below = {float(sharp_faces.untouched_below)!r}",
                  f"full_above = {float(sharp_faces.full_above)!r}"]
    if fidelity_range is not None:
        lines += ["", "[fidelity_range]", f"works_down_to = {float(fidelity_range.works_down_to)!r}",
                  f"below = {_toml_value(fidelity_range.below)}"]
    if restorer_tones is not None:
        lines += ["", "[restorer_tones]", f"sigma = {float(restorer_tones)!r}"]
    for kind in ("prior", "restorer"):
        meta, file_name, _, _ = entries[kind]
        lines += ["", f"[{kind}]", f"arch = {_toml_value(meta['arch'])}", f"file = {_toml_value(file_name)}",
                  "", f"[{kind}.config]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in meta["model_config"].items()]
    for kind in ("prior", "restorer"):
        _, file_name, size, digest = entries[kind]
        lines += ["", "[[files]]", f"name = {_toml_value(file_name)}", 'url = ""',
                  f"size = {size}", f"sha256 = {_toml_value(digest)}"]
    return "\n".join(lines) + "\n"


def _validation_rows(run: Path, *, most: int = 12) -> list[dict[str, float]]:
    """Up to ``most`` evenly spaced rows of a run folder's validation.csv (always the last one)."""
    path = run / "validation.csv" if run.is_dir() else None
    if path is None or not path.is_file():
        return []
    rows = read_log(path)
    if len(rows) > most:
        stride = len(rows) / most
        rows = [rows[int(i * stride)] for i in range(most - 1)] + [rows[-1]]
    return rows


ARCH_TEXT = {
    "conv_restorer": "a pixel-unshuffle convolutional U-Net (faceapp's CPU restorer)",
    "swinir": "a SwinIR transformer",
    "iddpm_unet": "the improved-diffusion UNet (learned-range variance)",
}


def _curve_table(kind: str, rows: list[dict[str, float]]) -> list[str]:
    if not rows:
        return []
    figure, label = ("val_psnr", "validation PSNR (dB)") if kind == "restorer" else ("val_mse", "validation ε-MSE")
    lines = [f"| step | samples seen | CPU hours | {label} |", "|---|---|---|---|"]
    lines += [f"| {int(r['step']):,} | {int(r.get('samples_seen', 0)):,} | {r.get('cpu_hours', r.get('train_hours', 0.0)):.2f} | "
              f"{r[figure]:.4g} |" for r in rows if figure in r]
    faces = rows[-1].get("val_faces")  # (ML QA: "16" was written in, of a split of 15; older runs' logs lack it)
    counted = f"{int(faces)} fixed validation faces" if faces else "fixed validation faces"
    return [f"{kind.capitalize()} validation curve (EMA weights, {counted}):", "", *lines, ""]


def _training_text(restorer: TrainingConfig, prior: TrainingConfig) -> str:
    """The model card's summary of how both networks were trained, read from their configurations."""
    d, p = restorer.degradation, prior.diffusion
    target = {"eps": "ε (the noise)", "v": "v (Salimans & Ho 2022)"}[p.prediction]
    flips = ", horizontal flips" if restorer.data.hflip else ""
    return (
        f"Restorer: {restorer.train.restorer_loss.upper()} on the DifFace/GFPGAN synthetic degradation (blur σ {d.blur_sigma[0]:g}-{d.blur_sigma[1]:g} "
        f"with a {d.kernel_size} px kernel, downscale {d.downscale[0]:g}-{d.downscale[1]:g}, noise "
        f"{d.noise_sigma[0]:g}-{d.noise_sigma[1]:g}, JPEG {d.jpeg_quality[0]}-{d.jpeg_quality[1]}){flips}. "
        f"Prior: predicts {target}, with learned-range variance and the hybrid loss of improved DDPM "
        f"(λ = {p.vlb_weight:g}), timesteps ≤ {p.focus_max_timestep} drawn {p.focus_prob:.0%} of the time, "
        f"EMA of the weights. The exact configurations follow."
    )


def _is_aaf256(root: str) -> bool:
    return Path(root).name == "aaf256"


def _data_note(by_network: dict[str, list[str]]) -> str:
    """The card's words on the training data: aaf256's terms, and the other folders each network's
    runs read (own-model QA: a model trained with --data on one's own faces was said to be trained on
    aaf256; verify QA: which network on which folder)."""
    roots = [root for network in by_network.values() for root in network]
    own = {kind: list(dict.fromkeys(root for root in found if not _is_aaf256(root))) for kind, found in by_network.items()}
    parts = [DATA_NOTE] if any(map(_is_aaf256, roots)) else []
    if any(own.values()):
        def folders(found: list[str]) -> str:
            return " and ".join(f"`{root}`" for root in found)

        if own["restorer"] == own["prior"]:
            where = f" on the faces in {folders(own['restorer'])}"
        else:
            where = ": " + "; ".join(f"its {kind} on the faces in {folders(found)}" for kind, found in own.items() if found)
        parts.append(f"{'Also t' if parts else 'T'}rained{where} (the runs' data folders, given with --data; the "
                     "configurations below name their own default). Say here what they are, where they come from "
                     "and under which terms.")
    return " ".join(parts)


def _model_card(name, title, entries, evaluation, curves, notes, *, training: str, data: str = DATA_NOTE) -> str:
    rows = []
    for kind in ("restorer", "prior"):
        meta, _, size, digest = entries[kind]
        hours = float(meta.get("train_seconds", 0.0)) / 3600
        rows.append(f"| {kind} | `{meta['arch']}` | {meta.get('step', 0):,} | {int(meta.get('samples_seen', 0)):,} | "
                    f"{hours:.1f} | {size / 1e6:.1f} MB | `{digest[:16]}…` |")
    restorer_arch = ARCH_TEXT.get(entries["restorer"][0]["arch"], entries["restorer"][0]["arch"])
    prior_arch = ARCH_TEXT.get(entries["prior"][0]["arch"], entries["prior"][0]["arch"])
    prior_config = entries["prior"][0].get("model_config", {})
    if prior_config.get("unshuffle", 1) > 1:
        k = prior_config["unshuffle"]
        prior_arch += f" on {k}×{k} pixel-unshuffled faces"
        if prior_config.get("tail_channels"):
            prior_arch += f" with a full-resolution tail of {prior_config['tail_channels']} channels"
    sections = [
        f"# {title} (`{name}`)",
        "",
        f"faceapp's own DifFace-style model: the restorer, {restorer_arch}, makes a first estimate of "
        f"the aligned face; the estimate is diffused to the start timestep set by the fidelity slider and "
        f"denoised by the face prior, {prior_arch}, with DDIM.",
        "",
        "| network | arch | training steps | samples seen | CPU hours | file (fp16) | sha256 |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "## Training data",
        data,
        "",
        "## Training",
        training,
    ]
    for kind in ("restorer", "prior"):
        sections += ["", f"```toml\n{entries[kind][0].get('config', '').strip()}\n```"]
    sections += ["", "CPU hours: CPU time of the training process (its threads); the data-loading worker that "
                 "degrades the faces beside it (≈ 5 % of a step for the restorer) is not counted.", "",
                 *_curve_table("restorer", curves["restorer"]), *_curve_table("prior", curves["prior"])]
    sections += [
        "## Evaluation",
        evaluation.strip() or "Not evaluated yet: run `python -m faceapp.training.evaluate --model "
        f"{name}` and paste its table here.",
        "",
    ]
    if notes.strip():
        sections += [notes.strip(), ""]
    sections += [
        "## Limitations",
        *(["- The training faces are mostly East-Asian; other groups may be restored less faithfully."]
          if DATA_NOTE in data else
          ["- Faces unlike the training faces (other ages, groups, lighting) may be restored less faithfully."]),
        "- A restored face is a plausible reconstruction, not evidence of what the person looked like.",
    ]
    return "\n".join(sections) + "\n"
