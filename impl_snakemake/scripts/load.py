"""Rule load. `snakemake` (input, output, params, log) is defined by snakemake's preamble; core
is imported from the project, found on PYTHONPATH or through its installation."""
import sys

sys.stderr = open(snakemake.log[0], "w")  # the script idiom of `2> {log}`

from core import filesteps  # noqa: E402
from core.params import Params  # noqa: E402

p = snakemake.params
filesteps.load(
    snakemake.input.csv,
    Params(format=p.fmt, seed=p.seed, test_size=p.test_size, scale=p.scale),
    snakemake.output.train,
    snakemake.output.test,
)
