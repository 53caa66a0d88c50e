"""The candidate tree: probe, plans, diversity candidates and their repairs, each with its
origin, a status glyph and its energy; the selected node's code and its diff to its parent."""

from __future__ import annotations

import difflib

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from engine.state import CandidateState, TaskState
from widgets.text import printable

_GENERATING = frozenset({"probe", "implement", "diversity", "repair"})


def candidate_glyph(candidate: CandidateState) -> Text:
    """◌ not tested yet; ✔/✘ on the public examples, then self-tests as a second glyph."""
    if candidate.public.total == 0 and candidate.self_tests.total == 0:
        return Text("◌", style="dim")
    glyph = Text()
    if candidate.public.total:
        ok = candidate.public.all_passed
        glyph.append("✔" if ok else "✘", style="green" if ok else "red")
    if candidate.self_tests.total:
        ok = candidate.self_tests.all_passed
        glyph.append("✔" if ok else "✘", style="green" if ok else "yellow")
    return glyph


def candidate_label(candidate: CandidateState, *, selected: bool, submitted: bool) -> Text:
    text = candidate_glyph(candidate)
    text.append(f" {candidate.candidate_id}", style="bold")
    text.append(f" {candidate.label or candidate.origin}", style="dim")
    if candidate.public.total:
        text.append(f" {candidate.public.passed}/{candidate.public.total}")
    if candidate.self_tests.total:
        text.append(f" self {candidate.self_tests.passed}/{candidate.self_tests.total}")
    if candidate.energy is not None:
        text.append(f" E={candidate.energy:.2f}", style="cyan")
    if candidate.edited:
        text.append(" edited", style="magenta")
    if submitted:
        text.append(" ★ submitted", style="bold green")
    elif selected:
        text.append(" ◆ selected", style="bold")
    return text


def diff_to_parent(state: TaskState, candidate: CandidateState) -> str:
    parent = state.candidates.get(candidate.parent_id or "")
    if parent is None:
        return ""
    lines = difflib.unified_diff(
        parent.code.splitlines(keepends=True),
        candidate.code.splitlines(keepends=True),
        fromfile=parent.candidate_id,
        tofile=candidate.candidate_id,
    )
    return "".join(lines)


class CandidateTree(Vertical):
    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane
    class Chosen(Message):
        def __init__(self, candidate_id: str | None) -> None:
            super().__init__()
            self.candidate_id = candidate_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Candidates"
        self._state: TaskState | None = None
        self._drawn_state: TaskState | None = None
        self._drawn_key: object = None
        self.chosen_id: str | None = None
        self.code_theme = "ansi_dark"  # the app sets "ansi_light" under a light theme
        self.follow = True  # show the newest candidate until a person picks one
        self._code_key: object = None
        self._tree_nodes: dict[str, TreeNode[str]] = {}

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("candidates", id="candidate-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        with VerticalScroll(id="candidate-code-scroll"):
            yield Static("", id="candidate-code")
            yield Static("", id="candidate-diff")

    @property
    def tree(self) -> Tree[str]:  # type: ignore[override]  # DOMNode.tree is a rich Tree of
        # the DOM for debugging; here the name means the widget a person reads
        return self.query_one("#candidate-tree", Tree)

    def show(self, state: TaskState | None) -> None:
        self._state = state
        if state is None or state.task_id != getattr(self._drawn_state, "task_id", None):
            self.follow = True  # another task: follow it from its start
        self._drawn_state = state
        if state is None:
            self.tree.clear()
            self._tree_nodes = {}
            self._drawn_key = None
            self.choose(None)
            return
        generating = tuple(
            (s.stream_id, s.purpose) for s in state.streams.values()
            if not s.finished and s.purpose in _GENERATING
        )
        key = (state.task_id, state.candidates, state.selected, state.submitted, generating)
        if key == self._drawn_key:
            return  # folded state is structurally shared: same objects, nothing changed
        self._drawn_key = key
        target = self.chosen_id
        if self.follow or target not in state.candidates:
            latest = list(state.candidates)[-1] if state.candidates else None
            target = state.submitted.candidate_id if state.submitted else latest
        self._rebuild(state, generating)
        if target != self.chosen_id:
            self.choose(target)
        else:
            self._put_cursor(target)
            if target is not None and target in state.candidates:
                self._show_code(state.candidates[target])

    def _put_cursor(self, candidate_id: str | None) -> None:
        """Move the tree's cursor to a node. The highlight message this sends names the chosen
        candidate, so the handler below knows it was not a person's move."""
        node = self._tree_nodes.get(candidate_id or "")
        if node is not None and self.tree.cursor_node is not node:
            # after the refresh: a rebuilt tree knows its nodes' lines only once drawn
            self.tree.call_after_refresh(self.tree.move_cursor, node, animate=False)

    def _rebuild(self, state: TaskState, generating: tuple[tuple[str, str], ...]) -> None:
        tree = self.tree
        tree.clear()
        selected = state.selected.candidate_id if state.selected else None
        submitted = state.submitted.candidate_id if state.submitted else None
        nodes: dict[str, TreeNode[str]] = {}
        for candidate in state.candidates.values():  # creation order: parents come first
            parent = nodes.get(candidate.parent_id or "", tree.root)
            label = candidate_label(
                candidate,
                selected=candidate.candidate_id == selected,
                submitted=candidate.candidate_id == submitted,
            )
            nodes[candidate.candidate_id] = parent.add(
                label, data=candidate.candidate_id, expand=True, allow_expand=False
            )
        for stream_id, purpose in generating:
            label = Text.assemble(("▶ ", "yellow"), (purpose, "bold"), (f" {stream_id}", "dim"))
            tree.root.add_leaf(label, data=None)
        tree.root.expand_all()
        self._tree_nodes = nodes

    def choose(self, candidate_id: str | None, *, by_person: bool = False) -> None:
        if by_person:
            self.follow = False
        self.chosen_id = candidate_id
        self._put_cursor(candidate_id)
        state = self._state
        candidate = state.candidates.get(candidate_id or "") if state else None
        if candidate is None:
            self._code_key = None
            self.query_one("#candidate-code", Static).update("")
            self.query_one("#candidate-diff", Static).update("")
        else:
            self._show_code(candidate)
        self.post_message(self.Chosen(candidate_id))

    def _show_code(self, candidate: CandidateState) -> None:
        assert self._state is not None
        parent = self._state.candidates.get(candidate.parent_id or "")
        key = (candidate.candidate_id, candidate.code, parent.code if parent else None,
               self.code_theme)
        if key == self._code_key:
            return  # the same code: no redraw (an update would cost a layout pass)
        self._code_key = key
        code = Syntax(printable(candidate.code) or "# (no code)", "python", line_numbers=True,
                      theme=self.code_theme)
        self.query_one("#candidate-code", Static).update(code)
        diff = printable(diff_to_parent(self._state, candidate))
        diff_view = (
            Syntax(diff, "diff", theme=self.code_theme)
            if diff
            else Text("(no parent: nothing to diff)", style="dim")
        )
        self.query_one("#candidate-diff", Static).update(diff_view)

    @on(Tree.NodeHighlighted, "#candidate-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        # Only a person moves a focused tree's cursor; the moves this widget makes itself (and
        # the highlights they send, which arrive later) are not choices.
        if self.tree.has_focus and event.node.data not in (None, self.chosen_id):
            self.choose(event.node.data, by_person=True)
