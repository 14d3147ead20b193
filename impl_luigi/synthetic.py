"""The pertask workload as luigi Tasks: `python -m impl_luigi.synthetic --workdir DIR --shape S --n N`.

A chain is one Task class whose requires() names the task before it (i - 1); a fan-out is N
independent Leaf tasks required by one Gather. Each output is written through luigi's atomic
temporary_path(), as in the Titanic pipeline. The run goes through run_with_retcodes with
impl_luigi/luigi.cfg, so a failed task gives a non-zero exit status.
"""
from __future__ import annotations

import sys

import luigi
import luigi.configuration

from core import cli, synthetic
from impl_luigi.launch import CONFIG, add_scheduler_option, run_luigi, scheduler_options


class SyntheticTask(luigi.Task):
    # The workdir makes task ids unique per working directory, as in the pipeline.
    workdir = luigi.PathParameter(absolute=True)

    def target(self, rel: str) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.workdir / rel))


class Link(SyntheticTask):
    i = luigi.IntParameter()

    def requires(self):
        return Link(workdir=self.workdir, i=self.i - 1) if self.i > 1 else []

    def output(self):
        return self.target(synthetic.task_path("chain", self.i))

    def run(self):
        upstream = self.input().path if self.i > 1 else None
        with self.output().temporary_path() as out:
            synthetic.link(self.i, upstream, out)


class Leaf(SyntheticTask):
    i = luigi.IntParameter()

    def output(self):
        return self.target(synthetic.task_path("fanout", self.i))

    def run(self):
        with self.output().temporary_path() as out:
            synthetic.leaf(self.i, out)


class Gather(SyntheticTask):
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(workdir=self.workdir, i=i) for i in range(1, self.n + 1)]

    def output(self):
        return self.target(synthetic.GATHER_PATH)

    def run(self):
        with self.output().temporary_path() as out:
            synthetic.gather([t.path for t in self.input()], out)


def luigi_argv(args) -> list[str]:
    """What a user would type after `luigi --module impl_luigi.synthetic`; the module is not
    named here because running it as a script already registered its tasks (naming it would
    import it a second time and make every task name ambiguous)."""
    root = ["Link", "--i"] if args.shape == "chain" else ["Gather", "--n"]
    return [*root, str(args.n), "--workdir", str(args.workdir),
            *scheduler_options(args.scheduler_url)]


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_luigi.synthetic", "N trivial luigi tasks", argv,
                           extra=add_scheduler_option)
    luigi.configuration.add_config_path(str(CONFIG))
    return run_luigi(luigi_argv(args))


if __name__ == "__main__":
    sys.exit(main())
