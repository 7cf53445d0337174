"""What the window says of a photo, in plain Python (tested without Qt): the restoration panel's
text about it (:func:`photo_text`), its filmstrip state (:func:`faces_state`, :data:`TO_OPEN`,
:func:`is_busy_state`), a Restore all's progress (:class:`Album`), the caption of a face's chosen
candidate (:func:`chosen_face_text`) and the zoom (:func:`zoom_text`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from faceapp.core.wording import counted, duration, listed, time_left_of

READY_TEXT = "Press Restore to repair the faces of this photo."


def detector_index(face_result: Any, position: int) -> int:
    """The detector index of a per-face result: the number shown to the user is this + 1."""
    index = getattr(getattr(face_result, "face", None), "index", None)
    return index if isinstance(index, int) else position


def chosen_face_text(result, position: int) -> tuple[str, str]:
    """The caption and the detail under the preview of face ``position``'s chosen candidate in
    ``result`` (a ``PhotoResult``): "Face 2 · seed 7 · refined ×2", or "· kept" / "· at 0.94" (the
    fidelity a spared face was sampled at) with why. A face whose seeds all gave the same face names none."""
    from faceapp.core.application import spared_faces

    face = result.faces[position]
    number = detector_index(face, position) + 1
    caption, detail = f"Face {number} · seed {face.seeds[face.chosen]}", ""
    passes = len(face.refinement_of(face.chosen))
    if passes:  # as its thumbnail says
        caption += " · refined" + (f" ×{passes}" if passes > 1 else "")
    spared = next((s for s in spared_faces(result) if s.position == position), None)
    if spared is not None and not passes:  # a refinement pass is never spared
        # in the words of the face list: "kept" (the restorer's face) or the higher fidelity it was sampled at
        kept = spared.fidelity >= 1.0
        if kept and face.seeds_alike():  # no seed to name (review: said under a texture polish, which differs per seed)
            caption = f"Face {number}"
        caption += " · kept" if kept else f" · at {spared.fidelity:.2f}"
        how = ("Kept as the restorer made it" if kept
               else f"Sampled at fidelity {spared.fidelity:.2f} instead of {spared.asked:.2f}")
        detail = (f"{how}: the restorer changed this face by only {spared.restorer_change:.1f} grey levels "
                  f"(Diffuse anyway, in the seed gallery, lets the prior work on it at {spared.asked:.2f})")
        if face.damage is not None:
            detail += "; the prior filled its damage, each seed its own way"
    return caption, detail


def zoom_text(zoom: float) -> str:
    """The zoom in the status bar, ``zoom`` in screen pixels per photo pixel: in whole percents, but
    a tenth where the whole figure would be 100 and it is not (HiDPI QA: at 99.89 % the label said
    100 % while the photo was drawn resampled, softer than at 100 %)."""
    percent = zoom * 100
    whole = f"{percent:.0f}"
    if whole == "100" and abs(percent - 100) > 1e-6:  # (99.96 said 99.9, not "100.0")
        return f"Zoom {min(percent, 99.9) if percent < 100 else max(percent, 100.1):.1f} %"
    return f"Zoom {whole} %"


#: How the panel names a preference a result was made with (the fidelity has a line of its own).
_SETTING_NAMES = {"device": "device", "precision": "precision", "model": "model", "steps": "steps", "eta": "η",
                  "schedule": "schedule", "polish_timestep": "texture polish", "spare_sharp_faces": "sharp-face sparing",
                  "seeds_per_face": "seeds", "base_seed": "first seed", "repair_resamples": "damage resampling",
                  "upscale": "upscale", "descreen": "halftone smoothing"}


def photo_text(entry, fidelity: float | None = None, prefs=None, *, steps_follow_model: bool = False) -> str:
    """What the panel says about a photo no job is working on (a ``PhotoEntry``): loading or why
    it could not be opened, what to do next, or how its restore went; ``fidelity``, the slider's,
    when it is not the one the result shown was made at; ``prefs``, the preferences now (resolved:
    ``CoreBackend.resolved``), to name the other settings the result was not made with;
    ``steps_follow_model``: the user left the step count to the model, so with another model its own
    count is not named as a second change."""
    name = entry.path.name
    if entry.photo is None:
        if not entry.error:
            return f"Loading {name}…"
        # why is said where the photo would be (and in its notice); opening it again reads it again
        if not entry.unreadable:  # read, but its faces could not be found (the detector failed)
            return f"The faces of {name} could not be found: the notice says why. Open it again to try again."
        return f"Could not open {name}. Open it again to try again, or take it off with File ▸ Remove photo (Delete)."
    painted = entry.painted
    if not entry.enabled_faces() and entry.result is not None and not entry.result.faces:  # its damage only: filled
        text = f"{name}\nDamage filled" + (f" in {duration(entry.run_seconds)}" if entry.run_seconds is not None else "")
        text += " (no face restored)."
        if entry.outdated:  # (sceptic QA: "press Restore" with Restore off, every stroke taken back)
            text += ("\nDamage changed since: press Restore to fill it as painted now." if painted else
                     "\nThe damage painted was taken back since: the result shown still has it filled.")
    elif not entry.enabled_faces() and painted:
        text = (f"No face to restore in {name}: Restore fills the damage painted on it. To restore a face too, draw "
                "a box around it (Edit ▸ Draw face box) or switch it on by its number.")
    elif not entry.faces:
        text = f"No face was found in {name}. Draw a box around a face (Edit ▸ Draw face box), then press Restore."
    elif not entry.enabled_faces():
        text = f"Every face of {name} is switched off: click a face's number to include it, then press Restore."
    elif entry.result is not None:
        text = f"{name}\nRestored" + (f" in {duration(entry.run_seconds)}" if entry.run_seconds is not None else "")
        made_at = entry.result.settings.sampler.fidelity
        other_fidelity = fidelity is not None and abs(fidelity - made_at) >= 0.005
        names = (prefs.restoration_changes(entry.restored_with, printed=entry.result.printed)
                 if prefs is not None and entry.restored_with else [])
        unnamed = {"fidelity"}  # said with the slider's value
        if steps_follow_model and "model" in names:
            unnamed.add("steps")  # the other model's own count comes with it
        changed = [_SETTING_NAMES.get(name, name.replace("_", " ")) for name in names if name not in unnamed]
        if other_fidelity and changed:  # one sentence, one "press Restore" (QA: two stacked)
            text += (f"\nMade at fidelity {made_at:.2f} and with other settings ({', '.join(changed)}): press Restore "
                     f"to use {fidelity:.2f} and these.")
        elif other_fidelity:
            text += f"\nMade at fidelity {made_at:.2f}: press Restore to use {fidelity:.2f}."
        elif changed:
            text += f"\nMade with other settings ({', '.join(changed)}): press Restore to use these."
        faces = entry.result.faces
        spares_alike = prefs is not None and prefs.spare_sharp_faces and not {"spare_sharp_faces", "model"} & set(names)
        if other_fidelity and spares_alike and faces and made_at < 1.0 and all((f.fidelity or 0.0) >= 1.0 for f in faces):
            # (first-hour QA: every face spared, the slider moved and restored again changed nothing, unsaid)
            text += ("\nIts faces were sharp already, so kept as the restorer made them: a restore at another "
                     "fidelity keeps them so. Diffuse anyway, in the seed gallery, lets the prior work on one.")
        if entry.outdated:
            text += "\nFaces or damage changed since this result was made: press Restore to apply the changes."
    else:
        text = READY_TEXT
    doubtful = [face for face in entry.faces if not getattr(face, "enabled", True) and getattr(face, "unsure", False)]
    if doubtful and entry.enabled_faces():  # (why a face is off that the user did not switch off: QA, a hand)
        numbers = listed([str(face.index + 1) for face in doubtful])
        one = len(doubtful) == 1
        text += (f"\nFace{'' if one else 's'} {numbers} {'is' if one else 'are'} off: the detector is unsure "
                 f"{'it is a face' if one else 'they are faces'}. Click {'its number' if one else 'a number'} "
                 "(or use Photo ▸ Faces) to restore it too.")
    if entry.lies and entry.faces:
        text += f"\nThe photo {entry.lies}."
    if entry.error:
        text += f"\nThe last run failed: {entry.error}"
    return text


def faces_state(faces: Sequence[Any]) -> str:
    """A loaded photo's filmstrip state: how many faces it has, and how many of them are switched
    on when not all are ("4 of 5 faces")."""
    count = len(faces)
    on = sum(bool(getattr(face, "enabled", True)) for face in faces)
    return f"{on} of {count} faces" if on < count else counted(count, "face")


#: The first words of the states of a photo that a job is working on.
_BUSY_STATE_WORDS = ("loading", "detecting", "restoring", "sampling", "refining", "enlarging", "repairing", "looking",
                     "smoothing")


def is_busy_state(state: str) -> bool:
    """Whether ``state`` says that a job is working on the photo (loading the model, finding faces,
    restoring, looking for and smoothing out a printed screen before its faces, repairing its damage
    and enlarging it after them, sampling more seeds, refining)."""
    return state.startswith(_BUSY_STATE_WORDS)


#: The state of a photo waiting to be read (QA: "queued" said that and "waiting to be restored" alike).
TO_OPEN = "to open"


@dataclasses.dataclass
class Album:
    """A Restore all under way: its photos, those whose restore has ended (restored or not), and
    since when; the window says "photo 3 of 27", the time it has left in all and, at the end, a
    summary (QA: only the photo under way had a progress bar and time left, and the end passed
    without a word)."""

    photos: set[Path]  # those it restores, in any order
    started: float
    ended: set[Path] = dataclasses.field(default_factory=set)
    restored: set[Path] = dataclasses.field(default_factory=set)
    left_out: set[Path] = dataclasses.field(default_factory=set)  # with no face, or every face off: not run
    removed: set[Path] = dataclasses.field(default_factory=set)  # taken off the filmstrip while it ran

    def progress_text(self, *, current: Path | None = None, fraction: float = 0.0,
                      faces: Mapping[Path, int] | None = None) -> str:
        """"Photo 3 of 27 (about 2 min left in all) · ", to put before a restore's own progress:
        ``fraction`` of photo ``current`` is done. The time left counts the work in faces (``faces``:
        each photo's, where known; a photo of 4 faces takes about 4 times one of 1) and the part of
        the photo under way that is done (slow-laptop QA: counted in whole photos, it was wrong by up
        to 2.5×, and rose while a photo ran)."""
        done, count = len(self.ended), len(self.photos)
        known = {path: max(1, n) for path, n in (faces or {}).items() if path in self.photos}
        usual = sum(known.values()) / len(known) if known else 1.0
        work = {path: known.get(path, usual) for path in self.photos}
        finished = sum(work[path] for path in self.ended & self.photos)
        if current in work and current not in self.ended:
            finished += min(max(fraction, 0.0), 1.0) * work[current]
        left = time_left_of(time.monotonic() - self.started, finished / sum(work.values()) if work else 1.0)
        return f"Photo {min(done + 1, count)} of {count}" + (f" ({left} in all)" if left else "") + " · "
