"""Printed halftone screens: found where a photo is printed with one, smoothed out there, and
nowhere else (grain, JPEG blocks, an enlarged photo, a dotted wall behind a face)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from pipeline_util import identity_engine

from faceapp.core.application import result_pixels
from faceapp.core.halftone import descreen, find_screen, power_at
from faceapp.core.photo_io import read_photo
from faceapp.core.photo_restore import PhotoSettings, restore_photo, whole_image_face
from faceapp.core.settings import SamplerSettings


def printed(rgb: np.ndarray, period: float, angles=(15.0, 75.0, 45.0), *, scan_blur: float = 0.6) -> np.ndarray:
    """``rgb`` printed as a colour halftone (each channel's ink in round dots on a screen of
    ``period`` px at its own angle) and scanned (a slight blur)."""
    height, width = rgb.shape[:2]
    y, x = np.mgrid[:height, :width].astype(np.float32)
    out = np.empty_like(rgb)
    for channel, angle in enumerate(angles):
        a = math.radians(angle)
        u, v = x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)
        threshold = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))
        out[:, :, channel] = np.where(rgb[:, :, channel] / 255.0 > threshold, 255, 0)
    return cv2.GaussianBlur(out, (0, 0), scan_blur) if scan_blur else out


def dots(rgb: np.ndarray, screen) -> float:
    """The power of ``rgb``'s brightness at ``screen``'s spectral peaks of its period and finer: its
    dots (not the coarser moiré of two inks' screens, which the blur leaves in part)."""
    own = screen.peaks[np.hypot(screen.peaks[:, 0], screen.peaks[:, 1]) >= 0.8 / screen.period]
    return power_at(rgb.astype(np.float32).mean(axis=2), own, resolution=screen.resolution)[0]


@pytest.fixture(scope="module")
def face(testdata_dir) -> np.ndarray:
    return read_photo(testdata_dir / "faces" / "Adele_crop.png").rgb


@pytest.mark.parametrize(("period", "angles"), [(3.0, (15.0, 75.0, 45.0)), (4.0, (15.0, 75.0, 45.0)),
                                                (6.0, (45.0, 45.0, 45.0)), (4.0, (0.0, 0.0, 0.0))])
def test_a_printed_photo_is_found_and_its_dots_smoothed_out(face, period, angles):
    print_scan = printed(face, period, angles)
    screen = find_screen(print_scan)
    assert screen is not None
    assert abs(screen.period - period) <= 0.15 * period and screen.share == 1.0
    assert screen.holds(print_scan, (128, 128, 384, 384))  # the face is printed with it
    smooth = descreen(print_scan, screen)
    assert smooth.dtype == np.uint8 and smooth.shape == print_scan.shape
    for top in (0, 256):  # the dots' contrast down to a tenth at most, their power to a hundredth
        assert dots(smooth[top : top + 256, 128:384], screen) <= 0.01 * dots(print_scan[top : top + 256, 128:384], screen)
    # what is left is the picture: nearer the photo printed than the dots were
    blurred = cv2.GaussianBlur(face, (0, 0), screen.sigma).astype(float)
    assert np.abs(smooth - blurred).mean() < 0.5 * np.abs(print_scan - blurred).mean()


def test_photos_and_faces_that_are_not_printed_have_no_screen(testdata_dir):
    """Nor the same faces enlarged ×2 after a JPEG at quality 30 (its blocks 16 px apart) or with
    sensor noise. (gf_Blake_Lively's magazine half is a print: the next test.)"""
    files = [p for p in sorted((testdata_dir / "photos").iterdir()) if p.name != "gf_Blake_Lively.jpg"]
    files += sorted((testdata_dir / "faces").iterdir())
    rng = np.random.default_rng(0)
    for path in files:
        rgb = read_photo(path).rgb
        _ok, jpeg = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 30])
        blocky = cv2.resize(cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        noisy = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
        for variant, image in (("as it is", rgb), ("blocky, enlarged", blocky), ("noisy", noisy)):
            assert find_screen(image) is None, (path.name, variant)


def test_only_the_printed_part_of_a_collage_is_smoothed(testdata_dir):
    """gf_Blake_Lively: a magazine's halftone child beside a modern photo."""
    rgb = read_photo(testdata_dir / "photos" / "gf_Blake_Lively.jpg").rgb
    screen = find_screen(rgb)
    assert screen is not None and 3.0 <= screen.period <= 4.5 and 0.3 <= screen.share <= 0.6
    assert screen.holds(rgb, (150, 150, 300, 300))  # the child's face
    assert not screen.holds(rgb, (450, 80, 650, 330))  # the modern photo's
    smooth = descreen(rgb, screen)
    assert np.abs(smooth[:, :300].astype(int) - rgb[:, :300]).mean() > 5  # the print: changed
    np.testing.assert_array_equal(smooth[:, 520:], rgb[:, 520:])  # a tile's feathering beyond it, untouched


@pytest.mark.parametrize("period", [3.0, 4.0, 5.0, 6.0])
@pytest.mark.parametrize("scan_blur", [0.6, 0.0])
def test_a_printed_half_beside_a_photo_leaves_the_photo_as_it_is(face, testdata_dir, period, scan_blur):
    """Review: crisp dots made so many peaks that any picture met them, and the unprinted half of
    such a collage was blurred too."""
    photo = cv2.resize(read_photo(testdata_dir / "photos" / "cf_00.jpg").rgb, (1024, 1024))
    collage = np.concatenate([printed(cv2.resize(face, (1024, 1024)), period, scan_blur=scan_blur), photo], axis=1)
    screen = find_screen(collage)
    assert screen is not None and screen.share == pytest.approx(0.5, abs=0.07)
    assert not screen.holds(collage, (1300, 300, 1800, 800))
    np.testing.assert_array_equal(descreen(collage, screen)[:, 1200:], collage[:, 1200:])


@pytest.mark.parametrize("period", [5.0, 7.0])
def test_a_face_before_a_dotted_wall_is_restored_as_it_is(face, period):
    """A dotted wall (a real, regular pattern of dots) beside a face is found as a screen, but the
    face is not printed with it: the photo is left as it is."""
    wall = printed(np.full((512, 256, 3), 150, np.uint8), period, (30.0, 30.0, 30.0), scan_blur=0.8)
    photo = np.concatenate([wall, face], axis=1)
    screen = find_screen(photo)
    assert screen is not None and not screen.holds(photo, (256 + 128, 128, 256 + 384, 384))


def test_descreen_of_16_bits_matches_the_8_bit_one(face):
    print_scan = printed(face, 4.0)
    screen = find_screen(print_scan)
    deep = print_scan.astype(np.uint16) * 257
    smooth, smooth_deep = descreen(print_scan, screen), descreen(deep, screen)
    assert smooth_deep.dtype == np.uint16
    assert np.abs(smooth_deep / 257.0 - smooth).max() <= 0.51


def test_a_restore_starts_from_the_print_with_its_dots_smoothed_out(face, tmp_path):
    """The restore of a printed photo sees, and pastes onto, the print without its dots, and says
    so in its provenance; with descreen off it sees the dots."""
    path = tmp_path / "clipping.png"
    cv2.imwrite(str(path), printed(face, 4.0)[:, :, ::-1])
    photo = read_photo(path)
    engine = identity_engine(512)
    fidelity_1 = SamplerSettings(fidelity=1.0)
    whole = whole_image_face(photo, engine)
    result = restore_photo(photo, [whole], engine, PhotoSettings(sampler=fidelity_1))
    assert result.screen is not None and result.provenance()["descreened"]["period_px"] == pytest.approx(4.0, abs=0.6)
    assert not result.grain_matched  # (what is left of the dots read as grain: QA, coloured noise on the face)
    printed_dots = dots(photo.rgb, result.screen)
    assert dots(result.composite(), result.screen) <= 0.01 * printed_dots
    kept = restore_photo(photo, [whole], engine, PhotoSettings(sampler=fidelity_1, descreen=False))
    assert kept.screen is None and "descreened" not in kept.provenance() and kept.grain_matched
    assert dots(kept.composite(), result.screen) >= 0.5 * printed_dots


def test_a_printed_16_bit_scan_keeps_its_16_bits_smoothed_as_its_8(face, tmp_path):
    """The 16-bit result of a printed 48-bit scan is the scan's 16 bits with the same smoothing
    (not the 8-bit result: the file, read again, is checked against the photo restored)."""
    path = tmp_path / "scan.png"
    deep = printed(face, 4.0).astype(np.uint16) * 257 + 100
    cv2.imwrite(str(path), deep[:, :, ::-1])
    photo = read_photo(path)
    assert photo.bits == 16
    engine = identity_engine(512)
    result = restore_photo(photo, [whole_image_face(photo, engine)], engine,
                           PhotoSettings(sampler=SamplerSettings(fidelity=1.0)))
    assert result.screen is not None
    rgb, _alpha = result_pixels(result, "PNG")
    assert rgb.dtype == np.uint16
    assert np.abs(rgb / 257.0 - result.composite()).mean() < 1.0


def test_damage_and_transparency_are_not_smeared_into_the_pixels_kept(face):
    """Review: the blur smeared a white scratch 3–4 px beyond its mask (the fill keeps all but 1 px
    of them: a bright rim around every fill) and a transparent background into a cut-out's edge."""
    print_scan = printed(face, 6.0)
    screen = find_screen(print_scan)
    clean = descreen(print_scan, screen).astype(int)
    scratched, damage = print_scan.copy(), np.zeros(face.shape[:2], np.uint8)
    scratched[:, 250:253] = 255
    damage[:, 250:253] = 255
    beside = np.s_[:, [246, 247, 248, 254, 255, 256]]  # (2–4 px from it: 1 px goes with the fill)
    smeared = descreen(scratched, screen).astype(int)
    assert (smeared[beside] - clean[beside]).mean() > 10  # brighter (as it was)
    kept = descreen(scratched, screen.keeping(damage, None)).astype(int)
    assert abs((kept[beside] - clean[beside]).mean()) < 2  # as bright as without the scratch
    cut_out, alpha = print_scan.copy(), np.full(face.shape[:2], 255, np.uint8)
    cut_out[:, :200], alpha[:, :200] = 0, 0  # transparent black left of the cut
    edge = np.s_[:, 200:204]
    cut = descreen(cut_out, screen.keeping(None, alpha))
    assert abs((cut.astype(int)[edge] - clean[edge]).mean()) < 2
    np.testing.assert_array_equal(cut[:, :200], cut_out[:, :200])  # what is hidden stays as it was (review)
    assert (descreen(cut_out, screen).astype(int)[edge] - clean[edge]).mean() < -10  # darker (as it was)


def test_a_face_before_a_brick_wall_is_not_printed(face):
    """QA: a brick wall's mortar lines (10.7 px peaks) met the face's own detail at those low
    frequencies: the face counted as printed and the whole photo was blurred by σ 4.2 px."""
    wall = np.full((700, 900, 3), (150, 70, 50), np.uint8)
    for row in range(0, 700, 20):
        wall[row : row + 3] = 200
        for column in range(0 if (row // 20) % 2 else 20, 900, 40):
            wall[row : row + 20, column : column + 3] = 200
    photo = wall.copy()
    oval = np.zeros((300, 300), np.float32)
    cv2.ellipse(oval, (150, 150), (108, 138), 0, 0, 360, 1, -1)
    oval = cv2.GaussianBlur(oval, (0, 0), 6)[:, :, None]
    photo[200:500, 300:600] = (cv2.resize(face, (300, 300), interpolation=cv2.INTER_AREA) * oval
                               + photo[200:500, 300:600] * (1 - oval)).astype(np.uint8)
    screen = find_screen(photo)
    assert screen is None or not screen.holds(photo, (345, 245, 555, 455))


def test_a_printed_face_is_found_among_its_dots(face, retinaface_dir, testdata_dir):
    """QA: half the faces of printed clippings were not found among their dots; they are looked for
    again with the dots smoothed out (with descreen on)."""
    from faceapp.core.application import detect_faces
    from faceapp.core.faces import FaceDetector
    from faceapp.core.photo_io import Photo
    from faceapp.core.preferences import Preferences

    grey = cv2.cvtColor(read_photo(testdata_dir / "faces" / "0240.png").rgb, cv2.COLOR_RGB2GRAY)
    clipping = printed(np.dstack([grey] * 3), 6.0, (45.0, 45.0, 45.0))
    photo = Photo(path=None, rgb=clipping)
    detector = FaceDetector(retinaface_dir, model="retinaface_mobile0.25")
    assert detect_faces(photo, detector, Preferences(descreen=False)).faces == []
    assert len(detect_faces(photo, detector, Preferences()).faces) == 1


def test_a_photo_is_searched_for_its_screen_once(face, monkeypatch):
    """A print restored again (another fidelity, another seed) is not searched again for its
    screen: 3.4 s of a 25 MP print's every restore (bench/README.md). Another photo is."""
    from faceapp.core import photo_restore
    from faceapp.core.photo_io import Photo

    searched = []
    real = photo_restore.find_screen
    monkeypatch.setattr(photo_restore, "find_screen", lambda rgb, **kw: searched.append(rgb) or real(rgb, **kw))
    photo = Photo(path=None, rgb=printed(face, 4.0))
    engine = identity_engine(512)
    whole = whole_image_face(photo, engine)
    for fidelity in (1.0, 0.9):
        result = restore_photo(photo, [whole], engine, PhotoSettings(sampler=SamplerSettings(fidelity=fidelity)))
        assert result.screen is not None
    assert len(searched) == 1
    other = Photo(path=None, rgb=photo.rgb.copy())
    assert restore_photo(other, [whole], engine, PhotoSettings(sampler=SamplerSettings(fidelity=1.0))).screen is not None
    assert len(searched) == 2
