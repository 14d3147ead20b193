"""The pertask workload as a Snakefile: N trivial jobs as a chain or a fan-out, each job one
script of scripts/synthetic/ calling the shared task body of core.synthetic.

`python -m impl_snakemake.synthetic --workdir DIR --shape S --n N` runs it with
`--directory DIR --config shape=S count=N`. Both shapes are wildcard rules, as a snakemake user
writes N similar jobs: the chain's input function names job i-1; the fan-out's gather rule
expands every leaf.
"""

from core import synthetic

SHAPE = config["shape"]
COUNT = int(config["count"])
CHAIN = synthetic.task_path("chain", "{i}")
LEAF = synthetic.task_path("fanout", "{i}")


wildcard_constraints:
    i=r"[1-9][0-9]*",


rule all:
    input:
        synthetic.result_path(SHAPE, COUNT),


def previous_link(wildcards):
    i = int(wildcards.i)
    return [synthetic.task_path("chain", i - 1)] if i > 1 else []


rule link:
    input:
        previous_link,
    output:
        CHAIN,
    script:
        "scripts/synthetic/link.py"


rule leaf:
    output:
        LEAF,
    script:
        "scripts/synthetic/leaf.py"


rule gather:
    input:
        expand(LEAF, i=range(1, COUNT + 1)),
    output:
        synthetic.GATHER_PATH,
    script:
        "scripts/synthetic/gather.py"
