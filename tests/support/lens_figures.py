"""Held-out figures for test Lens artifacts."""

# A Lens that beat both baselines (engine.lens.gate lets it decide).
BEATS = {
    "auroc": 0.8,
    "selection_accuracy": 0.7,
    "random_auroc": 0.5,
    "random_selection_accuracy": 0.5,
    "shortest_auroc": 0.55,
    "shortest_selection_accuracy": 0.6,
}
