"""The model selection with run: blocks (runners run_jobs and threads): the same rules as
../Selection.smk, prepare -> one `fold` job per (candidate, fold) -> reduce.

The fold rule is one rule over the wildcard {task} (core.selection.FoldTask.name); the reduce
rule asks for every fold's score file, so snakemake runs the folds, up to --cores at once.
`python -m impl_snakemake.selection --workdir DIR` stages data/titanic.csv and params.yaml
into DIR and runs this file with `--directory DIR`.
"""

from pathlib import Path

from core import layout, selection
from core.params import Params


configfile: "params.yaml"


# selection_grid comes from --config; every other key is params.yaml, validated at once.
GRID = selection.GRIDS[config.get("selection_grid", "full")]
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
    run:
        selection.prepare(Path.cwd())


rule fold:
    input:
        selection.prepared_outputs(FMT),
    output:
        selection.FOLDS_DIR + "/{task}.json",
    run:
        selection.run_fold(
            Path.cwd(), GRID, selection.fold_task(GRID, wildcards.task), output[0]
        )


rule reduce:
    input:
        [task.score_path for task in selection.fold_tasks(GRID)],
    output:
        selection.reduce_outputs(),
    run:
        selection.reduce(Path.cwd(), GRID)
