"""Rule predict (see load.py)."""
import sys

sys.stderr = open(snakemake.log[0], "w")

from core import filesteps  # noqa: E402

filesteps.predict(snakemake.input.model, snakemake.input.test, snakemake.params.fmt,
                  snakemake.output.predictions)
