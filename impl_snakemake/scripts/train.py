"""Rule train (see load.py)."""
import sys

sys.stderr = open(snakemake.log[0], "w")

from core import filesteps  # noqa: E402
from core.params import Params  # noqa: E402

p = snakemake.params
filesteps.train(
    snakemake.input.features,
    Params(format=p.fmt, seed=p.seed, n_estimators=p.n_estimators, max_depth=p.max_depth),
    snakemake.output.model,
)
