"""Colour management: a photo's embedded RGB profile (Display P3, Adobe RGB, …) ↔ sRGB.

The models were trained on sRGB faces, and the window draws sRGB. A photo whose ICC profile
describes another RGB space keeps its pixels and its profile (the background of the result is
those pixels, the file carries that profile); only what the model sees, what it returns and what
the window shows are converted, with LittleCMS through ``PIL.ImageCms`` (relative colorimetric).
A HEIF photo that states its colours by code points (primaries, transfer) instead of a profile is
converted to sRGB when it is read (:func:`nclx_to_srgb`), as there is no profile to write back.
"""

from __future__ import annotations

import functools
import io
import logging
import struct

import numpy as np
from PIL import Image, ImageCms

from faceapp.core import icc_profiles

log = logging.getLogger(__name__)


def is_srgb(icc: bytes | None) -> bool:
    """Whether pixels tagged with ``icc`` are sRGB already: no profile, one that maps every colour of
    a 9-level grid to sRGB within :data:`SRGB_TOLERANCE` (however it is named), or one LittleCMS
    cannot read. Its name alone is not trusted (QA: GIMP's "Linear sRGB" and "e-sRGB" were taken for
    sRGB, and the model was given linear light)."""
    return not icc or _maps_to_srgb(icc)


#: The most (in 8-bit levels) an sRGB profile's colours may move when converted to LittleCMS's own
#: sRGB: rounding, and the lookup tables of profiles written as tables instead of curves.
SRGB_TOLERANCE = 2
_GRID = np.stack(np.meshgrid(*[np.linspace(0, 255, 9).round()] * 3, indexing="ij"), axis=-1).reshape(1, -1, 3).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _maps_to_srgb(icc: bytes) -> bool:
    try:
        converted = _apply(_transforms(icc)[0], _GRID)
    except (ImageCms.PyCMSError, OSError, ValueError):
        log.warning("unreadable ICC profile: the pixels are taken as sRGB")
        return True
    return int(np.abs(converted.astype(np.int16) - _GRID).max()) <= SRGB_TOLERANCE


def usable(icc: bytes) -> bool:
    """Whether LittleCMS can convert RGB pixels tagged with ``icc`` to sRGB and back."""
    try:
        _transforms(icc)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return True


def to_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """HxWx3 uint8 pixels in the space of ``icc`` converted to sRGB (returned as is when that is sRGB)."""
    return rgb if is_srgb(icc) else _apply(_transforms(icc)[0], rgb)


def from_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """HxWx3 uint8 sRGB pixels converted to the space of ``icc`` (returned as is when that is sRGB)."""
    return rgb if is_srgb(icc) else _apply(_transforms(icc)[1], rgb)


@functools.lru_cache(maxsize=8)
def _profile(icc: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


@functools.lru_cache(maxsize=8)
def _transforms(icc: bytes) -> tuple[ImageCms.ImageCmsTransform, ImageCms.ImageCmsTransform]:
    """(photo space → sRGB, sRGB → photo space), built once per profile."""
    photo, srgb = _profile(icc), ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    return (ImageCms.buildTransform(photo, srgb, "RGB", "RGB", renderingIntent=intent),
            ImageCms.buildTransform(srgb, photo, "RGB", "RGB", renderingIntent=intent))


def _apply(transform: ImageCms.ImageCmsTransform, rgb: np.ndarray) -> np.ndarray:
    converted = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb)), transform)
    return np.asarray(converted)


def grey_to_srgb(rgb: np.ndarray, grey_icc: bytes) -> np.ndarray:
    """HxWx3 uint8 grey pixels (equal channels) in the space of a grey profile converted to sRGB, for
    a file that cannot hold one grey channel and so not its profile (WebP: a Gray Gamma 1.8 scan came
    out 12–19 levels darker, its profile dropped and its levels read as sRGB). An unreadable profile
    leaves the pixels as they are."""
    try:
        transform = _grey_transform(grey_icc)
    except (ImageCms.PyCMSError, OSError, ValueError):
        log.warning("unreadable grey ICC profile: the grey levels are taken as sRGB")
        return rgb
    grey = Image.fromarray(np.ascontiguousarray(rgb[..., 0]), "L")
    return np.asarray(ImageCms.applyTransform(grey, transform))


@functools.lru_cache(maxsize=4)
def _grey_transform(grey_icc: bytes) -> ImageCms.ImageCmsTransform:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return ImageCms.buildTransform(_profile(grey_icc), srgb, "L", "RGB",
                                   renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


# ---- HEIF colour given as code points (an nclx box), not as an ICC profile -------------------------

#: The nclx transfer characteristics (ITU-T H.273) decoded with the sRGB curve: sRGB (13) and
#: BT.709/BT.601 (1, 6, 14, 15), which still-image encoders use for SDR photos alike. PQ and HLG
#: (HDR: 16, 18) are left as they are.
_SRGB_LIKE_TRANSFERS = frozenset({1, 6, 13, 14, 15})
_SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
_D65 = (0.3127, 0.3290)
#: Bradford's cone response matrix (chromatic adaptation between white points).
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def nclx_to_srgb(rgb: np.ndarray, nclx: dict) -> np.ndarray | None:
    """HxWx3 uint8 pixels whose colour a HEIF file states as code points (pi-heif's
    ``nclx_profile``: the primaries' and white point's chromaticities, the transfer) converted to
    sRGB, the colours sRGB cannot show clipped; None when they are sRGB already (BT.709 primaries)
    or their transfer is not the sRGB-like curve of SDR photos. Without this, Display P3 pixels
    described so were taken as sRGB and came out washed out (QA)."""
    try:
        primaries = tuple((float(nclx[f"color_primary_{c}_x"]), float(nclx[f"color_primary_{c}_y"]))
                          for c in ("red", "green", "blue"))
        white = (float(nclx["color_primary_white_x"]), float(nclx["color_primary_white_y"]))
        transfer = int(nclx.get("transfer_characteristics", 13))
        code = int(nclx.get("color_primaries", 0))
    except (KeyError, TypeError, ValueError):
        return None
    chromaticities = [*primaries, white]
    if (code in (1, 2)  # BT.709 (sRGB's), or unspecified: libheif takes that for sRGB (its coordinates are 0)
            or transfer not in _SRGB_LIKE_TRANSFERS
            or not all(np.isfinite(xy).all() and 0 < xy[0] < 1 and 0 < xy[1] < 1 for xy in map(np.array, chromaticities))
            or _close(primaries, _SRGB_PRIMARIES) and _close((white,), (_D65,))):
        return None
    try:
        to_srgb_matrix = (np.linalg.inv(_rgb_to_xyz(_SRGB_PRIMARIES, _D65)) @ _adaptation(white, _D65)
                          @ _rgb_to_xyz(primaries, white)).T.astype(np.float32)
    except np.linalg.LinAlgError:  # primaries on one line: no RGB space
        return None
    if not np.isfinite(to_srgb_matrix).all() or np.abs(to_srgb_matrix).max() > 10:  # (real spaces: under 3)
        return None
    out = np.empty_like(rgb)
    for top in range(0, rgb.shape[0], 256):  # a band of rows at a time: a 48 MP photo in float is 576 MB
        band = _SRGB_DECODE[rgb[top : top + 256]] @ to_srgb_matrix  # uint8 → linear light by table, then the matrix
        out[top : top + 256] = _srgb_encode(band)
    log.info("colour stated by code points (primaries %s, white %s): converted to sRGB", primaries, white)
    return out


#: A PNG's gAMA within this much of sRGB's display gamma (2.2) is taken for sRGB, as viewers take it.
_SRGB_LIKE_GAMMA = 0.05
_D50 = (0.3457, 0.3585)


def png_chunks_profile(chunks: dict[bytes, bytes] | None, *, grey: bool = False) -> bytes | None:
    """An ICC profile that says what a PNG's gAMA (and cHRM) chunks say, for its result in a format
    that has no such chunks (JPEG, TIFF, WebP); ``grey``: for one grey channel. None where the PNG
    says sRGB (an sRGB chunk) or nothing else: no gamma but sRGB's, no primaries but sRGB's. A PNG
    saved by an old Mac program at gamma 1.8 came back as an untagged JPEG that viewers showed with
    darker midtones (colour QA); a PNG result keeps the chunks themselves."""
    if not chunks or b"sRGB" in chunks or len(chunks.get(b"gAMA", b"")) != 4:
        return None
    encoding = struct.unpack(">I", chunks[b"gAMA"])[0] / 100_000
    if not 0.05 <= encoding <= 5.0:  # (beyond any display's: a damaged chunk)
        return None
    gamma = 1.0 / encoding
    primaries, white = _SRGB_PRIMARIES, _D65
    if len(chunks.get(b"cHRM", b"")) == 32 and not grey:
        values = [v / 100_000 for v in struct.unpack(">8I", chunks[b"cHRM"])]
        white, primaries = (values[0], values[1]), ((values[2], values[3]), (values[4], values[5]), (values[6], values[7]))
        if not all(0 < x < 1 and 0 < y < 1 for x, y in (white, *primaries)):
            primaries, white = _SRGB_PRIMARIES, _D65
    if abs(gamma - 2.2) <= _SRGB_LIKE_GAMMA and _close(primaries, _SRGB_PRIMARIES) and _close((white,), (_D65,)):
        return None
    curve = icc_profiles.curve_tag(gamma)
    tags = [(b"desc", icc_profiles.description_tag(f"PNG gamma {gamma:.2f} (faceapp)")),
            (b"cprt", icc_profiles.text_tag("No copyright, use freely")),
            (b"wtpt", icc_profiles.xyz_tag(*_xyz(white)))]
    if grey:
        return icc_profiles.display_profile(b"GRAY", [*tags, (b"kTRC", curve)])
    try:
        matrix = _adaptation(white, _D50) @ _rgb_to_xyz(primaries, white)
    except np.linalg.LinAlgError:  # primaries on one line: no RGB space
        return None
    columns = [icc_profiles.xyz_tag(*matrix[:, i]) for i in range(3)]
    return icc_profiles.display_profile(b"RGB ", [*tags, (b"rXYZ", columns[0]), (b"gXYZ", columns[1]),
                                                  (b"bXYZ", columns[2]), (b"rTRC", curve), (b"gTRC", curve),
                                                  (b"bTRC", curve)])


def _close(a, b, tolerance: float = 0.002) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tolerance))


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def _rgb_to_xyz(primaries, white) -> np.ndarray:
    """The linear RGB → XYZ matrix of an RGB space given by its primaries' and white's xy."""
    columns = np.stack([_xyz(p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, _xyz(white))
    return columns * scale


def _adaptation(source_white, target_white) -> np.ndarray:
    """Bradford's XYZ → XYZ matrix from one white point to another (identity when they agree)."""
    source, target = _BRADFORD @ _xyz(source_white), _BRADFORD @ _xyz(target_white)
    return np.linalg.inv(_BRADFORD) @ np.diag(target / source) @ _BRADFORD


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)


_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_SRGB_DECODE = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4).astype(np.float32)
