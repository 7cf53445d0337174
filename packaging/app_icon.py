"""Draw faceapp's icon (``resources/icons/faceapp.svg``) as a square PNG for the bundled programs.

PyInstaller turns a PNG into the platform's own icon file with Pillow: a multi-size ``.ico`` for the
Windows programs, an ``.icns`` for the macOS app. Without one they showed PyInstaller's icon on
Windows and a blank one on macOS (portability QA). Used by ``faceapp.spec``; run by hand::

    python packaging/app_icon.py resources/icons/faceapp.svg /tmp/faceapp.png
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Pixels a side: a Retina Dock icon's (a Windows .ico holds 256 at most: PyInstaller scales it down).
ICON_SIZE = 512
_APPLICATION: list = []  # the Qt application made to draw with, where there was none


def write_icon(svg: Path, dest: Path, *, size: int = ICON_SIZE) -> Path:
    """Render ``svg`` into a ``size``² PNG with a transparent background at ``dest``; returns ``dest``."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:  # (Qt draws only with an application; kept while drawing)
        _APPLICATION.append(QGuiApplication(["app_icon", "-platform", "offscreen"]))
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG Qt can draw")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(dest), "PNG"):
        raise OSError(f"cannot write {dest}")
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python packaging/app_icon.py ICON.svg OUT.png")
    try:
        print(write_icon(Path(sys.argv[1]), Path(sys.argv[2])))
    except (ValueError, OSError) as exc:
        raise SystemExit(f"app_icon: {exc}") from None
