"""Rule evaluate (see load.py)."""
import sys

sys.stderr = open(snakemake.log[0], "w")

from core import filesteps  # noqa: E402

filesteps.evaluate(snakemake.input.predictions, snakemake.input.test, snakemake.params.fmt,
                   snakemake.output.metrics)
