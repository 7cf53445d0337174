"""The only place where numpy arrays and Qt images meet.

Every conversion copies, so neither side can see the other's memory change underneath it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """An HxWx3 uint8 RGB array (and optional HxW uint8 alpha) as an independent QImage.

    Qt allocates the image and numpy copies the pixels into it: numpy lets other Python threads
    run while it copies, where ``QImage.copy()`` would hold the GIL (about 250 ms on a 96 MP
    image, during which the UI thread could not run).
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    if alpha is not None and alpha.shape != (height, width):
        raise ValueError(f"alpha shape {alpha.shape} does not match the image {rgb.shape[:2]}")
    channels = 3 if alpha is None else 4
    fmt = QImage.Format.Format_RGB888 if alpha is None else QImage.Format.Format_RGBA8888
    image = QImage(width, height, fmt)
    if width == 0 or height == 0:
        return image
    if image.isNull():  # Qt could not allocate it (memory QA: "a bytes-like object is required, not 'NoneType'")
        raise MemoryError(f"cannot allocate a {width}×{height} image to show")
    rows = np.frombuffer(image.bits(), dtype=np.uint8, count=image.sizeInBytes())
    pixels = rows.reshape(height, image.bytesPerLine())[:, : channels * width].reshape(height, width, channels)
    pixels[..., :3] = rgb
    if alpha is not None:
        pixels[..., 3] = alpha
    return image


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an HxWx3 uint8 RGB array (alpha dropped)."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width = converted.height(), converted.width()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3).copy()


#: Qt's formats of more than 8 bits per channel (a 16-bit PNG copied, a wide-gamut screenshot).
_DEEP_FORMATS = frozenset({QImage.Format.Format_RGBX64, QImage.Format.Format_RGBA64,
                           QImage.Format.Format_RGBA64_Premultiplied, QImage.Format.Format_RGBX16FPx4,
                           QImage.Format.Format_RGBA16FPx4, QImage.Format.Format_RGBA16FPx4_Premultiplied,
                           QImage.Format.Format_RGBX32FPx4, QImage.Format.Format_RGBA32FPx4,
                           QImage.Format.Format_RGBA32FPx4_Premultiplied, QImage.Format.Format_A2BGR30_Premultiplied,
                           QImage.Format.Format_A2RGB30_Premultiplied, QImage.Format.Format_BGR30,
                           QImage.Format.Format_RGB30, QImage.Format.Format_Grayscale16})


def qimage_to_arrays(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """A QImage as an HxWx3 RGB array and its HxW alpha (None where it has none, or is opaque
    throughout), both uint16 from an image of more than 8 bits per channel, else uint8
    (drag-and-drop QA: a pasted image's transparency came back black, its 16 bits cut to 8)."""
    deep = image.format() in _DEEP_FORMATS
    has_alpha = image.hasAlphaChannel()
    fmt = ((QImage.Format.Format_RGBA64 if has_alpha else QImage.Format.Format_RGBX64) if deep
           else QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888)
    dtype, channels = (np.uint16, 4) if deep else (np.uint8, 4 if has_alpha else 3)
    converted = image.convertToFormat(fmt)  # (unpremultiplied: the colours as they are seen)
    height, width = converted.height(), converted.width()
    size = np.dtype(dtype).itemsize
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())[:, : channels * size * width]
    pixels = rows.copy().view(dtype).reshape(height, width, channels)
    rgb = np.ascontiguousarray(pixels[..., :3])
    alpha = np.ascontiguousarray(pixels[..., 3]) if has_alpha else None
    if alpha is not None and alpha.min() == np.iinfo(dtype).max:  # a format with alpha, every pixel opaque
        alpha = None
    return rgb, alpha


def rgb_to_pixmap(rgb: np.ndarray, *, max_side: int | None = None, device_pixel_ratio: float = 1.0) -> QPixmap:
    """An RGB array as a pixmap, optionally scaled so that it is drawn with its longer side
    ``max_side`` logical pixels long.

    ``device_pixel_ratio``: the screen's (a widget's ``devicePixelRatioF()``). The pixmap then has
    ``max_side × ratio`` pixels and says so, so on a high-DPI screen it is drawn ``max_side``
    logical pixels wide at full sharpness; a smaller image is enlarged to that (QA: a 256 px face
    came out 128 logical pixels wide in a preview of 144 at 200 %, in a dark frame)."""
    pixmap = QPixmap.fromImage(rgb_to_qimage(rgb))
    ratio = max(1.0, float(device_pixel_ratio))
    if max_side is not None and max(pixmap.width(), pixmap.height()) != round(max_side * ratio):
        side = round(max_side * ratio)
        pixmap = pixmap.scaled(
            side,
            side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def rgb_to_thumbnail(rgb: np.ndarray, max_side: int) -> QImage:
    """A small QImage of an RGB array, its longer side ``max_side`` (never enlarged).

    Cheap on large photos: rows and columns are first thinned to about four times the target
    size, then smoothly scaled. Safe to call off the UI thread (QImage, not QPixmap).
    """
    step = max(1, max(rgb.shape[:2]) // (4 * max_side))
    image = rgb_to_qimage(rgb[::step, ::step])
    if max(image.width(), image.height()) <= max_side:
        return image
    return image.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def mask_to_qimage(mask: np.ndarray, rgba: tuple[int, int, int, int]) -> QImage:
    """An HxW uint8 mask as an indexed QImage: non-zero pixels in the colour ``rgba``, the rest clear.

    One copy of the mask's bytes, so redrawing a mask while it is painted stays cheap.
    """
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise ValueError(f"expected an HxW uint8 mask, got {mask.dtype} {mask.shape}")
    height, width = mask.shape
    image = QImage(width, height, QImage.Format.Format_Indexed8)
    red, green, blue, alpha = rgba
    marked = (alpha << 24) | (red << 16) | (green << 8) | blue
    image.setColorTable([0] + [marked] * 255)
    if width and height:
        _mask_rows(image)[:, :width] = mask
    return image


def _mask_rows(image: QImage) -> np.ndarray:
    """The rows of an indexed QImage's bytes (a view, with each row's padding)."""
    rows = np.frombuffer(image.bits(), dtype=np.uint8, count=image.sizeInBytes())
    return rows.reshape(image.height(), image.bytesPerLine())


def put_mask_region(image: QImage, mask: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Write ``mask``'s pixels in ``box`` (x0, y0, x1, y1) into ``image``, made from a mask of its
    size by :func:`mask_to_qimage`: a stroke's move redraws only where it painted."""
    left, top, right, bottom = box
    if right > left and bottom > top:
        _mask_rows(image)[top:bottom, left:right] = mask[top:bottom, left:right]
