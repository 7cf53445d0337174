"""The app's log file, ``faceapp.log``, rotated at a size, shared by the windows open at once (no Qt)."""

from __future__ import annotations

import logging.handlers
import os

#: Bytes the log reaches before it is rotated, and how many earlier logs are kept beside it.
LOG_BYTES = 2_000_000
LOG_BACKUPS = 3


class SharedLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log that goes on where it cannot be rotated now.

    Windows cannot rename a file another process holds open, and a second faceapp window holds the
    log: the standard handler then lost every later record, printing "Logging error" for each
    (portability QA). Here the record is written to the log as it is, and rotation is tried again
    once the log has grown by a quarter of its size limit more.
    """

    def __init__(self, filename: str, *, max_bytes: int = LOG_BYTES, backups: int = LOG_BACKUPS) -> None:
        # (a file name that is not UTF-8, kept by Python as surrogates, is written with its bytes as \\udcNN:
        # strictly encoded, such records were lost with a "Logging error" on stderr; locale QA)
        super().__init__(filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8",
                         errors="backslashreplace")
        self._retry_at = 0  # the size the log must reach before a rotation refused is tried again

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 (logging's name)
        if self._retry_at and self.stream is not None and self.stream.tell() < self._retry_at:
            return False
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:  # noqa: N802 (logging's name)
        """Move the log aside first, then the earlier ones along: where it cannot be moved (another
        window has it open, on Windows) nothing is moved, and the earlier logs stay (sceptic QA: the
        standard order moved them along first, and each refused rotation lost the oldest). A log set
        aside and not yet numbered (a rotation cut short) is numbered before another is set aside."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self._number_aside():
            try:
                os.replace(self.baseFilename, self._aside)
            except OSError:
                pass
            else:
                self._number_aside()  # (what stays aside is numbered at the next rotation)
                self.stream = self._open()
                self._retry_at = 0
                return
        self.stream = self._open()
        self._retry_at = self.stream.tell() + self.maxBytes // 4

    @property
    def _aside(self) -> str:
        return f"{self.baseFilename}.rotating"

    def _number_aside(self) -> bool:
        """Move the earlier logs along and the one set aside to ``.1``; whether none is left aside (sceptic
        QA: a ``.1`` another program held had the log set aside replaced at the next rotation)."""
        if not os.path.exists(self._aside):
            return True
        for number in range(self.backupCount - 1, 0, -1):
            older = f"{self.baseFilename}.{number}"
            if os.path.exists(older):
                try:
                    os.replace(older, f"{self.baseFilename}.{number + 1}")
                except OSError:
                    pass
        try:
            if self.backupCount > 0:
                os.replace(self._aside, f"{self.baseFilename}.1")
            else:
                os.remove(self._aside)
        except OSError:
            return False
        return True
