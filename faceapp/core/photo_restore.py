"""Whole-photo restoration: align every face, restore it with the engine, paste it back.

:func:`iter_restore_photo` is a generator: it yields :class:`Progress` (one at the start of each
face, then one per sampling step), then a str naming each stage after the faces that takes time
(repairing the damage, enlarging the photo; and the printed screen's before them), and returns a :class:`PhotoResult`; drive it with
``result = yield from iter_restore_photo(...)`` or :func:`restore_photo`; more candidates of one
face come the same way from :func:`iter_add_candidates` or :func:`add_candidates`. It restores the
faces it is given that are ``enabled``;
``face_index`` everywhere in this module is the position in ``PhotoResult.faces`` (and in the list
of enabled faces passed in), not :attr:`Face.index`. Which faces to pass is
:func:`faceapp.core.application.find_faces`'s concern.

A ``damage`` mask (HxW uint8, 255 = damaged; :mod:`faceapp.core.damage`) repairs the photo too:
the background's damaged pixels are filled classically, and a face with damaged pixels is first
repaired with the face prior (:mod:`faceapp.core.face_repair`), each seed its own fill, then
restored. A photo printed with a halftone screen, its faces too, is restored from the photo with the
screen smoothed out (:mod:`faceapp.core.halftone`; ``PhotoResult.photo`` is that photo; the stages
"looking for a printed screen", for a large photo, and "smoothing out the printed screen" are
yielded before the faces). :func:`iter_refine_face` feeds a face's chosen candidate back through the restoration
(:mod:`faceapp.core.refine`); each pass becomes a candidate. :func:`iter_resample_face` samples one
face's seeds again with sharp-face sparing switched off for it (:attr:`Face.diffuse_anyway`) or back on.

A black-and-white photo (:attr:`Photo.greyscale`) stays so: the models answer in colour, so every
candidate, live preview and composite of one is made neutral grey (:mod:`faceapp.core.greyscale`).

The engine's own generator (:meth:`FaceEngine.iter_restore`) is driven directly, on the caller's
thread; a ``should_cancel`` that returns True stops it between steps and raises
:class:`Cancelled`, and closing the generator stops it there too (nothing is kept).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import dataclasses
import logging
import math
import threading
import weakref

import cv2
import numpy as np
from numpy.typing import DTypeLike

from faceapp import __version__
from faceapp.core.damage import check_mask, fill_damage, mask_summary, mask_to_crop
from faceapp.core.engine import PreparedFace
from faceapp.core.errors import Cancelled, FaceGeometryError
from faceapp.core.face_levels import FaceLevels
from faceapp.core.face_repair import iter_restore_damaged_face
from faceapp.core.faces import Face, align_face
from faceapp.core.geometry import check_face_in_photo, check_photo_size
from faceapp.core.grain import Grain, add_grain, face_grains, grain_fill, grain_survives
from faceapp.core.greyscale import grey_copy, make_grey
from faceapp.core.halftone import Screen, descreen, find_screen
from faceapp.core.paste import (
    FaceMask,
    KeptDetail,
    kept_change_sigma,
    blend_faces,
    face_mask,
    face_regions,
    normalised_weights,
    output_to_crop,
    put_face_regions,
    soft_hole,
)
from faceapp.core.photo_io import Photo
from faceapp.core.progress import drive, relay
from faceapp.core.refine import RefinePass, check_passes, iter_refine_steps, pass_change, refine_sampler
from faceapp.core.settings import MAX_RESAMPLES, SamplerSettings
from faceapp.core.upscale import SCALES, upscale_image

log = logging.getLogger(__name__)

#: How 8 bits rounded from 16 stand for them: v16 = 257·v8 (:meth:`PhotoResult.composite_over`).
ROUNDED_DEPTH = (257.0, 0.0)


class Engine(Protocol):
    """What the pipeline needs from :class:`faceapp.core.engine.FaceEngine`."""

    face_size: int
    template: np.ndarray
    model_name: str

    def prepare(self, face: np.ndarray, sampler: SamplerSettings) -> PreparedFace: ...

    def iter_sample(self, prepared: PreparedFace, *, seeds: Sequence[int],
                    should_cancel=None) -> Generator[Any, None, list[np.ndarray]]: ...

    def iter_restore(self, face: np.ndarray, *, sampler: SamplerSettings, seeds: Sequence[int],
                     should_cancel=None) -> Generator[Any, None, list[np.ndarray]]: ...


@dataclass(frozen=True)
class PhotoSettings:
    """How a whole photo is restored.

    seeds_per_face: candidates per face (seeds base_seed, base_seed + 1, …). upscale: 1, 2 or 4.
    aligned: the photo is already an aligned face crop: it is restored whole and no mask is
    applied. match_grain: each pasted face gets the grain of the photo around it
    (:mod:`faceapp.core.grain`; not an aligned crop, which has nothing around its face).
    precision: the engine's inference precision, recorded in the provenance.
    repair_resamples: RePaint resamplings per step when damaged faces are repaired (1 = none).
    descreen: a printed halftone screen that the faces are printed with is smoothed out of the
    photo before they are restored (:mod:`faceapp.core.halftone`). face_selection, min_face_size,
    unsure_faces: how the faces were chosen (the preferences' face selection, recorded in the
    provenance so a resumed batch can tell a result of other faces; None: not by a setting).
    """

    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    seeds_per_face: int = 1
    base_seed: int = 0
    upscale: int = 1
    aligned: bool = False
    precision: str = "auto"
    repair_resamples: int = 1
    match_grain: bool = True
    descreen: bool = True
    face_selection: str | None = None
    min_face_size: float | None = None
    unsure_faces: bool | None = None

    def __post_init__(self) -> None:
        if self.seeds_per_face < 1:
            raise ValueError(f"seeds_per_face must be at least 1, got {self.seeds_per_face}")
        if self.upscale not in SCALES:
            raise ValueError(f"upscale must be one of {SCALES}, got {self.upscale}")
        if not 1 <= self.repair_resamples <= MAX_RESAMPLES:
            raise ValueError(f"repair_resamples must be within [1, {MAX_RESAMPLES}], got {self.repair_resamples}")


@dataclass(frozen=True)
class Progress:
    """step 0 announces face ``face_index`` (of ``face_count``); then step = 1…total_steps."""

    face_index: int
    face_count: int
    step: int
    total_steps: int
    preview: np.ndarray | None = None


def _frozen(image: np.ndarray) -> np.ndarray:
    """``image`` made read-only: results are values, nobody writes into their pixels."""
    image.setflags(write=False)
    return image


@dataclass(frozen=True)
class Refinement:
    """Candidate ``candidate`` of a face is refinement pass ``index`` of candidate ``source``; it
    differs from the previous pass (or from the source, for pass 1) by ``change`` (RMS grey levels)."""

    candidate: int
    source: int
    index: int
    change: float


@dataclass(frozen=True, eq=False)
class FaceResult:
    """One face's crop, its photo→crop affine, and the restored candidates (one per seed, plus the
    refinement passes in ``refinements``). ``damage``: the crop's damage mask, None when undamaged.
    ``fidelity``: what the seeds were sampled at (the run's, or higher where sharp-face sparing
    spared the face); ``restorer_change``: how much the restorer changed the crop (grey levels RMS;
    :mod:`faceapp.core.sparing`). Both None where unknown."""

    face: Face
    aligned: np.ndarray
    affine: np.ndarray
    seeds: tuple[int, ...]
    candidates: tuple[np.ndarray, ...]
    chosen: int = 0
    damage: np.ndarray | None = None
    refinements: tuple[Refinement, ...] = ()
    fidelity: float | None = None
    restorer_change: float | None = None
    #: sharp by its model's ramp and sampled by no prior step (polish included): pasted as the
    #: restorer's change, keeping the photo's detail (:meth:`PhotoResult.keeps_detail`)
    detail_kept: bool = False

    @property
    def keeps_detail(self) -> bool:
        """Whether the candidate shown is pasted as the restorer's change, keeping the photo's own
        fine detail: :attr:`detail_kept`, and no refinement pass made it (a pass is the prior's)."""
        return self.detail_kept and not self.refinement_of(self.chosen)

    def refinement_of(self, candidate: int) -> list[Refinement]:
        """The passes that led to ``candidate``, first to last (empty for a sampled candidate)."""
        chain = []
        records = {r.candidate: r for r in self.refinements}
        while candidate in records:
            chain.append(records[candidate])
            candidate = records[candidate].source
        return chain[::-1]

    def sampled_from(self, candidate: int) -> int:
        """The sampled candidate that ``candidate`` is, or that the refinement passes leading to it started from."""
        passes = self.refinement_of(candidate)
        return passes[0].source if passes else candidate

    def refinement_distance(self, candidate: int) -> float | None:
        """How far the refinement passes that led to ``candidate`` moved the face in all: the RMS
        difference in grey levels from the candidate they started from (None for a sampled candidate)."""
        source = self.sampled_from(candidate)
        return None if source == candidate else pass_change(self.candidates[source], self.candidates[candidate])

    def seeds_alike(self) -> bool:
        """Whether every seed gave the same face (refinement passes aside): e.g. a face kept as the
        restorer made it, with no damage that each seed fills its own way."""
        passes = {r.candidate for r in self.refinements}
        sampled = [c for i, c in enumerate(self.candidates) if i not in passes]
        return all(np.array_equal(c, sampled[0]) for c in sampled[1:])

    @property
    def restored(self) -> np.ndarray:
        return self.candidates[self.chosen]


class _Blend(NamedTuple):
    """What compositing reuses: the masks, their normalised weights, the plain background under them."""

    masks: list[FaceMask]
    weights: list[np.ndarray]
    plain: list[np.ndarray]


class _RunCache:
    """What every version of one run's result shares: the blend state and the latest composite
    (keyed by the candidate images it shows, not their indices: versions that grew different
    candidates at the same index, such as each seed refined on its own, show different pictures;
    choosing back and forth, or saving what is shown, costs nothing; and by whether grain is
    matched: :meth:`PhotoResult.with_grain`), and the grain each face of the latest composite got
    (:mod:`faceapp.core.grain`), which a 16-bit version of it gets too."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.blend: _Blend | None = None
        self.composite: tuple[tuple[np.ndarray, ...], bool, np.ndarray] | None = None  # (shown, grain matched, image)
        self.grains: tuple[tuple[np.ndarray, ...], list[Grain | None]] | None = None
        self.fill_lock = threading.Lock()  # (a fill takes seconds: composites do not wait for it)
        self.fill: BackgroundFill | None = None


class BackgroundFill(NamedTuple):
    """The photo's damage filled classically (:func:`filled_background`), within the box of the
    pixels filled: what another version of the result's background (its 16 bits) takes there."""

    top: int
    left: int
    mask: np.ndarray  # bool, box-sized: the pixels filled
    pixels: np.ndarray  # uint8 RGB, box-sized: the fill (only where ``mask`` is set)

    @classmethod
    def of(cls, filled: np.ndarray, filled_mask: np.ndarray) -> BackgroundFill:
        left, top, width, height = cv2.boundingRect(filled_mask)
        box = np.s_[top : top + height, left : left + width]
        return cls(top, left, _frozen(filled_mask[box] > 0), _frozen(filled[box].copy()))


@dataclass(frozen=True, eq=False)
class PhotoResult:
    """A restored photo, as a value: background at the output scale, the faces and their candidates,
    and which candidate each face shows.

    :meth:`choose` and :meth:`with_candidates` return a new result; nothing changes one in place
    (its arrays are read-only), so a result can be handed to another thread or kept for an export
    as it is. :meth:`composite` pastes the chosen candidates onto the background, reusing masks
    computed once per run; the latest composite is kept, keyed by the candidates it shows.
    """

    photo: Photo
    faces: tuple[FaceResult, ...]
    background: np.ndarray
    alpha: np.ndarray | None
    settings: PhotoSettings
    model_name: str
    damage: np.ndarray | None = None
    #: the printed screen smoothed out of the photo before its faces were restored (``photo`` is
    #: the photo so smoothed), or None
    screen: Screen | None = None
    #: whether the faces are printed with a halftone screen (smoothed out or not, as the settings said)
    printed: bool = False
    #: what of the engine that made it goes into the provenance besides its name (:func:`engine_record`)
    made_by: Mapping[str, Any] = field(default_factory=dict)
    _run: _RunCache = field(default_factory=_RunCache, repr=False)

    @property
    def scale(self) -> int:
        return self.settings.upscale

    @property
    def choice(self) -> tuple[int, ...]:
        """Which candidate each face shows."""
        return tuple(face.chosen for face in self.faces)

    def choose(self, face_index: int, candidate_index: int) -> PhotoResult:
        """This result with another candidate shown for one face."""
        face = self.faces[face_index]
        if not 0 <= candidate_index < len(face.candidates):
            raise IndexError(f"face {face_index} has {len(face.candidates)} candidates, not {candidate_index + 1}")
        return self._with_face(face_index, dataclasses.replace(face, chosen=candidate_index))

    def with_choice(self, choice: Sequence[int]) -> PhotoResult:
        """This result showing candidate ``choice[i]`` of face i."""
        if len(choice) != len(self.faces):
            raise ValueError(f"{len(choice)} choices for {len(self.faces)} faces")
        result = self
        for index, candidate in enumerate(choice):
            result = result.choose(index, candidate)
        return result

    def with_candidates(self, face_index: int, seeds: Sequence[int], candidates: Sequence[np.ndarray],
                        *, refinements: Sequence[Refinement] = ()) -> PhotoResult:
        """This result with more candidates of one face (appended; the choice is unchanged)."""
        face = self.faces[face_index]
        grown = dataclasses.replace(face, seeds=(*face.seeds, *seeds),
                                    candidates=(*face.candidates, *map(_frozen, candidates)),
                                    refinements=(*face.refinements, *refinements))
        return self._with_face(face_index, grown)

    def same_run(self, other: PhotoResult | None) -> bool:
        """Whether ``other`` is a version of this result (same restore run, maybe another choice)."""
        return other is not None and other._run is self._run

    def same_picture(self, other: PhotoResult | None) -> bool:
        """Whether ``other`` is a version of the same run showing the same candidates (the same image),
        with grain matched alike.

        The candidates themselves are compared, not their indices: two versions may hold different
        candidates at one index (each grown from the same result on its own).
        """
        return (self.same_run(other) and other.grain_matched == self.grain_matched
                and _same_images(other.shown(), self.shown()))

    @property
    def grain_matched(self) -> bool:
        """Whether the faces get the photo's grain: asked for (:attr:`PhotoSettings.match_grain`),
        with a photo around them (not an aligned crop) whose fine detail is grain (not a JPEG saved
        below quality 85: :func:`faceapp.core.grain.grain_survives`), and not a print whose dots were
        smoothed out (what is left of them read as grain: QA, coloured noise sprinkled over a face)."""
        return (self.settings.match_grain and not self.settings.aligned and self.screen is None
                and grain_survives(self.photo.jpeg_quality))

    def with_grain(self, match: bool) -> PhotoResult:
        """This result with grain matching on or off (:attr:`PhotoSettings.match_grain`): a version
        of the same run, so switching costs a composite, not a restore (the grain measured is kept)."""
        if match == self.settings.match_grain:
            return self
        return dataclasses.replace(self, settings=dataclasses.replace(self.settings, match_grain=match))

    def background_fill(self, *, should_cancel: Callable[[], bool] | None = None) -> BackgroundFill | None:
        """The classical fill of this result's damage (None without damage), within the box of the
        pixels filled: kept from the restore for a photo of 16 bits, else made once per run (each seed's
        16-bit file takes the same; a 24 MP scan's torn quarter takes 13 s to fill)."""
        if self.damage is None:
            return None
        with self._run.fill_lock:
            if self._run.fill is None:
                self._run.fill = BackgroundFill.of(*filled_background(self.photo, self.damage, should_cancel=should_cancel))
            return self._run.fill

    def shown(self) -> tuple[np.ndarray, ...]:
        """The candidate image each face shows."""
        return tuple(face.restored for face in self.faces)

    def _with_face(self, face_index: int, face: FaceResult) -> PhotoResult:
        faces = (*self.faces[:face_index], face, *self.faces[face_index + 1 :])
        return dataclasses.replace(self, faces=faces)  # shares _run: same masks, same cache

    def masks(self) -> list[FaceMask]:
        """The blending mask of every face (computed once per run)."""
        return self._blend_state().masks

    def composite(self) -> np.ndarray:
        """The output photo (read-only uint8 RGB at the output scale) with every face's chosen candidate;
        neutral grey (equal channels) when the photo is black-and-white.

        Safe to call from several threads at once; the latest composite is reused while the same
        candidates are shown.
        """
        shown = self.shown()
        grain = self.grain_matched
        cached = self._run.composite
        if cached is not None and cached[1] == grain and _same_images(cached[0], shown):
            return cached[2]
        state = self._blend_state()
        out = self.background.copy()
        put_face_regions(out, state.masks, state.plain)
        restored = [self._in_photo(f.restored, np.uint8) for f in self.faces]  # back to the photo's colour space
        blend_faces(out, state.plain, restored, state.masks, state.weights, kept=self._kept_details(np.uint8),
                    trip=self._colour_trip(np.uint8))
        self._add_grain(out, state.plain, shown, state)
        if self.photo.greyscale:  # black-and-white in, black-and-white out, whatever the faces' colour
            make_grey(out)
        self._run.composite = (shown, grain, _frozen(out))  # one assignment: readers see the old or the new
        return out

    def composite_over(self, background: np.ndarray, *, depth: tuple[float, float] = ROUNDED_DEPTH) -> np.ndarray:
        """The chosen faces blended in place into ``background``, returned: another version of this
        result's background (the same size, uint8 or uint16, writable), such as the photo's own 16
        bits enlarged (:mod:`faceapp.core.sixteen_bit`); made grey when the photo is black-and-white.
        Into uint16 each face goes in its 8 bits scaled to 16 as ``depth`` (a, b) says, a·v + b: how
        the photo's 8 bits stand for its 16 (×257 where they were rounded from them; ×256 + 127.5
        where they are the high byte, as Pillow reads a 48-bit PNG); the model makes 8. Its grain
        is the same noise as :meth:`composite`'s, as measured there if the composite was made."""
        if background.shape != self.background.shape or background.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"expected a uint8 or uint16 background of {self.background.shape}, "
                             f"got {background.dtype} {background.shape}")
        state = self._blend_state()
        restored = [self._in_photo(f.restored, background.dtype, depth) for f in self.faces]
        plain = face_regions(background, state.masks)
        blend_faces(background, plain, restored, state.masks, state.weights,
                    kept=self._kept_details(background.dtype, depth), trip=self._colour_trip(background.dtype, depth))
        self._add_grain(background, plain, self.shown(), state)
        if self.photo.greyscale:
            make_grey(background)
        return background

    def _add_grain(self, blended: np.ndarray, plain: Sequence[np.ndarray], shown: tuple[np.ndarray, ...],
                   state: _Blend) -> None:
        """Give each face of ``blended`` (the output with the ``shown`` candidates blended in, uint8
        or uint16; ``plain``, the same without them under each face's box) the grain of the photo
        that it lacks, as the settings ask (:mod:`faceapp.core.grain`): measured once for the
        candidates shown, so every version of the output gets the same."""
        if not self.grain_matched:
            return
        grains = self._cached_grains(shown)
        if grains is None:
            grains = face_grains(self.photo.rgb, plain, blended, state.masks, state.weights, self.scale,
                                 [f.face.box for f in self.faces], self.damage)
            self._run.grains = (shown, grains)
        add_grain(blended, state.masks, state.weights, grains, self.scale)

    def _cached_grains(self, shown: tuple[np.ndarray, ...]) -> list[Grain | None] | None:
        """The grain measured for the candidates ``shown``, if it was (None: not yet, or none asked for)."""
        cached = self._run.grains  # (read once: another thread may store its own meanwhile)
        return cached[1] if cached is not None and _same_images(cached[0], shown) else None

    def keeps_detail(self, position: int) -> bool:
        """Whether face ``position`` is pasted as the restorer's change to it, keeping the photo's
        own fine detail (:attr:`FaceResult.keeps_detail`): a sharp face by its model's ramp that the
        prior did not touch (fidelity 1: spared whole, or asked for; its damage, if any, filled),
        showing a candidate no refinement pass made. Pasted whole, a face larger than the model's
        crop came back softer than the sharp photo it was spared in (QA: 15–34 % of its fine detail
        gone; a small stain blurred the whole face). A face the restorer changed more (a degraded
        one) is pasted whole: finer than the crop, its photo holds noise, grain or print dots."""
        return self.faces[position].keeps_detail

    def _in_photo(self, crop: np.ndarray, dtype: DTypeLike, depth: tuple[float, float] = ROUNDED_DEPTH) -> np.ndarray:
        """An sRGB uint8 crop in the photo's colour space and in ``dtype`` (uint16: its 8 bits
        scaled as ``depth`` says, :meth:`composite_over`)."""
        dtype = np.dtype(dtype)
        converted = self.photo.from_srgb(crop)
        if dtype == np.uint8:
            return converted
        scale, offset = depth
        return np.clip(np.rint(converted.astype(np.float32) * np.float32(scale) + np.float32(offset)),
                       0, 65535).astype(dtype)

    def _colour_trip(self, dtype: DTypeLike, depth: tuple[float, float] = ROUNDED_DEPTH
                     ) -> Callable[[np.ndarray], np.ndarray] | None:
        """What the photo's pixels in ``dtype`` become through the faces' sRGB and back, as
        :meth:`_in_photo` brings a crop back (the photo's 8 bits of a 16-bit pixel, as ``depth``
        says); None where the photo is sRGB already and nothing is lost (:func:`blend_faces`)."""
        if self.photo.srgb_pixels is None:
            return None
        dtype = np.dtype(dtype)
        scale, offset = depth

        def trip(pixels: np.ndarray) -> np.ndarray:
            if dtype != np.uint8:
                eight = (pixels.astype(np.float32) - np.float32(offset)) / np.float32(scale)
                pixels = np.clip(np.rint(eight), 0, 255).astype(np.uint8)
            return self._in_photo(self.photo.to_srgb(np.ascontiguousarray(pixels)), dtype, depth)

        return trip

    def _kept_details(self, dtype: DTypeLike, depth: tuple[float, float] = ROUNDED_DEPTH) -> list[KeptDetail | None]:
        """Each face's :class:`KeptDetail` where it keeps the photo's detail (else None), its
        reference in ``dtype`` as the faces are (:meth:`_in_photo`)."""
        return [KeptDetail(self._in_photo(face.aligned, dtype, depth), soft_hole(face.damage),
                           kept_change_sigma(face.affine)) if face.keeps_detail else None for face in self.faces]

    def drop_composite_cache(self) -> None:
        """Free the blending masks and the latest composite that every version of this run shares
        (a photo no longer on screen); the next :meth:`composite` makes them again, the same pixels."""
        with self._run.lock:
            self._run.blend = None
            self._run.composite = None

    def _blend_state(self) -> _Blend:
        with self._run.lock:
            if self._run.blend is None:
                height, width = self.background.shape[:2]
                if self.settings.aligned:  # the restored crop is the whole picture, up to every edge
                    masks = [FaceMask((0, 0, width, height), np.ones((height, width), np.float32),
                                      output_to_crop(f.affine, self.scale)) for f in self.faces]
                else:
                    masks = [face_mask(f.affine, f.aligned.shape[0], self.scale, (width, height)) for f in self.faces]
                if self.alpha is not None:  # transparent pixels keep their hidden colour, byte for byte
                    masks = [_on_visible(mask, self.alpha) for mask in masks]
                self._run.blend = _Blend(masks, normalised_weights(masks), face_regions(self.background, masks))
            return self._run.blend

    def provenance(self) -> dict[str, Any]:
        """What produced this result, for the exported file's metadata."""
        sampler = self.settings.sampler
        return {
            "software": f"faceapp {__version__}",
            "model": self.model_name,
            **self.made_by,
            "precision": self.settings.precision,
            "fidelity": sampler.fidelity,
            "steps": sampler.steps if sampler.schedule == "fast" else None,  # official: the loop's own
            "eta": sampler.eta,
            "schedule": sampler.schedule,
            "polish_timestep": sampler.polish_timestep,
            "upscale": self.scale,
            "match_grain": self.settings.match_grain,
            "descreen": self.settings.descreen,
            "spare_sharp_faces": sampler.spare_sharp_faces,
            "faces": [_face_provenance(f, grain) for f, grain in
                      zip(self.faces, (self.grain_matched and self._cached_grains(self.shown()))
                          or [None] * len(self.faces), strict=True)],
            **({"damage": {**mask_summary(self.damage), "resamples": self.settings.repair_resamples}}
               if self.damage is not None else {}),
            **({"descreened": self.screen.provenance()} if self.screen is not None else {}),
            **({"face_selection": {"faces": self.settings.face_selection, "min_face_size": self.settings.min_face_size,
                                   "unsure_faces": self.settings.unsure_faces}}
               if self.settings.face_selection is not None else {}),
        }


def _same_images(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    """Whether two sequences hold the very same image objects (candidates are read-only values)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def engine_record(engine: Any) -> dict[str, Any]:
    """What of ``engine`` a result's provenance records besides the model's name, enough to tell the
    release and the arithmetic that made it (reproducibility QA: seven releases of faceapp-compact
    had one name): the SHA-256 of its weight files, the restorer tones of its manifest, the device,
    and on a CPU the threads (bf16 sums differ a little with their number; fp32 ones do not)."""
    record: dict[str, Any] = {}
    weights = getattr(engine, "weights_sha256", None)
    if weights:
        record["model_weights"] = dict(weights)
    tones = getattr(engine, "restorer_tones", None)
    if tones:
        record["restorer_tones"] = tones
    device = getattr(engine, "device", None)
    if device is not None:
        record["device"] = getattr(device, "type", str(device))
        if record["device"] == "cpu":
            import torch

            record["cpu_threads"] = torch.get_num_threads()
    return record


def _face_provenance(face: FaceResult, grain: Grain | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"face": face.face.index + 1,  # its number, as the front-ends say it
                              "box": [round(v, 1) for v in face.face.box], "seed": face.seeds[face.chosen],
                              "seeds": list(face.seeds)}
    if grain is not None:
        record["grain"] = round(grain.strength, 2)  # grey levels of grain matched to the photo's
    if face.fidelity is not None:
        record["fidelity"] = round(face.fidelity, 4)
    if face.restorer_change is not None:
        record["restorer_change"] = round(face.restorer_change, 2)
    if face.face.diffuse_anyway:
        record["diffuse_anyway"] = True  # sharp-face sparing switched off for this face by the user
    if face.damage is not None:
        record["damage"] = mask_summary(face.damage)
    passes = face.refinement_of(face.chosen)
    if face.keeps_detail:
        record["detail_kept"] = True  # pasted as the restorer's change: the photo's own detail stays
    if passes:
        record["refine"] = {"passes": len(passes), "changes": [round(p.change, 3) for p in passes],
                            "moved": round(face.refinement_distance(face.chosen), 3)}
    return record


#: Photos of this many pixels or more say that a printed screen is being looked for (a 24 MP one's
#: search takes 0.1 s, or 4 s where there is one: bench/README.md).
_SAY_LOOKING_FROM = 4_000_000


def descreened(photo: Photo, screen: Screen, *, should_cancel: Callable[[], bool] | None = None) -> Photo:
    """``photo`` with ``screen`` smoothed out of its pixels (and of their sRGB version)."""
    srgb = photo.srgb_pixels
    return dataclasses.replace(
        photo, rgb=_frozen(descreen(photo.rgb, screen, should_cancel=should_cancel)),
        srgb_pixels=None if srgb is None else _frozen(descreen(srgb, screen, should_cancel=should_cancel)))


def whole_image_face(photo: Photo, engine: Engine) -> Face:
    """The face of an already aligned crop: the template scaled to the photo."""
    scale = np.array([photo.width, photo.height], dtype=np.float32) / float(engine.face_size)
    landmarks = engine.template * scale
    return Face(index=0, box=(0.0, 0.0, float(photo.width), float(photo.height)), landmarks=landmarks, score=1.0)


def _on_visible(mask: FaceMask, alpha: np.ndarray) -> FaceMask:
    """``mask`` with no weight on the fully transparent pixels of ``alpha`` (the output's): a face
    is pasted only where it can be seen, the colour hidden under the rest left as the file had it
    (geometry QA: 1,555 hidden pixels of a cut-out changed)."""
    if mask.empty():
        return mask
    x0, y0, x1, y1 = mask.roi
    hidden = alpha[y0:y1, x0:x1] == 0
    if not hidden.any():
        return mask
    return dataclasses.replace(mask, weights=np.where(hidden, np.float32(0), mask.weights))


def _aligned_crop(photo: Photo, face: Face, engine: Engine, settings: PhotoSettings) -> tuple[np.ndarray, np.ndarray]:
    """The face's aligned crop of the photo's sRGB pixels, and the photo → crop affine. A photo
    with transparent pixels gives the models only the colour that shows (:func:`_visible_crop`)."""
    crop, affine = _crop_of(photo.srgb, photo, face, engine, settings)
    if photo.alpha is not None:
        crop = _visible_crop(crop, affine, photo, face, engine, settings)
    return crop, affine


def _crop_of(pixels: np.ndarray, photo: Photo, face: Face, engine: Engine, settings: PhotoSettings,
             ) -> tuple[np.ndarray, np.ndarray]:
    if not settings.aligned:  # the models see sRGB, whatever the photo's profile
        return align_face(pixels, face.landmarks, template=engine.template, size=engine.face_size)
    size = engine.face_size
    sx, sy = size / photo.width, size / photo.height
    affine = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])
    interpolation = cv2.INTER_AREA if min(sx, sy) < 1 else cv2.INTER_CUBIC
    return cv2.resize(pixels, (size, size), interpolation=interpolation), affine


def _visible_crop(crop: np.ndarray, affine: np.ndarray, photo: Photo, face: Face, engine: Engine,
                  settings: PhotoSettings) -> np.ndarray:
    """``crop`` as the visible pixels alone make it: the colour hidden under fully transparent
    pixels (any colour at all: a cut-out's magenta) neither bleeds into the face's edge as the crop
    is resampled nor is seen by the models there (geometry QA: a magenta fringe along a cut-out
    face's edge). Resampled premultiplied by whether each pixel shows; where little shows, filled
    from what does around it (OpenCV's inpainting, 0.06 s for half a 512 px crop). Only the part of
    the photo the crop is cut from is copied (review: the whole photo, twice, for every face)."""
    def premultiplied(region: tuple[int, int, int, int] | None) -> tuple[np.ndarray, np.ndarray] | None:
        """The crop of what shows (hidden pixels black) and of how much shows (0–255), cut from
        ``region`` of the photo (None: all of it); None where all of it shows."""
        x0, y0, x1, y1 = region or (0, 0, photo.width, photo.height)
        pixels, shows = photo.srgb[y0:y1, x0:x1], photo.alpha[y0:y1, x0:x1] > 0
        if shows.all():
            return None

        def resampled(image: np.ndarray) -> np.ndarray:
            if region is None:
                return _crop_of(image, photo, face, engine, settings)[0]
            landmarks = face.landmarks - np.array([x0, y0], np.float32)
            return align_face(image, landmarks, template=engine.template, size=engine.face_size)[0]

        return (resampled(np.where(shows[..., None], pixels, np.uint8(0))),
                resampled(shows.astype(np.uint8) * np.uint8(255)).astype(np.float32))

    region = None if settings.aligned else _footprint(affine, crop.shape[0], photo.width, photo.height)
    try:
        made = premultiplied(region)
    except FaceGeometryError:  # (a region too small beside a crop reaching far out: the whole photo)
        made = premultiplied(None)
    if made is None:
        return crop
    shown, weight = made
    visible = np.clip(shown.astype(np.float32) * (255.0 / np.maximum(weight, 1.0))[..., None], 0, 255)
    visible = np.rint(visible).astype(np.uint8)
    unseen = weight < 128  # (mostly hidden: its colour is the hidden one's, divided back up from noise)
    if unseen.all():
        return crop
    return cv2.inpaint(visible, unseen.astype(np.uint8), 3, cv2.INPAINT_TELEA) if unseen.any() else visible


def _footprint(affine: np.ndarray, size: int, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The part of a ``width``×``height`` photo a ``size``² crop cut by ``affine`` (photo → crop)
    samples, with a margin, clipped to the photo; None where that is most of the photo anyway."""
    corners = np.array([[[0.0, 0.0], [size, 0.0], [0.0, size], [size, size]]], np.float64)
    photo_corners = cv2.transform(corners, cv2.invertAffineTransform(affine.astype(np.float64)))[0]
    (left, top), (right, bottom) = photo_corners.min(axis=0), photo_corners.max(axis=0)
    margin = 4 + 0.05 * max(right - left, bottom - top)
    x0, y0 = max(0, math.floor(left - margin)), max(0, math.floor(top - margin))
    x1, y1 = min(width, math.ceil(right + margin)), min(height, math.ceil(bottom + margin))
    if x1 - x0 < 8 or y1 - y0 < 8 or (x1 - x0) * (y1 - y0) > 0.5 * width * height:
        return None
    return x0, y0, x1, y1


#: The stages :func:`iter_restore_photo` names (a str it yields), besides the faces' progress.
LOOKING_FOR_SCREEN = "looking for a printed screen"
SMOOTHING_SCREEN = "smoothing out the printed screen"
REPAIRING_DAMAGE = "repairing the damage"
ENLARGING = "enlarging the photo"  # followed by the factor, "×2"
STAGES = (LOOKING_FOR_SCREEN, SMOOTHING_SCREEN, REPAIRING_DAMAGE, ENLARGING)


def iter_restore_photo(
    photo: Photo,
    faces: Sequence[Face],
    engine: Engine,
    settings: PhotoSettings,
    *,
    damage: np.ndarray | None = None,
    face_damage: np.ndarray | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[Progress | str, None, PhotoResult]:
    """Restore the enabled ``faces`` of ``photo``; yields :class:`Progress` for each face, then the
    name of each stage that takes time after them (a str: repairing the damage, enlarging the
    photo), returns the result.

    With ``settings.aligned`` the whole photo is the one face (``faces`` is ignored). A photo
    too small for a face, or a face far outside it, raises :class:`ImageError` before any work.
    ``damage`` (the photo's size; 255 = damaged) is repaired: faces by the prior, the rest
    classically; a mask with no damaged pixel counts as none. ``face_damage`` is the one face's
    own mask in its aligned crop (a mask given in the crop): used as it is, instead of ``damage``
    carried into the crop (which would grow it by a second conservative warp).
    """
    todo = [whole_image_face(photo, engine)] if settings.aligned else [f for f in faces if f.enabled]
    name = photo.path.name if photo.path is not None else "the photo"
    check_photo_size(photo.width, photo.height, name=name)
    for face in todo:
        check_face_in_photo(face.box, face.landmarks, photo.width, photo.height, name=name)
    if damage is not None:
        damage = check_mask(damage, photo.width, photo.height, name="the damage mask")
        damage = _frozen(damage) if damage.any() else None
    if face_damage is not None:
        if len(todo) != 1:
            raise ValueError(f"a face's own damage mask needs exactly one face, not {len(todo)}")
        face_damage = check_mask(face_damage, engine.face_size, engine.face_size, name="the face's damage mask")
        face_damage = _frozen(face_damage) if face_damage.any() else None
    # looked for whether smoothing is on or off (cheap where there is none: 16 tiles), so that the
    # result says whether the setting changes it
    if photo.width * photo.height >= _SAY_LOOKING_FROM:
        yield LOOKING_FOR_SCREEN
    screen = photo_screen(photo, should_cancel=should_cancel)
    if screen is not None and not any(screen.holds(photo.rgb, face.box) for face in todo):
        screen = None  # (a dotted wall behind the faces, not a print of them: left as it is)
    printed = screen is not None
    if not settings.descreen:
        screen = None
    if screen is not None:
        yield SMOOTHING_SCREEN
        screen = screen.keeping(damage, photo.alpha)  # (neither smeared into the pixels around them)
        photo = descreened(photo, screen, should_cancel=should_cancel)
    seeds = [settings.base_seed + k for k in range(settings.seeds_per_face)]
    results = []
    for position, face in enumerate(todo):
        _check(should_cancel)
        yield Progress(position, len(todo), 0, 0)
        crop, affine = _aligned_crop(photo, face, engine, settings)
        crop_damage = face_damage if face_damage is not None else _crop_damage(damage, affine, crop.shape[0])
        candidates, prepared = yield from _run_engine(
            engine, crop, face_sampler(settings.sampler, face), seeds, position=position, count=len(todo),
            damage=crop_damage,
            resamples=settings.repair_resamples, grey=photo.greyscale, should_cancel=should_cancel,
        )
        results.append(FaceResult(face=face, aligned=_frozen(crop), affine=affine, seeds=tuple(seeds),
                                  candidates=tuple(map(_frozen, candidates)), damage=crop_damage,
                                  fidelity=prepared.sampler.fidelity, restorer_change=prepared.restorer_change,
                                  detail_kept=keeps_photo_detail(engine, prepared)))
    _check(should_cancel)
    if damage is not None:  # (inpainting a large scan's damage takes a while too: review)
        yield REPAIRING_DAMAGE
    plain, fill = photo.rgb, None
    if damage is not None:
        plain, filled_mask = filled_background(photo, damage, should_cancel=should_cancel)
        fill = BackgroundFill.of(plain, filled_mask) if photo.bits == 16 else None  # (for its 16-bit result)
    if settings.upscale > 1:  # (a 120 MP scan's takes half a minute: QA, the progress sat on the last face)
        yield f"{ENLARGING} ×{settings.upscale}"
    background, alpha = (_enlarged(image, settings.upscale, should_cancel) if image is not None else None
                         for image in (plain, photo.alpha))
    result = PhotoResult(
        photo=photo, faces=tuple(results), background=_frozen(background), alpha=alpha, settings=settings,
        model_name=getattr(engine, "model_name", "model"), damage=damage, screen=screen, printed=printed,
        made_by=engine_record(engine),
    )
    result._run.fill = fill
    return result


#: each photo's printed screen once looked for (or None where it has none), for as long as the photo
#: lives: restoring it again at another fidelity or seed, or after its faces were looked for among
#: its dots, does not search its tiles again (3.4 s for a 25 MP print: bench/README.md)
_SCREENS: weakref.WeakKeyDictionary[Photo, Screen | None] = weakref.WeakKeyDictionary()
_SCREENS_LOCK = threading.Lock()


def photo_screen(photo: Photo, *, should_cancel: Callable[[], bool] | None = None) -> Screen | None:
    """:func:`~faceapp.core.halftone.find_screen` of ``photo``'s pixels, looked for once per photo
    (a search cancelled part way keeps nothing). A photo's pixels are not changed in place."""
    with _SCREENS_LOCK:
        if photo in _SCREENS:
            return _SCREENS[photo]
    pixels = photo.rgb
    if photo.alpha is not None and not photo.alpha.all():  # the colour hidden under transparent pixels
        hidden = photo.alpha == 0  # is no print's (review: a cut-out hiding magenta was "printed")
        pixels = pixels.copy()
        pixels[hidden] = np.asarray(photo.rgb[~hidden].mean(axis=0) if (~hidden).any() else 0, np.uint8)
    screen = find_screen(pixels, should_cancel=should_cancel)
    with _SCREENS_LOCK:
        _SCREENS[photo] = screen
    return screen


#: Photo pixels beyond the damage marked that its classical fill takes too: a scan's blur and a
#: mask's own edge leave a stain's rim just outside it (QA: a faint line along a torn corner's edge).
_FILL_MARGIN_PX = 1


def filled_background(photo: Photo, damage: np.ndarray, *, should_cancel: Callable[[], bool] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``photo``'s pixels (a new array) with the ``damage`` marked (255 = damaged) and its rim
    (:data:`_FILL_MARGIN_PX`) filled classically from around it, given the photo's grain where it
    has grain (:func:`faceapp.core.grain.grain_fill`; not a JPEG saved below quality 85): what a
    result's background starts from. Also the mask of the pixels filled. The grain is part of the
    fill, whatever grain matching (which gives restored faces theirs) is set to: a fill without it
    is a smooth patch the photo never had. ``should_cancel``: asked between the grain's tiles."""
    side = 2 * _FILL_MARGIN_PX + 1
    filled_mask = cv2.dilate(damage, np.ones((side, side), np.uint8))
    filled = fill_damage(photo.rgb, filled_mask)
    if grain_survives(photo.jpeg_quality):
        grain_fill(filled, filled_mask, should_cancel=should_cancel)
    return filled, filled_mask


def _enlarged(image: np.ndarray, scale: int, should_cancel: Callable[[], bool] | None) -> np.ndarray:
    """``image`` at ×``scale`` for a result; at ×1 a view of it, not a copy (a photo's pixels are
    never written to: a 24 MP photo's result holds 69 MB less)."""
    return image.view() if scale == 1 else upscale_image(image, scale, should_cancel=should_cancel)


def _crop_damage(damage: np.ndarray | None, affine: np.ndarray, size: int) -> np.ndarray | None:
    """The damage mask of a face crop, or None when no damaged pixel falls in it."""
    if damage is None:
        return None
    crop_damage = mask_to_crop(damage, affine, size)
    return _frozen(crop_damage) if crop_damage.any() else None


def restore_photo(
    photo: Photo,
    faces: Sequence[Face],
    engine: Engine,
    settings: PhotoSettings,
    *,
    damage: np.ndarray | None = None,
    face_damage: np.ndarray | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> PhotoResult:
    """:func:`iter_restore_photo` run to completion, passing each :class:`Progress` (or stage) to ``on_progress``."""
    return drive(iter_restore_photo(photo, faces, engine, settings, damage=damage, face_damage=face_damage,
                                    should_cancel=should_cancel), on_progress)


def iter_add_candidates(
    result: PhotoResult,
    face_index: int,
    engine: Engine,
    count: int,
    *,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[Progress, None, PhotoResult]:
    """Restore ``count`` more candidates of one face with seeds it has not used; returns ``result``
    with them appended (a new result: ``result`` itself is unchanged).

    Yields :class:`Progress` like :func:`iter_restore_photo` (step 0 announces the face, then one
    per sampling step, ``face_index``/``face_count`` as in ``result.faces``). The choice is not
    changed, so the composite stays as it was. Cancelling returns nothing.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    face = result.faces[face_index]
    start = max(face.seeds) + 1
    new_seeds = [start + k for k in range(count)]
    _check(should_cancel)
    yield Progress(face_index, len(result.faces), 0, 0)
    new, _ = yield from _sample_again(result, face_index, engine, face.face, new_seeds, should_cancel)
    return result.with_candidates(face_index, new_seeds, new)


def add_candidates(
    result: PhotoResult,
    face_index: int,
    engine: Engine,
    count: int,
    *,
    should_cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> PhotoResult:
    """:func:`iter_add_candidates` run to completion, passing each :class:`Progress` to ``on_progress``."""
    return drive(iter_add_candidates(result, face_index, engine, count, should_cancel=should_cancel), on_progress)


def iter_resample_face(
    result: PhotoResult,
    face_index: int,
    engine: Engine,
    *,
    diffuse_anyway: bool,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[Progress, None, PhotoResult]:
    """Sample one face's seeds again, with sharp-face sparing off for it (``diffuse_anyway``: the
    prior works on it at the run's fidelity however sharp it is) or on again; returns ``result`` with
    that face's candidates replaced, its :class:`Face` carrying the flag (a front-end passes that Face
    to later restores of the photo, which then sample it so too) and the same seed chosen. Its refinement passes are dropped: they refined candidates
    that are gone. Yields :class:`Progress` like :func:`iter_add_candidates`; cancelling returns nothing.
    """
    face = result.faces[face_index]
    passes = {r.candidate for r in face.refinements}
    sampled = [i for i in range(len(face.candidates)) if i not in passes]
    chosen = sampled.index(face.sampled_from(face.chosen))
    seeds = [face.seeds[i] for i in sampled]
    flagged = dataclasses.replace(face.face, diffuse_anyway=diffuse_anyway)
    _check(should_cancel)
    yield Progress(face_index, len(result.faces), 0, 0)
    candidates, prepared = yield from _sample_again(result, face_index, engine, flagged, seeds, should_cancel)
    resampled = dataclasses.replace(face, face=flagged, seeds=tuple(seeds), candidates=tuple(map(_frozen, candidates)),
                                    chosen=chosen, refinements=(), fidelity=prepared.sampler.fidelity,
                                    restorer_change=prepared.restorer_change,
                                    detail_kept=keeps_photo_detail(engine, prepared))
    return result._with_face(face_index, resampled)


def iter_refine_face(
    result: PhotoResult,
    face_index: int,
    engine: Engine,
    passes: int,
    *,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[Progress, None, PhotoResult]:
    """Refine the chosen candidate of one face ``passes`` times (IDM-style, at a high fidelity, with
    the candidate's own seed); returns ``result`` with each pass appended as a candidate and the
    last one chosen. Each pass's change is in ``FaceResult.refinements``. Yields :class:`Progress`
    like :func:`iter_add_candidates`; cancelling returns nothing."""
    check_passes(passes)
    face = result.faces[face_index]
    sampler = refine_sampler(result.settings.sampler)
    seed, source = face.seeds[face.chosen], face.chosen

    def restore(current: np.ndarray) -> Generator[Progress, None, np.ndarray]:
        _check(should_cancel)
        yield Progress(face_index, len(result.faces), 0, 0)
        (refined,), _ = yield from _run_engine(engine, current, sampler, [seed], position=face_index,
                                               count=len(result.faces), grey=result.photo.greyscale,
                                               should_cancel=should_cancel)
        return refined

    images, records = [], []
    steps = iter_refine_steps(face.restored, restore, passes)
    try:
        for item in steps:
            if not isinstance(item, RefinePass):
                yield item
                continue
            candidate = len(face.candidates) + len(images)
            records.append(Refinement(candidate=candidate, source=source, index=item.index, change=item.change))
            images.append(item.image)
            source = candidate
    finally:
        steps.close()
    if not images:
        return result
    grown = result.with_candidates(face_index, [seed] * len(images), images, refinements=records)
    return grown.choose(face_index, len(grown.faces[face_index].candidates) - 1)


def refine_face(result: PhotoResult, face_index: int, engine: Engine, passes: int, *,
                should_cancel: Callable[[], bool] | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> PhotoResult:
    """:func:`iter_refine_face` run to completion, passing each :class:`Progress` to ``on_progress``."""
    return drive(iter_refine_face(result, face_index, engine, passes, should_cancel=should_cancel), on_progress)


def chosen_seeds(result: PhotoResult | None) -> dict[int, tuple[int, bool] | None]:
    """For each face of ``result`` (by detector index): the seed of the candidate chosen and whether
    that candidate is a refinement pass of it, or None where the face is on its first candidate
    (nothing chosen). Empty for no result."""
    chosen: dict[int, tuple[int, bool] | None] = {}
    for face in result.faces if result is not None else ():
        source = face.sampled_from(face.chosen)
        chosen[face.face.index] = None if face.chosen == 0 else (face.seeds[source], source != face.chosen)
    return chosen


def candidates_not_made_again(result: PhotoResult, base_seed: int, seeds_per_face: int) -> tuple[int, int]:
    """How many candidates of ``result`` a restore with seeds ``base_seed`` … ``base_seed +
    seeds_per_face - 1`` would not make again: those of other seeds (More's) and refinement passes
    (undo QA: a restore again dropped them without a question)."""
    seeds = {base_seed + k for k in range(seeds_per_face)}
    other = passes = 0
    for face in result.faces:
        refined = {r.candidate for r in face.refinements}
        passes += len(refined)
        other += sum(1 for index, seed in enumerate(face.seeds) if index not in refined and seed not in seeds)
    return other, passes


def carry_choices(chosen_before: Mapping[int, tuple[int, bool] | None],
                  result: PhotoResult) -> tuple[PhotoResult, list[int]]:
    """``result``, the photo restored again, showing for each face the seed chosen before
    (``chosen_before``: :func:`chosen_seeds` of the results before, the latest for each face, so a
    face switched off for one restore keeps its choice: QA) where that seed was sampled again (GUI
    QA: every face went back to its first seed, the choices made in the gallery lost without a
    word; a face left on its first candidate shows this restore's first).
    Also returns the detector indices of the faces whose choice is not shown as it was: a seed this
    restore did not sample (one of More's), or a refinement pass (its seed's new sample is shown)."""
    lost = []
    for position, face in enumerate(result.faces):
        before = chosen_before.get(face.face.index)
        if before is None:
            continue
        seed, refined = before
        if seed in face.seeds:
            result = result.choose(position, face.seeds.index(seed))
        if refined or seed not in face.seeds:
            lost.append(face.face.index)
    return result, lost


def _sample_again(
    result: PhotoResult, face_index: int, engine: Engine, face: Face, seeds: list[int],
    should_cancel: Callable[[], bool] | None,
) -> Generator[Progress, None, tuple[list[np.ndarray], PreparedFace]]:
    """Sample ``seeds`` of a face ``result`` holds (its aligned crop, its damage repaired again) with
    the run's settings as ``face`` asks (:func:`face_sampler`); as :func:`_run_engine`."""
    stored = result.faces[face_index]
    return (yield from _run_engine(
        engine, stored.aligned, face_sampler(result.settings.sampler, face), seeds,
        position=face_index, count=len(result.faces), damage=stored.damage,
        resamples=result.settings.repair_resamples, grey=result.photo.greyscale, should_cancel=should_cancel,
    ))


def keeps_photo_detail(engine: Engine, prepared: PreparedFace) -> bool:
    """Whether the faces sampled from ``prepared`` keep the photo's own detail when pasted: sharp by
    ``engine``'s ramp (the restorer changed it at most ``untouched_below``) and sampled by no prior
    step, polish included (a face finer than the crop holds noise, grain or print dots, and one the
    prior drew holds the prior's texture: both are pasted whole)."""
    ramp, plans = getattr(engine, "sharp_faces", None), getattr(engine, "plans", None)
    if ramp is None or plans is None or prepared.restorer_change is None:
        return False
    return prepared.restorer_change <= ramp.untouched_below and not plans(prepared.sampler)


def face_sampler(sampler: SamplerSettings, face: Face) -> SamplerSettings:
    """How ``face`` is sampled: ``sampler``, with sharp-face sparing off where the user asked the
    prior to work on this face anyway (:attr:`Face.diffuse_anyway`)."""
    if face.diffuse_anyway and sampler.spare_sharp_faces:
        return dataclasses.replace(sampler, spare_sharp_faces=False)
    return sampler


def _check(should_cancel: Callable[[], bool] | None) -> None:
    if should_cancel is not None and should_cancel():
        raise Cancelled()


def _run_engine(
    engine: Engine,
    crop: np.ndarray,
    sampler: SamplerSettings,
    seeds: list[int],
    *,
    position: int,
    count: int,
    damage: np.ndarray | None = None,
    resamples: int = 1,
    grey: bool = False,
    should_cancel: Callable[[], bool] | None,
) -> Generator[Progress, None, tuple[list[np.ndarray], PreparedFace]]:
    """Restore one crop (repairing ``damage`` first, when given) with each engine step yielded as a
    :class:`Progress` of face ``position``; returns the candidates and the prepared face, whose
    sampler says the fidelity they were sampled at. A damaged face is judged for sharp-face sparing
    on its classically filled crop, once, and every seed's repaired crop restored at that fidelity.
    ``grey``: the photo is black-and-white: the candidates and previews are made neutral grey. A dark
    or faded face is restored with its levels stretched, and its candidates and previews mapped back
    (:mod:`faceapp.core.face_levels`)."""
    _check(should_cancel)
    # a dark or faded face is stretched for the model's networks, and back after (a stand-in engine
    # without networks, in the tests, takes faces as they are)
    levels = FaceLevels.of(crop, damage) if getattr(engine, "stretches_levels", False) else FaceLevels()
    if not levels.identity:
        log.info("face %d: levels stretched ×%.2f for the model (a dark or faded face)", position + 1, levels.gain)
    work = levels.stretch(crop)
    if damage is not None:
        prepared = engine.prepare(fill_damage(work, damage), sampler)
        steps = iter_restore_damaged_face(engine, work, damage, sampler=prepared.sampler, seeds=seeds,
                                          resamples=resamples, should_cancel=should_cancel,
                                          estimate=prepared.estimate)  # the restorer runs once on the filled crop
    else:
        prepared = engine.prepare(work, sampler)
        steps = engine.iter_sample(prepared, seeds=seeds, should_cancel=should_cancel)

    def finished(image: np.ndarray) -> np.ndarray:
        image = levels.undo(image, crop, damage)
        return grey_copy(image) if grey else image

    def progress(info: Any) -> Progress:
        preview = getattr(info, "preview", None)
        return Progress(position, count, int(info.step), int(info.total),
                        finished(preview) if preview is not None else None)

    images = yield from relay(steps, progress)
    return [finished(image) for image in images], prepared
