"""Rule fold: one (candidate, fold) of the grid, named by the {task} wildcard."""
from pathlib import Path

from core import selection

grid = selection.GRIDS[snakemake.params.grid]
selection.run_fold(Path.cwd(), grid, selection.fold_task(grid, snakemake.wildcards.task),
                   snakemake.output[0])
