"""What a user chooses for a restoration, as one typed, validated value shared by the CLI and the GUI.

Every list of choices a front-end offers is defined here once. :class:`Preferences` is a frozen
pydantic dataclass: ``Preferences(upscale=3)`` and ``dataclasses.replace(prefs, upscale=3)`` raise
a ``ValueError`` (pydantic's ``ValidationError``) naming the field; stored strings such as ``"8"``
are converted. ``steps=None`` and ``fidelity=None`` mean the model's own ``default_steps`` and
``default_fidelity``; :meth:`Preferences.sampler` resolves them once the model is known.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from faceapp.core.refine import DEFAULT_REFINE_PASSES, MAX_REFINE_PASSES
from faceapp.core.settings import (DEFAULT_FIDELITY, MAX_BASE_SEED, MAX_POLISH_TIMESTEP, MAX_RESAMPLES, ScheduleMode,
                                   SamplerSettings)

#: The version of the stored preferences' layout (see ``faceapp.gui.settings_store``'s migrations).
PREFERENCES_VERSION = 2

#: The devices a user picks from; the CLI also takes ``cuda:N``.
DEVICES = ("auto", "cuda", "mps", "cpu")
#: Precision of the network forwards (see faceapp.core.precision; "auto" picks per device).
Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
SCHEDULES: tuple[str, ...] = get_args(ScheduleMode)
UPSCALES = (1, 2, 4)
FaceSelection = Literal["all", "largest", "center"]
FACE_SELECTIONS: tuple[str, ...] = get_args(FaceSelection)
#: Output file types; "" keeps the original's.
OutputFormat = Literal["", "png", "jpg", "webp", "tiff"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)[1:]
#: What a result keeps of its photo's metadata (:mod:`faceapp.core.sharing`).
Metadata = Literal["all", "no-location", "none"]
METADATA_KINDS: tuple[str, ...] = get_args(Metadata)
#: The window's colours: the desktop's theme, or light or dark whatever the desktop's.
Appearance = Literal["system", "light", "dark"]
#: Photo files the front-ends open (folders are searched for these).
#: The suffixes of the photos a folder gives (.jfif and .jpe: JPEGs as browsers and old Windows
#: programs name them; format QA).
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".avif", ".heic",
                            ".heif", ".hif"})

DEFAULT_MIN_FACE_SIZE = 16.0
DEFAULT_NAME_PATTERN = "{stem}_restored"
#: Most candidates per face, and most sampling steps, a run may ask for.
MAX_SEEDS = 64
MAX_STEPS = 1000
#: The device names a run may ask for.
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


#: The preferences a restore's result does not depend on: which faces are found (the faces are
#: compared themselves), what Refine does, how and where results are written, and grain matching
#: (the window switches a result's grain without restoring again: PhotoResult.with_grain).
NOT_RESTORATION = frozenset({"face_selection", "min_face_size", "include_unsure_faces", "refine_passes", "output_folder", "name_pattern",
                             "export_format", "quality", "keep_16_bits", "metadata", "auto_start", "match_grain",
                             "appearance"})


@dataclass(frozen=True, config={"extra": "forbid"})
class Preferences:
    """Everything a user sets for a run, in the CLI's options or the GUI's settings.

    model: manifest name; "" is the registry's default model. fidelity / steps: None takes the
    model's ``default_fidelity`` / ``default_steps``. seeds_per_face: candidates per face (seeds base_seed, base_seed + 1, …).
    spare_sharp_faces: faces the restorer barely changed get less diffusion (:mod:`faceapp.core.sparing`),
    at the model's own fidelity and at one the user chose alike. match_grain: each restored face
    gets the grain of the photo around it (:mod:`faceapp.core.grain`). descreen: a photo whose faces are
    printed with a halftone screen is restored with the screen smoothed out (:mod:`faceapp.core.halftone`).
    face_selection / min_face_size / include_unsure_faces: which detected faces are restored (a face
    the detector is unsure of is left off where it is sure of others, unless the last says so:
    :attr:`faceapp.core.faces.Face.unsure`). repair_resamples: RePaint
    resamplings per step where damage is painted; refine_passes: passes of the GUI's Refine. output_folder: "" writes
    beside the original; name_pattern: the output's file stem, ``{stem}`` is the original's
    (checked when a name is made: :func:`faceapp.core.export.output_file_name`). keep_16_bits: a
    16-bit photo's result is written in 16 bits where the format holds them (PNG; TIFF from a grey one).
    metadata: what a result keeps of its photo's metadata, "all", "no-location" or "none"
    (:mod:`faceapp.core.sharing`). auto_start, appearance: the window's own (restore what is dropped at
    once; its colours, :data:`Appearance`).
    """

    device: str = "auto"
    precision: Precision = "auto"
    model: str = ""
    fidelity: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] | None = None
    eta: Annotated[float, Field(ge=0.0, le=1.0)] = SamplerSettings.eta
    schedule: ScheduleMode = "fast"
    polish_timestep: Annotated[int, Field(ge=0, le=MAX_POLISH_TIMESTEP)] = 0
    spare_sharp_faces: bool = True
    match_grain: bool = True
    descreen: bool = True
    seeds_per_face: Annotated[int, Field(ge=1, le=MAX_SEEDS)] = 4
    base_seed: Annotated[int, Field(ge=0, le=MAX_BASE_SEED)] = 0
    repair_resamples: Annotated[int, Field(ge=1, le=MAX_RESAMPLES)] = 1
    refine_passes: Annotated[int, Field(ge=1, le=MAX_REFINE_PASSES)] = DEFAULT_REFINE_PASSES
    upscale: int = 1
    face_selection: FaceSelection = "all"
    include_unsure_faces: bool = False
    min_face_size: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = DEFAULT_MIN_FACE_SIZE  # (inf: security QA)
    output_folder: str = ""
    name_pattern: str = DEFAULT_NAME_PATTERN
    export_format: OutputFormat = ""
    quality: Annotated[int, Field(ge=1, le=100)] = 95
    keep_16_bits: bool = True
    metadata: Metadata = "all"
    auto_start: bool = False
    appearance: Appearance = "system"

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        value = value.lower()
        if not DEVICE_NAME.fullmatch(value):
            raise ValueError(f"must be one of {', '.join(DEVICES)} or cuda:N")
        return value

    @field_validator("upscale")
    @classmethod
    def _known_scale(cls, value: int) -> int:
        if value not in UPSCALES:
            raise ValueError(f"must be one of {', '.join(map(str, UPSCALES))}")
        return value

    def sampler(self, default_steps: int, default_fidelity: float = DEFAULT_FIDELITY) -> SamplerSettings:
        """The sampler settings of a run on a model whose own step count and fidelity are
        ``default_steps`` and ``default_fidelity``. Sharp faces are spared at any fidelity: a face
        with nothing to repair gets nothing from the prior but smearing, and moving the slider one
        notch towards "faithful" must not diffuse it (QA: a sharp face spared at 0.80 came back
        blurred and blotchy at 0.81). ``spare_sharp_faces`` off diffuses every face."""
        fidelity = default_fidelity if self.fidelity is None else self.fidelity
        return SamplerSettings(fidelity=fidelity, steps=self.steps or default_steps, eta=self.eta,
                               schedule=self.schedule, polish_timestep=self.polish_timestep,
                               spare_sharp_faces=self.spare_sharp_faces)

    def restoration(self, *, printed: bool = True) -> tuple[object, ...]:
        """What a restore's result depends on besides the photo, its faces and its damage: every
        preference but those of :data:`NOT_RESTORATION`. Equal tuples restore a photo alike.
        ``printed``: false for a photo whose faces are printed with no halftone screen, whose restore
        ``descreen`` does not change (its place holds None)."""
        return unprinted(tuple(getattr(self, name) for name in _restoration_fields()), printed=printed)

    def restoration_changes(self, made_with: tuple[object, ...], *, printed: bool = True) -> list[str]:
        """The names of the preferences whose value differs from ``made_with`` (an earlier
        :meth:`restoration`), in the order they are declared (``printed``: as :meth:`restoration`)."""
        now = self.restoration(printed=printed)
        return [name for name, value, then in zip(_restoration_fields(), now, unprinted(made_with, printed=printed))
                if value != then]

    def replace(self, **changes: object) -> Preferences:
        """A copy with ``changes`` (validated like the constructor)."""
        return dataclasses.replace(self, **changes)


def unprinted(made_with: tuple[object, ...], *, printed: bool) -> tuple[object, ...]:
    """``made_with`` (a :meth:`Preferences.restoration`) with ``descreen``'s place None unless
    ``printed``: a photo with no printed screen is restored alike with it on or off (review:
    switching Settings ▸ Halftone made every restored photo "made with other settings", and
    Restore all restored them all again, their seed picks lost)."""
    if printed:
        return made_with
    return tuple(None if name == "descreen" else value for name, value in zip(_restoration_fields(), made_with))


def _restoration_fields() -> list[str]:
    """The preferences a restore's result depends on (:meth:`Preferences.restoration`)."""
    return [f.name for f in dataclasses.fields(Preferences) if f.name not in NOT_RESTORATION]
