"""Rule preprocess (see load.py)."""
import sys

sys.stderr = open(snakemake.log[0], "w")

from core import filesteps  # noqa: E402

filesteps.preprocess(snakemake.input.train, snakemake.input.test, snakemake.params.fmt,
                     snakemake.output.train, snakemake.output.test)
