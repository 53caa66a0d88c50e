"""The queue follows the folder: real files created, changed, renamed and deleted in a temporary
folder, seen through watchdog by the real app; a burst of 100 changes processes each problem
once; editor droppings and the tool's own answers are ignored."""

from __future__ import annotations

from pathlib import Path

from ui_support import MAX_MD, SUM_MD, make_folder, wait_until

from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from widgets.queue import ProblemQueue

SIZE = (140, 40)


def problem_md(number: int, title: str = "") -> str:
    return (f"---\nid: p{number:03d}\n---\n# {title or f'Problem {number}'}\n"
            "Print the number.\n\n## Example\nInput\n```\n1\n```\nOutput\n```\n1\n```\n")


def ids(app: AtlasApp) -> set[str]:
    queue = app.query_one(ProblemQueue)
    return {e.problem_id for e in (queue.entry(k) for k in queue.shown_keys) if e}


def titles(app: AtlasApp) -> dict[str, str]:
    queue = app.query_one(ProblemQueue)
    return {e.problem_id: e.title for e in (queue.entry(k) for k in queue.shown_keys) if e}


def build(tmp_path: Path, folder: Path, *, quiet_s: float = 0.2, **config: object) -> AtlasApp:
    return create_app(folder, Config(**config), store_path=tmp_path / "s.sqlite",  # type: ignore[arg-type]
                      watch=True, animate=False, watch_quiet_s=quiet_s)


async def test_queue_follows_created_changed_renamed_and_deleted_files(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "problems")
    app = build(tmp_path, folder)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watcher is not None, "watching")
        assert ids(app) == {"sum-two", "max"}

        (folder / "new.md").write_text(problem_md(1, "Brand new"))
        await wait_until(pilot, lambda: "p001" in ids(app), "created file listed")
        assert titles(app)["p001"] == "Brand new"

        (folder / "new.md").write_text(problem_md(1, "Changed title"))
        await wait_until(pilot, lambda: titles(app).get("p001") == "Changed title", "change")

        (folder / "max.md").rename(folder / "largest.md")  # no id in it: the name is its id
        await wait_until(pilot, lambda: any("largest.md" in k for k in
                                            app.query_one(ProblemQueue).shown_keys), "rename")
        assert ids(app) == {"sum-two", "largest", "p001"}
        assert not any("max.md" in k for k in app.query_one(ProblemQueue).shown_keys)

        (folder / "new.md").unlink()
        await wait_until(pilot, lambda: "p001" not in ids(app), "deleted file dropped")

        sub = folder / "more"
        sub.mkdir()
        (sub / "deep.md").write_text(problem_md(2))
        await wait_until(pilot, lambda: "p002" in ids(app), "file in a new subfolder")


async def test_a_burst_of_100_changes_processes_each_problem_once(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "problems")
    app = build(tmp_path, folder, quiet_s=1.0)  # a burst of milliseconds, even under load
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watcher is not None, "watching")
        before = len(app.folder_changes)
        # 100 changes at once: 50 new files, each then rewritten (as an editor saving twice)
        for number in range(50):
            (folder / f"b{number:03d}.md").write_text(problem_md(number))
        for number in range(50):
            (folder / f"b{number:03d}.md").write_text(problem_md(number, f"v2 {number}"))
        await wait_until(pilot, lambda: len(ids(app)) == 52 and all(
            titles(app)[f"p{n:03d}"] == f"v2 {n}" for n in range(50)), "all 50 listed")
        for number in range(50):
            path = str((folder / f"b{number:03d}.md").resolve())
            assert app.folder.load_counts[path] == 1, f"{path} read more than once"
        loaded = [p for c in app.folder_changes[before:] for p in c.loaded]
        assert len(loaded) == len(set(loaded)) == 50
        assert str((folder / "sum.md").resolve()) not in loaded  # untouched files not reread


async def test_editor_droppings_and_our_own_answers_are_not_problems(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "problems")
    app = build(tmp_path, folder)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watcher is not None, "watching")
        (folder / ".sum.md.swp").write_text("vim swap")
        (folder / "sum.md~").write_text(SUM_MD)
        (folder / "4913").write_text("")
        (folder / "sum.answer.py").write_text("print(3)\n")
        (folder / ".atlas" / "x.md").parent.mkdir(exist_ok=True)
        (folder / ".atlas" / "x.md").write_text(MAX_MD)
        # an editor's save: write a temporary file, then rename it over the problem
        (folder / "max.md.tmp").write_text(MAX_MD.replace("Largest", "Largest saved"))
        (folder / "max.md.tmp").replace(folder / "max.md")
        await wait_until(pilot, lambda: titles(app).get("max") == "Largest saved", "saved")
        assert ids(app) == {"sum-two", "max"}
        seen = {Path(p).name for c in app.folder_changes[1:] for p in c.loaded}
        assert seen == {"max.md"}


async def test_auto_solve_queues_new_problems(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "problems")
    app = build(tmp_path, folder, auto_solve=True)
    # no model: each queued problem ends with the no-model error on its row, in turn
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watcher is not None, "watching")
        await wait_until(pilot, lambda: len(app.status_of) == 2 and all(
            s == "error" for s, _ in app.status_of.values()), "both tried")
        (folder / "new.md").write_text(problem_md(7))
        await wait_until(pilot, lambda: any(k.endswith("::p007") and s[0] == "error"
                                            for k, s in app.status_of.items()), "new one tried")


async def test_thousands_of_problems_list_filter_and_navigate(tmp_path: Path) -> None:
    import json

    folder = make_folder(tmp_path / "problems")
    rows = [{"task_id": f"HumanEval/{n}", "prompt": f'def f{n}(x):\n    """Return x."""\n',
             "entry_point": f"f{n}", "canonical_solution": "    return x\n",
             "test": "def check(c):\n    assert c(1) == 1\n"} for n in range(5000)]
    (folder / "big.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    app = build(tmp_path, folder)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.watcher is not None, "loaded and watching")
        queue = app.query_one(ProblemQueue)
        assert len(queue.shown_keys) == 5002
        await pilot.press("escape")  # the no-model screen: browsing needs no model
        queue.table.focus()
        await pilot.pause()
        await pilot.press("end")
        assert queue.highlighted_key == queue.shown_keys[-1]
        await pilot.press("slash", *"humaneval/4999", "enter")
        await pilot.pause()
        assert [k.split("::")[1] for k in queue.shown_keys] == ["HumanEval/4999"]
        await wait_until(pilot, lambda: (app.current_key or "").endswith("HumanEval/4999"),
                         "the one match highlighted")
        # a change to one small file next to the big one reads only that file
        (folder / "max.md").write_text(MAX_MD.replace("Largest", "Largest again"))
        await wait_until(pilot, lambda: app.folder.load_counts.get(
            str((folder / "max.md").resolve())) == 2, "max.md reread")
        assert app.folder.load_counts[str((folder / "big.jsonl").resolve())] == 1
