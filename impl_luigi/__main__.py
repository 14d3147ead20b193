"""Run the Titanic pipeline with luigi: stage the inputs, then luigi's own command line."""
from __future__ import annotations

import dataclasses
import sys

import luigi.configuration

from core import cli, stage
from core.params import Params
from impl_luigi.launch import CONFIG, add_scheduler_option, run_luigi, scheduler_options


def task_argv(workdir, params: Params) -> list[str]:
    """The root task and its parameters, as a user types them after `luigi`: every setting is
    a parameter of the task that uses it, inherited by Evaluate (impl_luigi/pipeline.py)."""
    argv = ["--module", "impl_luigi.pipeline", "Evaluate", "--workdir", str(workdir)]
    for name, value in dataclasses.asdict(params).items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def parse(argv):
    ap = cli.parser("python -m impl_luigi", __doc__.splitlines()[0])
    add_scheduler_option(ap)
    return ap.parse_args(argv)


@cli.guarded
def main(argv=None) -> int:
    args = parse(argv)
    params = cli.params_from(args)
    # params.yaml is staged as for every tool; luigi takes the settings as task parameters.
    stage.stage(args.workdir, params, args.data)
    # The adapter also sets LUIGI_CONFIG_PATH; adding the file here keeps the exit status
    # right when the command is typed without that environment.
    luigi.configuration.add_config_path(str(CONFIG))
    return run_luigi(task_argv(args.workdir, params) + scheduler_options(args.scheduler_url))


if __name__ == "__main__":
    sys.exit(main())
