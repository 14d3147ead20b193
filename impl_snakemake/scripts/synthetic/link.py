"""Rule link: chain task i reads task i-1's file (none for i = 1)."""
from core import synthetic

synthetic.link(int(snakemake.wildcards.i), snakemake.input[0] if snakemake.input else None,
               snakemake.output[0])
