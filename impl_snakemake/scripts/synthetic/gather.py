"""Rule gather: the fan-out's sum over every leaf's file."""
from core import synthetic

synthetic.gather(list(snakemake.input), snakemake.output[0])
