"""What ``faceapp-cli`` accepts on its command line: the parser of both commands (``restore`` here,
``models`` from :mod:`faceapp.cli_models`), how the arguments are read before parsing (``restore``
is the default command; a negative box value is a value), and the ``restore`` options as
:class:`~faceapp.core.preferences.Preferences`."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

from faceapp import __version__
from faceapp.arguments import floats, fraction, pixels, seed, within
from faceapp.core.errors import ExportError
from faceapp.core.export import FORMAT_LABELS, LOSSY_FORMATS, PNG_COMPRESS_LEVEL, WEBP_METHOD, format_for
from faceapp.core.faces import DEFAULT_DETECTOR, DETECTOR_FILES, UNSURE_CUT_FACE_SCORE, UNSURE_FACE_SCORE
from faceapp.core.preferences import (
    DEFAULT_MIN_FACE_SIZE,
    DEFAULT_NAME_PATTERN,
    FACE_SELECTIONS,
    METADATA_KINDS,
    MAX_SEEDS,
    MAX_STEPS,
    OUTPUT_FORMATS,
    PRECISIONS,
    SCHEDULES,
    UPSCALES,
    Preferences,
)
from faceapp.core.refine import MAX_REFINE_PASSES
from faceapp.core.settings import MAX_POLISH_TIMESTEP, MAX_RESAMPLES, SamplerSettings


#: The commands; the first argument that is none of them starts an implied ``restore``.
COMMANDS = ("restore", "models")
#: The commands of ``faceapp-cli models`` (:func:`faceapp.cli_models.add_models_parser`).
MODELS_COMMANDS = ("list", "download", "import", "verify", "delete")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceapp-cli", description="Restore faces in old, blurry or damaged photos (DifFace)."
    )
    parser.add_argument("--version", action="version", version=f"faceapp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_restore_parser(subparsers)
    try:
        from faceapp.cli_models import add_models_parser
    except ImportError:  # the model manager is optional at this layer
        pass
    else:
        add_models_parser(subparsers)
    return parser


def _output_format(text: str) -> str:
    """A ``--format`` value as the preferences name it (``jpeg`` → ``jpg``, ``tif`` → ``tiff``)."""
    try:
        fmt = format_for("x.png", text)
    except ExportError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return next(name for name in OUTPUT_FORMATS if format_for("x.png", name) == fmt)


class _Given(argparse.Action):
    """Store the value and remember that the option was given (``given``): an encoder option given
    for results of another format is said (:func:`unused_format_options`)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = getattr(namespace, "given", frozenset()) | {self.dest}


#: The encoder options of ``restore``: (option, the result formats it applies to) by destination.
_FORMAT_OPTIONS = {"quality": ("--quality", tuple(sorted(LOSSY_FORMATS))), "png_level": ("--png-level", ("PNG",)),
                   "webp_method": ("--webp-method", ("WEBP",))}


def unused_format_options(given: frozenset[str], formats: set[str]) -> list[str]:
    """Notes on the encoder options in ``given`` that apply to none of the result ``formats``
    (Pillow's names), which the run would otherwise take without a word (QA: --quality with PNG)."""
    made = " and ".join(sorted(FORMAT_LABELS[fmt] for fmt in formats))
    notes = []
    for dest, (option, applies_to) in _FORMAT_OPTIONS.items():
        if dest in given and formats and not formats & set(applies_to):
            notes.append(f"{option} applies to {' and '.join(FORMAT_LABELS[f] for f in applies_to)} results; "
                         f"these are {made}, so it does nothing (--format chooses the type).")
    return notes


def _add_restore_parser(subparsers) -> None:
    p = subparsers.add_parser("restore", help="restore the faces in photos or folders of photos (the command taken when "
                                         "the first argument is a photo or folder: faceapp-cli PHOTO …)")
    p.set_defaults(given=frozenset())
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="photo files or folders (in a folder, hidden files and faceapp's own results are left out), or "
                        "patterns of them the shell left as they are: * and ? (** for any depth of folders)")
    p.add_argument("-r", "--recursive", action="store_true", help="also look into sub-folders (and folders linked into them)")
    out = p.add_argument_group("output")
    out.add_argument("-o", "--output", type=Path, metavar="FOLDER", help="the folder the results go to, created if needed (default: beside each input); --pattern names the files")
    out.add_argument("--pattern", default=DEFAULT_NAME_PATTERN,
                     help="output file name without extension; {stem} and {seed} are replaced (default: %(default)s)")
    out.add_argument("--format", type=_output_format, metavar="{" + ",".join(OUTPUT_FORMATS) + "}",
                     help="output type; jpeg and tif are accepted too (default: the input's; JPEG for HEIC "
                          "photos, PNG for BMP and AVIF ones)")
    out.add_argument("--quality", type=within(1, 100), default=95, action=_Given,
                     help="JPEG/WebP quality 1…100; WebP at 100 is lossless, as is the WebP of a lossless WebP photo "
                          "(default: %(default)s)")
    out.add_argument("--8-bit", dest="eight_bit", action="store_true",
                     help="write 8 bits per channel even for a 16-bit photo (by default its result keeps 16 bits "
                          "as PNG or TIFF; as TIFF not for a grey photo with transparency)")
    out.add_argument("--metadata", choices=METADATA_KINDS, default="all",
                     help="what a result keeps of its photo's metadata: all of it (EXIF, XMP, IPTC, comments); all "
                          "but where it was taken (no-location: no GPS or place names); or none, for sharing (only "
                          "its colour profile and resolution; faceapp's record of how it was made no longer names "
                          "the photo's file, so it does not go with --skip-existing) (default: %(default)s)")
    out.add_argument("--png-level", type=within(0, 9), default=PNG_COMPRESS_LEVEL, metavar="0…9", action=_Given,
                     help="PNG compression: higher is smaller and slower (default: %(default)s)")
    out.add_argument("--webp-method", type=within(0, 6), default=WEBP_METHOD, metavar="0…6", action=_Given,
                     help="WebP encoder effort: higher is smaller and slower (default: %(default)s)")
    existing = out.add_mutually_exclusive_group()  # replacing a result and keeping it contradict each other
    existing.add_argument("--overwrite", action="store_true",
                     help="replace existing results instead of choosing a new name; an input photo is never "
                          "replaced (a pattern or folder that would do so is refused), nor any other file faceapp "
                          "did not write (the result takes a new name, and a note says so)")
    existing.add_argument("--skip-existing", action="store_true",
                     help="resume a batch: skip an input whose results (every seed's file, under the names "
                          "--pattern gives) exist already and were written by faceapp; counted as skipped")
    out.add_argument("--json", action="store_true",
                     help="print a JSON summary on stdout (UTF-8): a record per input (status, results written, "
                          "faces restored and left out for their size, a failure's error and error_kind, a batch's "
                          "photo without a face as no_face with its reason, …; inputs not reached too), the counts, the faces restored and the seconds taken; none after a usage "
                          "error, which exits with code 2 before any work")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="write only errors on stderr (for cron): no progress bar, no notes (but those explaining a "
                          "'no photos found'), no line per photo, and the closing summary only when some input was not "
                          "restored (failed, interrupted or not reached); the exit code and --json are as without it")
    model = p.add_argument_group("model and sampling")
    model.add_argument("--model", help="model name (see 'faceapp-cli models list'; default: the default model)")
    model.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: %(default)s)")
    model.add_argument("--precision", choices=PRECISIONS, default="auto",
                       help="precision of the networks: auto = bf16 on a CPU where it measures faster (timed once, "
                            "cached), fp16 on CUDA, else fp32; recorded in the provenance (default: %(default)s)")
    model.add_argument("--fidelity", type=fraction, default=None,
                       help="0 = most generative … 1 = restorer only (default: the model's own, shown by "
                            "'faceapp-cli models list'; 0.5 for the official model)")
    model.add_argument("--steps", type=within(1, MAX_STEPS), default=None,
                       help=f"sampling steps, 1…{MAX_STEPS} (default: the model's, {SamplerSettings().steps} for the "
                            "official model)")
    model.add_argument("--eta", type=fraction, default=SamplerSettings().eta, help="DDIM eta (default: %(default)s)")
    model.add_argument("--schedule", choices=SCHEDULES, default="fast", help="sampling schedule: fast (--steps steps from the start to 0) or official (the official "
                            "loop: one step per ddim250 timestep; --steps does not apply) (default: %(default)s)")
    model.add_argument("--polish", type=within(0, MAX_POLISH_TIMESTEP), default=0, metavar="T",
                       help=f"texture polish: re-noise each result to timestep T (e.g. 100; at most {MAX_POLISH_TIMESTEP}) and denoise "
                            "again; 0 = off (default)")
    model.add_argument("--spare-sharp-faces", action=argparse.BooleanOptionalAction, default=True,
                       help="a face the restorer barely changes (sharp already, or degraded in a way it leaves alone) gets "
                            "less diffusion than --fidelity asks, up to none, so the prior cannot smear it; models "
                            "without a measured ramp spare nothing; each spared face is reported (default: on)")
    model.add_argument("--match-grain", action=argparse.BooleanOptionalAction, default=True,
                       help="give each restored face the grain or noise of the photo around it, as much as it "
                            "lacks, so it does not look pasted in (not a printed screen, nor a JPEG saved below "
                            "quality 85, whose fine detail is the encoder's); "
                            "--no-match-grain leaves faces as smooth as the model makes them (default: on)")
    model.add_argument("--descreen", action=argparse.BooleanOptionalAction, default=True,
                       help="a photo printed with a halftone screen (a newspaper, magazine or book's dots), its "
                            "faces too, is restored with the screen smoothed out of it, as a scanner's descreen "
                            "does, only where the screen is; each photo so smoothed is reported; --no-descreen "
                            "restores the dots as they are (default: on)")
    model.add_argument("--seed", type=seed, default=0, help="first seed, 0 to 2147483647 (default: %(default)s)")
    model.add_argument("--seeds", type=within(1, MAX_SEEDS), default=1,
                       help=f"candidates per face, 1…{MAX_SEEDS}; one output file each (default: 1)")
    model.add_argument("--upscale", type=int, choices=UPSCALES, default=1,
                       help="enlarge the whole photo: the restored faces pasted in at the new size, the background "
                            "by Lanczos resampling, which sharpens nothing (default: 1)")
    model.add_argument("--memory-limit", metavar="SIZE",
                       help="memory a photo may need, e.g. 16G; a photo whose estimated need is larger is "
                            "refused before it is restored (from its size, upscale and format before it is "
                            "read, and again with its faces once found); 0 = no check (default: "
                            "$FACEAPP_MEMORY_LIMIT, else the memory free now)")
    faces = p.add_argument_group("faces")
    faces.add_argument("--faces", choices=FACE_SELECTIONS, default="all", help="which detected faces (default: all)")
    faces.add_argument("--unsure-faces", action="store_true",
                       help="restore the faces the detector is unsure of too (scored under "
                            f"{UNSURE_FACE_SCORE:g}, or {UNSURE_CUT_FACE_SCORE:g} for a face cut by the photo's edge: "
                            "a hand, a pattern); without it they are left out where it is sure of other faces, and a "
                            "note names them")
    faces.add_argument("--min-face-size", type=pixels, default=DEFAULT_MIN_FACE_SIZE, metavar="PX",
                       help="leave out detected faces smaller than this (the longer side of the face's box); a note "
                            "per photo counts those left out (default: %(default)g)")
    faces.add_argument("--face-box", type=floats(4), action="append", default=[], metavar="X0,Y0,X1,Y1",
                       help="restore the face in this box, one like those faceapp draws around the faces it "
                            "finds, brow to chin and cheek to cheek: the detector looks for the face within it, "
                            "and where it finds none, the box is read as such a box (repeatable; the same place "
                            "in every photo given)")
    faces.add_argument("--face-landmarks", type=floats(10), action="append", default=[], metavar="X1,Y1,…,X5,Y5",
                       help="restore the face with these eyes, nose and mouth corners (repeatable; no detection; "
                            "the same place in every photo given)")
    faces.add_argument("--aligned", action="store_true",
                       help="inputs are already aligned face crops (square, one face filling each)")
    faces.add_argument("--detector", choices=sorted(DETECTOR_FILES), default=DEFAULT_DETECTOR, help="face detector (default: %(default)s)")
    faces.add_argument("--detector-dir", type=Path, help="folder of the detector weights (default: FACEAPP_DETECTOR_DIR, else the user data "
                       "folder's detector/, else the detector bundled with faceapp)")
    faces.add_argument("--download-detector", action="store_true", help="download the detector weights if they are missing")
    repair = p.add_argument_group("damage and refinement")
    repair.add_argument("--mask", type=Path, metavar="FILE_OR_FOLDER",
                        help="damage mask, white (or strokes of any light colour) on black = damaged (scratches, tears, stains, "
                             "missing parts): the photo's size, or "
                             "the aligned face crop's; a folder holds one mask per photo, named like it (photo.png or "
                             "photo_mask.png) at its path within its input folder (2019/photo.png with --recursive); "
                             "photos without one are not repaired, and masks among the photos are not restored (beside "
                             "photo.jpg, photo.png is its mask if it is black and white and the photo is not). Faces "
                             "are filled by the face prior, the rest classically")
    repair.add_argument("--resample", type=within(1, MAX_RESAMPLES), default=1, metavar="R",
                        help="RePaint resampling when a face's damage is filled: each step is taken R times, "
                             f"re-noised in between, which blends the fill better at R times the cost (1…{MAX_RESAMPLES}; default: 1)")
    repair.add_argument("--refine", type=within(0, MAX_REFINE_PASSES), default=0, metavar="K",
                        help="run the restoration again on its own output K times at a high fidelity (IDM-style "
                             f"iterative refinement; at most {MAX_REFINE_PASSES}); the change of each pass is reported")


#: Options whose value may start with a minus (a face cut by the photo's left or top edge).
_SIGNED_VALUES = ("--face-box", "--face-landmarks")
_NUMBERS = re.compile(r"-?\d*\.?\d+(?:[eE][-+]?\d+)?(?:[,;]-?\d*\.?\d+(?:[eE][-+]?\d+)?)+")


def normalise_argv(argv: Sequence[str]) -> list[str]:
    """``restore`` is the default command (before ``--`` too); ``/?`` is ``--help``; ``--face-box -10,-5,90,100`` is taken as
    ``--face-box=-10,-5,90,100`` (argparse takes a value starting with a minus for an option), and an
    existing file ``-dash.jpg`` as ``./-dash.jpg``."""
    argv = list(argv)
    # cmd.exe's habit for help (Windows QA: "/?: no such file or folder"), where no such file is there
    argv = ["--help" if arg in _DOS_HELP and not os.path.lexists(arg) and not (i and argv[i - 1].startswith("-"))
            else arg for i, arg in enumerate(argv)]  # (not an option's value: -o /h is a folder)
    if argv and argv[0] not in COMMANDS and (argv[0] == "--" or not argv[0].startswith("-")
                                             or _file_like_an_option(argv[0])):
        argv.insert(0, "restore")  # ("-- -scan.jpg": a photo whose name starts with a minus)
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in _SIGNED_VALUES and arg.startswith("-") and _NUMBERS.fullmatch(arg):
            joined[-1] = f"{joined[-1]}={arg}"
        elif "--" not in joined and _file_like_an_option(arg):  # (a photo named "-dash.jpg": argparse took it
            joined.append(os.curdir + os.sep + arg)         # for an unknown option, and asked for INPUT)
        else:
            joined.append(arg)
    return joined


#: How Windows programs are asked for their help.
_DOS_HELP = frozenset({"/?", "/h", "/help", "-?"})


def _file_like_an_option(arg: str) -> bool:
    """Whether ``arg`` names an existing file whose name starts with a minus and has an extension
    (``-dash.jpg``; no option of faceapp-cli has a dot)."""
    return arg.startswith("-") and not arg.startswith("--") and "." in arg and os.path.lexists(arg)


def command_mistake(argv: Sequence[str]) -> str | None:
    """What is wrong with the first argument, when it is no command, option or file (it would be the
    first photo of an implied ``restore``) and reads as a command: one mistyped (``restor``,
    ``model``), one of ``models`` (``list``), or a word before photos (``detect a.jpg``: QA, it was
    said missing and the photos after it were restored, beside themselves); None otherwise."""
    first = argv[0] if argv else ""
    if (not first or first in COMMANDS or first.startswith("-") or os.path.lexists(first)
            or os.sep in first or (os.altsep and os.altsep in first) or Path(first).suffix):
        return None  # (a photo missing, restore.jpg or ./restor, is said as one: review)
    if first in MODELS_COMMANDS:
        return f"unknown command {first!r} (did you mean 'models {first}'?)"
    if close := difflib.get_close_matches(first, COMMANDS, n=1, cutoff=0.7):
        return f"unknown command {first!r} (did you mean {close[0]!r}?)"
    if len(argv) > 1:  # (alone, it is a photo or folder missing, said as such)
        return (f"{first!r} is no command ({', '.join(COMMANDS)}) and no file or folder here: nothing was restored "
                f"(a photo or folder of that name: give its path, ./{first})")
    return None


def preferences_from(args: argparse.Namespace) -> Preferences:
    """The run's preferences from the ``restore`` options (a ValueError names a bad one)."""
    return Preferences(
        device=args.device, precision=args.precision, model=args.model or "", fidelity=args.fidelity,
        steps=args.steps, eta=args.eta, schedule=args.schedule, polish_timestep=args.polish,
        spare_sharp_faces=args.spare_sharp_faces, match_grain=args.match_grain, descreen=args.descreen, seeds_per_face=args.seeds, base_seed=args.seed,
        upscale=args.upscale, face_selection=args.faces, include_unsure_faces=args.unsure_faces,
        min_face_size=args.min_face_size, output_folder=str(args.output or ""), name_pattern=args.pattern,
        export_format=args.format or "", quality=args.quality, repair_resamples=args.resample,
        keep_16_bits=not args.eight_bit, metadata=args.metadata,
    )


def inputs_named(argv: Sequence[str]) -> list[str]:
    """The photos and folders a ``faceapp-cli restore`` command line names (none if it is not one,
    or is wrong, or asks for help: what it prints is the run's to print)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = build_parser().parse_args(normalise_argv(argv))
    except SystemExit:
        return []
    return list(args.inputs) if args.command == "restore" else []
