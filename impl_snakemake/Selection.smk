"""The model selection as a Snakefile: prepare -> one `fold` job per (candidate, fold) -> reduce,
each job one script of scripts/selection/ calling core.selection.

The fold rule is one rule over the wildcard {task} (core.selection.FoldTask.name); the reduce
rule asks for every fold's score file, so snakemake runs the folds, up to --cores at once.
`python -m impl_snakemake.selection --workdir DIR` stages data/titanic.csv and params.yaml
into DIR and runs this file with `--directory DIR --config selection_grid=GRID`.
"""

from core import layout, selection
from core.params import Params


configfile: "params.yaml"


# selection_grid comes from --config; every other key is params.yaml, validated at once.
GRID_NAME = config.get("selection_grid", "full")
GRID = selection.GRIDS[GRID_NAME]
FMT = Params(**{k: v for k, v in config.items() if k != "selection_grid"}).format


rule all:
    input:
        selection.reduce_outputs(),


rule prepare:
    input:
        layout.DATA,
        layout.PARAMS,
    output:
        selection.prepared_outputs(FMT),
    script:
        "scripts/selection/prepare.py"


rule fold:
    input:
        selection.prepared_outputs(FMT),
    output:
        selection.FOLDS_DIR + "/{task}.json",
    params:
        grid=GRID_NAME,
    script:
        "scripts/selection/fold.py"


rule reduce:
    input:
        [task.score_path for task in selection.fold_tasks(GRID)],
    output:
        selection.reduce_outputs(),
    params:
        grid=GRID_NAME,
    script:
        "scripts/selection/reduce.py"
