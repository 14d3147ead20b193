"""The pertask fan-out as a Metaflow foreach over the task numbers, joined by `gather`.

    python impl_metaflow/fanout_flow.py run --n N [--handoff artifacts|files] \
        [--max-num-splits M] [--max-workers W]

Metaflow refuses a foreach wider than --max-num-splits (default 100) and runs at most
--max-workers tasks at once (default 16).
"""
from __future__ import annotations

from pathlib import Path

from metaflow import FlowSpec, Parameter, step

from core import synthetic


class SyntheticFanoutFlow(FlowSpec):
    workdir = Parameter("workdir", default=".", help="working directory (relative: to the cwd)")
    n = Parameter("n", type=int, required=True, help="number of independent tasks")
    handoff = Parameter("handoff", default="artifacts",
                        help="artifacts: gather sums the tasks' value artifacts; "
                             "files: it reads their files")

    def at(self, rel: str) -> Path:
        return Path(self.workdir).resolve() / rel

    @step
    def start(self):
        self.numbers = list(range(1, self.n + 1))
        self.next(self.leaf, foreach="numbers")

    @step
    def leaf(self):
        value = synthetic.leaf(self.input, self.at(synthetic.task_path("fanout", self.input)))
        if self.handoff != "files":
            self.value = value
        self.next(self.gather)

    @step
    def gather(self, inputs):
        out = self.at(synthetic.GATHER_PATH)
        if self.handoff == "files":
            synthetic.gather([self.at(synthetic.task_path("fanout", i))
                              for i in range(1, self.n + 1)], out)
        else:
            synthetic.gather_values((task.value for task in inputs), out)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SyntheticFanoutFlow()
