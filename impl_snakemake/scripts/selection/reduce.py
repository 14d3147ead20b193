"""Rule reduce: choose the best candidate, retrain it, predict and evaluate."""
from pathlib import Path

from core import selection

selection.reduce(Path.cwd(), selection.GRIDS[snakemake.params.grid])
