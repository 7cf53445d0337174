"""Download one file over HTTP(S) with resume, progress, cancellation and checksum.

The file is written to ``<dest>.part`` and renamed onto ``dest`` only once it is complete and
verified, so ``dest`` is either absent or whole. An interrupted or cancelled download keeps its
``.part`` file; the next call resumes it with an HTTP ``Range`` request (servers that ignore
``Range`` answer 200 and the download restarts from zero). Uses ``urllib`` only; ``file://``
URLs work too (local mirrors), without resume.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import logging
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from faceapp.core.errors import Cancelled, CorruptModelError, ModelDownloadError
from faceapp.core.file_digest import file_sha256
from faceapp.core.file_lock import lock_exclusively
from faceapp.core.tempfiles import replace_file
from faceapp.core.wording import human_size

log = logging.getLogger(__name__)

#: ``progress(bytes_done, bytes_total_or_None)``, called after every chunk.
ProgressCallback = Callable[[int, "int | None"], None]

CHUNK_SIZE = 1 << 20
#: The most bytes a file whose size its manifest does not state may have (the official network's
#: weights are ~640 MB): a server that sends without end stops there, not at a full disk (security QA).
MAX_UNSTATED_BYTES = 4 << 30
USER_AGENT = "faceapp-model-downloader"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class _ConnectionLost(Exception):
    """The response ended early; the .part file holds what arrived. ``appended``: it went on from
    bytes the part held before this response (False: the response wrote it from its first byte)."""

    appended = True


def partial_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept."""
    return dest.with_name(dest.name + ".part")


def download_file(
    url: str,
    dest: Path,
    *,
    expected_size: int | None = None,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timeout: float = 30.0,
    retries: int = 2,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``) and return ``dest``.

    ``expected_size`` (bytes) and ``sha256`` (hex) are checked when given (0 / "" mean unknown).
    A dropped connection is resumed up to ``retries`` times before giving up.

    Raises:
        Cancelled: ``should_cancel()`` returned true; the ``.part`` file is kept for a resume.
        ModelDownloadError: network or HTTP error, or the disk is full / not writable.
        CorruptModelError: the finished file has the wrong size or checksum (it is removed).
    """
    dest = Path(dest)
    part = partial_path(dest)
    expected_size = expected_size or None
    sha256 = (sha256 or "").lower() or None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, dest.parent) from exc
    with _sole_download(part, dest.name):
        if expected_size and part.stat().st_size > expected_size:
            os.truncate(part, 0)  # longer than the real file: cannot be a prefix of it (emptied, not
            # deleted: the lock is on this file)
        kept_from_before = part.stat().st_size > 0  # (a part an earlier run left)
        attempt = 0
        while True:
            try:  # (a server that ignored the Range, or a part that was no prefix: fetched whole after all)
                kept_from_before = _fetch_into(url, part, expected_size, progress, should_cancel, timeout) \
                    and kept_from_before
                break
            except _ConnectionLost as exc:
                kept_from_before = kept_from_before and exc.appended  # (restarted, then cut: review)
                if attempt >= retries:
                    raise ModelDownloadError(
                        f"The connection to {_host(url)} dropped while downloading {dest.name} "
                        f"({exc}). What arrived is kept; run the download again to resume."
                    ) from None
                attempt += 1
                log.warning("download of %s interrupted (%s); resuming (try %d)", url, exc, attempt)
        try:
            _check_complete(part, dest.name, expected_size, sha256, resumed=kept_from_before)
            replace_file(part, dest)
        except FileNotFoundError:  # (removed by hand, or by a program that ignores the lock: concurrency QA,
            raise ModelDownloadError(f"The partial download of {dest.name} was removed while it ran: "  # a traceback)
                                     "run the download again.") from None
    return dest


@contextlib.contextmanager
def _sole_download(part: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock on ``part`` (made if missing) for the block: a second download of the
    same file, from another window or a faceapp-cli run, is refused instead of appending its bytes
    to the same file (review: the checksum then failed and the whole partial download was lost). An
    empty ``part`` made here goes again when the block ends without a byte (offline: no "partial"
    state left behind). Where there are no locks (:mod:`faceapp.core.file_lock`), nothing is locked."""
    made = not part.exists()
    try:
        handle = open(part, "ab")  # noqa: SIM115 (held across the block)
    except OSError as exc:
        raise _disk_error(exc, part) from exc
    try:
        locked = lock_exclusively(handle)[0]
        if locked == "held":
            raise ModelDownloadError(f"{name} is being downloaded already (by another faceapp window or "
                                     "command): wait for that download to finish.")
        if locked == "unavailable":  # nothing to hold, and Windows (no fcntl) cannot rename or remove a
            handle.close()           # file that is open: every download failed at its last step (review)
        yield
    finally:
        if made and part.exists() and part.stat().st_size == 0:
            part.unlink(missing_ok=True)  # (while the lock is held: no other download is writing it)
        handle.close()


def being_downloaded(part: Path) -> bool:
    """Whether a download (of this process or another) holds ``part``'s lock now (:func:`_sole_download`)."""
    try:
        handle = open(part, "rb")  # noqa: SIM115 (closed below; flock takes no write access)
    except OSError:
        return False
    with handle:
        return lock_exclusively(handle)[0] == "held"


def _fetch_into(url, part, expected_size, progress, should_cancel, timeout) -> bool:
    """Append the rest of ``url`` to ``part``; return when the body is complete: whether the file
    went on from bytes ``part`` held already (False: it was fetched from its first byte)."""
    have = part.stat().st_size if part.exists() else 0
    if expected_size and have == expected_size:
        return True  # an earlier run finished the transfer but not the verification
    if should_cancel and should_cancel():
        raise Cancelled("Download cancelled.")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            if _range_total(exc) == have:
                return True  # the partial file is already the whole file
            os.truncate(part, 0)  # not a prefix of this file: start over (the same, locked file)
            return _fetch_into(url, part, expected_size, progress, should_cancel, timeout)
        raise ModelDownloadError(
            f"Downloading {url} failed: the server answered HTTP {exc.code} {exc.reason}."
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _network_error(url, exc, resumes=have > 0) from None
    with response:
        start, total = _resume_offset(response, have, expected_size)
        mode = "ab" if start else "wb"
        if have and not start:
            log.info("%s ignored the Range request; restarting %s", _host(url), part.name)
        most = expected_size or MAX_UNSTATED_BYTES
        if total is not None and total > most:  # (said before a byte is written)
            raise _too_long(url, part, most, f"announces a file of {total} bytes", stated=bool(expected_size))
        try:
            _copy_body(response, part, mode, start, total, progress, should_cancel, most=most, url=url,
                       stated=bool(expected_size))
        except _ConnectionLost as lost:
            lost.appended = start > 0
            raise
    return start > 0


def _range_total(exc: urllib.error.HTTPError) -> int | None:
    """The file size a 416 answer states in ``Content-Range: bytes */N``, if any."""
    match = re.search(r"/(\d+)\s*$", (exc.headers or {}).get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _resume_offset(response, have: int, expected_size: int | None) -> tuple[int, int | None]:
    """(byte offset the body starts at, total file size or None) for this response."""
    status = getattr(response, "status", None)
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == have:
            total = match.group(3)
            return have, int(total) if total != "*" else expected_size
        raise ModelDownloadError(
            "The download server answered a resume request with the wrong part of the file. "
            "Delete the .part file and try again."
        )
    return 0, length if length is not None else expected_size


def _too_long(url: str, part: Path, most: int, how: str, *, stated: bool) -> CorruptModelError:
    """The error for a server that sends more than the file can have (``most`` bytes: the size its
    manifest ``stated``, else :data:`MAX_UNSTATED_BYTES`), the part emptied (its bytes are no prefix
    of the file; emptied, not removed: the lock is on it)."""
    try:
        os.truncate(part, 0)
    except OSError:
        pass
    limit = (f"the {most} bytes the file has" if stated else
             f"the {human_size(most)} faceapp takes for a file whose size its manifest does not state")
    return CorruptModelError(f"{_host(url)} {how}, more than {limit}: it is not the file (a wrong address, or a "
                             "server misbehaving). Nothing was kept.")


def _copy_body(response, part, mode, start, total, progress, should_cancel, *, most: int, url: str,
               stated: bool) -> None:
    """Write the response's body into ``part`` from byte ``start``, stopping with an error past ``most`` bytes."""
    done = start
    if progress:
        progress(done, total)
    try:
        with open(part, mode) as out:
            while True:
                if should_cancel and should_cancel():
                    raise Cancelled("Download cancelled; it will resume where it stopped.")
                try:
                    # whatever has arrived, up to a chunk: a slow server's bytes are written (and a
                    # cancel seen) as they come, not once a whole MiB is in (QA: cancel took 23 s)
                    chunk = response.read1(CHUNK_SIZE)
                except http.client.IncompleteRead as exc:
                    out.write(exc.partial)
                    raise _ConnectionLost(f"{done + len(exc.partial)} bytes received") from None
                except (OSError, http.client.HTTPException) as exc:
                    raise _ConnectionLost(str(exc) or type(exc).__name__) from None
                if not chunk:
                    break
                if done + len(chunk) > most:
                    out.close()
                    raise _too_long(url, part, most, f"sent a file of over {done + len(chunk)} bytes",
                                    stated=stated)
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise _disk_error(exc, part) from exc
    if total is not None and done < total:
        raise _ConnectionLost(f"{done} of {total} bytes received")


def _check_complete(part: Path, name: str, expected_size: int | None, sha256: str | None, *,
                    resumed: bool = False) -> None:
    """Refuse (and remove) a finished download of the wrong size or checksum. ``resumed``: it went
    on from a partial file kept from an earlier run, the likelier culprit than the server (QA)."""
    size = part.stat().st_size
    if expected_size and size != expected_size:
        part.unlink()
        raise CorruptModelError(
            f"The download of {name} has {size} bytes instead of {expected_size}; it was "
            "removed. Try again, or get the file another way and import it."
        )
    if sha256:
        actual = file_sha256(part)
        if actual != sha256:
            part.unlink()
            advice = ("It went on from the part downloaded before, which may have been damaged since: run the "
                      "download again (it starts from the beginning)." if resumed else
                      "Try again later; if it keeps happening the server is serving a different file.")
            raise CorruptModelError(
                f"The download of {name} does not match its checksum (sha256 {actual}, "
                f"expected {sha256}); it was removed. {advice}"
            )


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _network_error(url: str, exc: BaseException, *, resumes: bool = False) -> ModelDownloadError:
    """The error for a server that could not be reached, in words (QA: "[Errno -2] Name or service
    not known" offline); ``resumes``: part of the file is here, and the next try goes on from it."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        what = "the connection timed out"
    elif isinstance(reason, socket.gaierror):
        what = "its name could not be looked up (this computer seems to be offline, or its DNS is not answering)"
    elif isinstance(reason, ConnectionRefusedError):
        what = "it refused the connection"
    else:
        what = f"the connection failed ({reason})"
    return ModelDownloadError(
        f"Could not reach {_host(url)}: {what}. Check the internet connection (or proxy) and try again"
        + ("; the download goes on from where it stopped." if resumes else ".")
    )


def _disk_error(exc: OSError, where: Path) -> ModelDownloadError:
    if exc.errno == errno.ENOSPC:
        return ModelDownloadError(
            f"The disk holding {where.parent} is full. Free some space (or set "
            "FACEAPP_WEIGHTS_DIR to a folder on another disk) and run the download again; it "
            "resumes where it stopped."
        )
    return ModelDownloadError(f"Cannot write {where}: {exc.strerror or exc}.")
