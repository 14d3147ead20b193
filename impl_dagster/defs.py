"""The Definitions of the Titanic assets, as Dagster's CLI loads them:

    cd DIR && dagster asset materialize --select '*' -m impl_dagster.defs

No IO manager is named, so Dagster's default one pickles each asset's value under
$DAGSTER_HOME/storage/, and no executor is named, so the default one runs each asset in its own
process (multiprocess); `-c impl_dagster/in_process.yaml` picks its in-process option instead.
"""
from dagster import Definitions

from impl_dagster.assets import ASSETS, RunDir

defs = Definitions(assets=ASSETS, resources={"run_dir": RunDir()})
