"""CPU counts: every hardware thread for worker processes, every core once for decoding."""

from __future__ import annotations

from pathlib import Path

from engine.cpus import available_cores, physical_cores


def _sysfs(root: Path, siblings: dict[int, str]) -> Path:
    for cpu, listed in siblings.items():
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "thread_siblings_list").write_text(listed + "\n")
    return root


def test_hardware_threads_of_one_core_count_once(tmp_path: Path) -> None:
    sysfs = _sysfs(tmp_path, {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"})
    assert physical_cores([0, 1, 2, 3], sysfs) == 2
    assert physical_cores([0, 2], sysfs) == 1  # an affinity inside one core


def test_a_machine_without_smt_has_a_core_per_cpu(tmp_path: Path) -> None:
    # a 2-vCPU VM like CI's: llama-cpp-python's default (half the CPUs) would decode on one
    sysfs = _sysfs(tmp_path, {0: "0", 1: "1"})
    assert physical_cores([0, 1], sysfs) == 2


def test_no_topology_is_none(tmp_path: Path) -> None:
    assert physical_cores([0, 1], tmp_path) is None
    assert physical_cores([], tmp_path) is None


def test_this_machine_has_at_least_one_of_each() -> None:
    cores = physical_cores()
    assert available_cores() >= 1
    assert cores is None or 1 <= cores <= available_cores()
