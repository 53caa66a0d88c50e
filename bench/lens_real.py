"""The Lens judged on real embeddings, across datasets (issue 11).

Trains the Lens on the embedded candidates of bench runs on one dataset (their hidden-test
verdicts, which `atlas-tui bench` writes for every candidate unless `--no-oracle`), evaluates
it on the problems of runs on another dataset, and prints a Markdown table: AUROC, AUROC
within problems and selection accuracy of the Lens beside a random scorer and "shortest code
wins"; the pass@1
over the evaluation problems of the submitted answers, of the Lens's pick and of the shortest
code among the candidates the pipeline kept after public examples, and of the pipeline's own
ranking with the Lens energy breaking its ties; and whether the Lens passes the gate that lets
it take part in decisions (engine.lens.gate).

    .venv/bin/python bench/lens_real.py --train bench/results/ablation/humaneval80-full.sqlite \\
        --eval bench/results/ablation/mbpp_sanitized80-full.sqlite [--markdown FILE] [--save LENS]

Stores are opened read-only. `--save` writes the trained artifact with the cross-dataset
figures as its held-out evaluation (what the gate reads); put it at the model's default place
(`atlas-tui lens info --model MODEL` names it) for the workbench and bench to use it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, nargs="+", required=True, help="training stores")
    parser.add_argument("--eval", type=Path, nargs="+", required=True, help="evaluation stores")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    parser.add_argument("--save", type=Path, default=None, help="write the trained artifact")
    parser.add_argument("--model", default=None, help="the model (when a store holds several)")
    parser.add_argument("--pooling", choices=["mean", "last"], default="mean")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)

    for path in [*args.train, *args.eval]:
        if not path.is_file():
            parser.error(f"no such store: {path}")
    import torch

    from engine.lens.crossdata import markdown, study
    from engine.lens.train import TrainConfig

    torch.set_num_threads(args.threads)
    result = study(
        args.train,
        args.eval,
        config=TrainConfig(
            epochs=args.epochs, hidden=args.hidden, seed=args.seed, device=args.device
        ),
        model=args.model,
        pooling=args.pooling,
    )
    text = markdown(result)
    print(text, end="")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    if args.save is not None:
        if result.artifact is None or result.report is None:
            print(f"not saved to {args.save}: no trained and evaluated Lens", file=sys.stderr)
            return 1
        result.artifact.save(args.save)
        print(f"wrote {args.save}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
