"""The plain-Python baseline: the same steps in order, no workflow tool.

`--handoff files` passes artefacts through the same files as luigi and snakemake;
`--handoff memory` passes values, the lower bound of what any hand-off can cost.
"""
from __future__ import annotations

import sys

from core import cli, filesteps, layout, memsteps, stage


def run_files(workdir, params) -> None:
    p = lambda rel: layout.resolve(workdir, rel)  # noqa: E731
    fmt = params.format
    filesteps.load(p(layout.DATA), params, p(layout.train_raw(fmt)), p(layout.test_raw(fmt)))
    filesteps.preprocess(p(layout.train_raw(fmt)), p(layout.test_raw(fmt)), fmt,
                         p(layout.train_features(fmt)), p(layout.test_features(fmt)))
    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))
    filesteps.predict(p(layout.MODEL), p(layout.test_features(fmt)), fmt, p(layout.PREDICTIONS))
    filesteps.evaluate(p(layout.PREDICTIONS), p(layout.test_features(fmt)), fmt,
                       p(layout.METRICS))


def run_memory(workdir, params) -> None:
    p = lambda rel: layout.resolve(workdir, rel)  # noqa: E731
    train, test = memsteps.load(p(layout.DATA), params)
    train_features, test_features = memsteps.preprocess(train, test)
    model = memsteps.train(train_features, params)
    predictions = memsteps.predict(model, test_features, p(layout.PREDICTIONS))
    memsteps.evaluate(predictions, test_features, p(layout.METRICS))


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m core.baseline", __doc__.splitlines()[0])
    ap.add_argument("--handoff", choices=("files", "memory"), default="files")
    args = ap.parse_args(argv)
    params = cli.params_from(args)
    stage.stage(args.workdir, params, args.data)
    (run_files if args.handoff == "files" else run_memory)(args.workdir, params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
