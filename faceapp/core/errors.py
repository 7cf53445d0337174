"""Named exceptions with messages a user can act on.

Every error faceapp raises on purpose derives from :class:`FaceappError`; its ``str()`` is the
message shown to the user (GUI notification, CLI stderr). Tracebacks go to the log only. Its
``kind`` says what went wrong in a word a script can test (``faceapp-cli --json``'s ``error_kind``).
"""


class FaceappError(Exception):
    """Base class of every error faceapp reports to the user."""

    kind = "other"


class Cancelled(FaceappError):
    """The user cancelled the job; nothing was written and no state was kept."""

    kind = "cancelled"

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


# --- models and weights -------------------------------------------------------------------
class ModelError(FaceappError):
    """A model could not be found, fetched, verified or loaded.

    ``missing``: where it is a known model's files, its title and what is wrong with them (e.g.
    ``"x.pth (damaged)"``), for front-ends that say it in their own words (the message's advice is
    the CLI's)."""

    missing: tuple[str, str] | None = None
    kind = "model"


class ModelNotFoundError(ModelError):
    """No manifest with that name, or its weight files are not installed."""


class ModelDownloadError(ModelError):
    """A weight file could not be downloaded (network, HTTP error, disk)."""


class CorruptModelError(ModelError):
    """A weight file is truncated, fails its checksum or cannot be parsed."""


class ArchitectureMismatchError(ModelError):
    """A weight file parses but its keys or shapes do not fit the declared network."""


class UnsafeCheckpointError(CorruptModelError):
    """A checkpoint would need to unpickle arbitrary code; it is refused."""


# --- devices -------------------------------------------------------------------------------
class DeviceError(FaceappError):
    """The requested compute device is unavailable or ran out of memory."""

    kind = "device"


class OutOfMemoryError(DeviceError):
    """The device ran out of memory; the message names a next step."""


# --- photos --------------------------------------------------------------------------------
class ImageError(FaceappError):
    """A photo could not be read (missing, unreadable, truncated, wrong format)."""

    kind = "unreadable"


class PhotoTooLargeError(ImageError):
    """A photo is larger than faceapp accepts (its pixels, or the memory its restore needs)."""

    kind = "too_large"


class FaceGeometryError(ImageError):
    """A photo or face cannot be aligned: a photo too small to hold a face, a face box far outside
    it, an "aligned crop" that is not square."""

    kind = "face"


class NoFaceFoundError(FaceappError):
    """No face was detected in a photo."""

    kind = "no_face"


class DetectorUnavailableError(FaceappError):
    """The face detector's weights are missing and cannot be fetched."""

    kind = "detector"


class ExportError(FaceappError):
    """A result could not be written (read-only folder, full disk, existing file)."""

    kind = "write"


class NamePatternError(ExportError):
    """A result's name pattern cannot name a file; ``reason`` says what is wrong with it (an unknown
    field, an unbalanced brace, a slash), for a front end that words the rest itself."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"bad output name pattern {pattern!r}: {reason}")
        self.pattern = pattern
        self.reason = reason


class ManifestError(ModelError):
    """A model manifest is missing a field, has a wrong value or cannot be parsed."""


class MaskError(ImageError):
    """A damage mask could not be read or does not fit its photo."""

    kind = "mask"
