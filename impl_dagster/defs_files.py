"""The Titanic assets handing files over through core.io (files_io.py) instead of pickles:

    cd DIR && dagster asset materialize --select '*' -m impl_dagster.defs_files

The same assets as defs.py; only the `io_manager` resource differs, which is how Dagster's docs
change where assets are stored.
"""
from dagster import Definitions

from impl_dagster.assets import ASSETS, RunDir
from impl_dagster.files_io import CoreFilesIOManager

defs = Definitions(assets=ASSETS, resources={"run_dir": RunDir(),
                                             "io_manager": CoreFilesIOManager()})
