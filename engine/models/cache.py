"""Where catalogue models live on this machine, and what is known about each file there.

Layout, under `ATLAS_CACHE_DIR` or platformdirs' user cache folder for "atlas-tui":

    models/<file>.gguf           the assembled, verified model: the only file ever loaded
    models/<file>.gguf.verified  a stamp written after a full digest check (JSON)
    models/<file>.gguf.partial   an assembly in progress (an interrupted pull resumes from it)
    models/.<file>.lock          held while a pull of that model runs

The stamp lets set-up and start-up trust a file without reading it: it holds the digest that
was checked and the size and modification time of the file it was checked on, so any later
write to the file voids it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from engine.models.catalogue import CatalogueModel

APP_NAME = "atlas-tui"


def cache_root() -> Path:
    override = os.environ.get("ATLAS_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME))


@dataclass(frozen=True, slots=True)
class ModelCache:
    folder: Path

    @classmethod
    def default(cls) -> ModelCache:
        return cls(cache_root() / "models")

    def path(self, entry: CatalogueModel) -> Path:
        return self.folder / entry.file_name

    def stamp_path(self, entry: CatalogueModel) -> Path:
        return self.folder / f"{entry.file_name}.verified"

    def partial_path(self, entry: CatalogueModel) -> Path:
        return self.folder / f"{entry.file_name}.partial"

    def lock_path(self, entry: CatalogueModel) -> Path:
        return self.folder / f".{entry.file_name}.lock"

    def verified(self, entry: CatalogueModel) -> Path | None:
        """The model's file when a full check stamped it and nothing has touched it since;
        reads no model bytes."""
        path = self.path(entry)
        try:
            stat = path.stat()
            stamp = json.loads(self.stamp_path(entry).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        fresh = (stat.st_size == entry.size and stamp.get("sha256") == entry.sha256
                 and stamp.get("size") == stat.st_size
                 and stamp.get("mtime_ns") == stat.st_mtime_ns)
        return path if fresh else None

    def stamp(self, entry: CatalogueModel) -> None:
        """Record that the file was just checked in full against the pinned digest."""
        stat = self.path(entry).stat()
        record = {"sha256": entry.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                  "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        temp = self.stamp_path(entry).with_suffix(".tmp")
        temp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temp, self.stamp_path(entry))

    def unstamp(self, entry: CatalogueModel) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.stamp_path(entry).unlink()

    def state(self, entry: CatalogueModel) -> str:
        """For listings: verified, unverified (there, not checked since), partial or absent."""
        if self.verified(entry):
            return "verified"
        if self.path(entry).exists():
            return "unverified"
        return "partial" if self.partial_path(entry).exists() else "absent"

    def remove(self, entry: CatalogueModel) -> list[Path]:
        """Delete the model and everything a pull left for it; the paths that were there."""
        removed = []
        for path in (self.stamp_path(entry), self.path(entry), self.partial_path(entry),
                     self.lock_path(entry)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
        return removed
