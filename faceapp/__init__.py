"""faceapp: repair faces in old, blurry or damaged photos with DifFace."""

__version__ = "0.1.0"
