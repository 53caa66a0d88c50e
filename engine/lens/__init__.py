"""The Geometric Lens: an energy model C(x) over the generating model's own embeddings.

- interface: the `EnergyScorer` protocol the pipeline uses, `NeutralLens`, `candidate_text`
  (imports no torch, so the pipeline stays light without a trained Lens);
- features: what is embedded, pooling, normalization, the `FeatureSpec` that keys everything;
- dataset, collect: labelled candidates (label sources apart), from the event store, as files;
- net, train, calibration: the MLP, the within-problem ranking loss, Platt scaling;
- artifact: a trained Lens on disk, refusing another model's embeddings;
- scorer: `GeometricLens` (the trained `EnergyScorer`) and `lens_for(model)`;
- gate: whether a Lens may take part in decisions (it beat both baselines on held-out problems);
- evaluate, metrics, report: figures on unseen problems beside baselines, the histogram;
- replay, crossdata: selection replayed from real runs, the Lens judged across datasets;
- online: opt-in, guarded recalibration after each task;
- synthetic: embeddings with a planted signal, for tests and the benchmark.
"""
