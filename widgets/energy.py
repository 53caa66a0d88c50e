"""The Lens energy ranking: candidates sorted by energy (lower is more likely correct), a bar
per candidate, the chosen one marked, and the behaviour cluster each belongs to."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from engine.state import TaskState

BAR_WIDTH = 20


def energy_table(state: TaskState, chosen_id: str | None) -> Table | Text:
    scored = [c for c in state.candidates.values() if c.energy is not None]
    if not scored:
        return Text("No energies yet: the Lens scores candidates in the select phase.",
                    style="dim")
    scored.sort(key=lambda c: (c.energy, c.created_seq))
    low, high = scored[0].energy or 0.0, scored[-1].energy or 0.0
    span = high - low
    lens = scored[0].lens or "lens"
    table = Table(box=None, expand=True, pad_edge=False, title=f"{lens} · lower is better",
                  title_justify="left", title_style="dim")
    table.add_column("", width=1)
    table.add_column("candidate", no_wrap=True, ratio=1, overflow="ellipsis")
    table.add_column("energy", justify="right", min_width=7, no_wrap=True)
    table.add_column("p(pass)", justify="right", min_width=7, no_wrap=True)
    table.add_column("", width=BAR_WIDTH, no_wrap=True)
    table.add_column("cl.", justify="right", width=3, no_wrap=True)
    selected = state.selected.candidate_id if state.selected else None
    for candidate in scored:
        # neutral Lens: every energy equal, every bar full (no preference shown as none)
        share = 1.0 if span == 0 else (high - (candidate.energy or 0.0)) / span
        filled = max(1, round(share * BAR_WIDTH))
        bar = Text("█" * filled, style="cyan") + Text("░" * (BAR_WIDTH - filled), style="dim")
        marker = "▶" if candidate.candidate_id == chosen_id else ""
        if candidate.candidate_id == selected:
            marker = "◆"
        probability = candidate.pass_probability
        table.add_row(
            marker,
            Text(f"{candidate.candidate_id} {candidate.label or candidate.origin}"),
            f"{candidate.energy:.3f}",
            "–" if probability is None else f"{probability:.0%}",
            bar,
            "–" if candidate.cluster is None else str(candidate.cluster + 1),
        )
    return table


class EnergyRanking(Widget):
    """Redrawn in place (a repaint, not a layout pass): rows beyond the pane's height are cut,
    the best, lowest energies first."""

    ALLOW_MAXIMIZE = True  # the maximize key fills the screen with this pane

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Lens energy"
        self._drawn_key: object = None
        self._content: Table | Text = Text("")

    def show(self, state: TaskState | None, chosen_id: str | None) -> None:
        key = (state.candidates if state else None, state.selected if state else None, chosen_id)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        self._content = energy_table(state, chosen_id) if state else Text("")
        self.refresh()

    def render(self) -> Table | Text:
        return self._content
