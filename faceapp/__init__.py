"""faceapp: repair faces in old, blurry or damaged photos with DifFace."""

import os

__version__ = "0.1.0"

# OpenCV's warnings about a file ("TIFF_Warning …") went to the terminal amid faceapp's own output;
# faceapp says what is wrong with a photo itself (format QA). A user's own setting stands.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
