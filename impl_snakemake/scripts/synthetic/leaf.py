"""Rule leaf: fan-out task i."""
from core import synthetic

synthetic.leaf(int(snakemake.wildcards.i), snakemake.output[0])
