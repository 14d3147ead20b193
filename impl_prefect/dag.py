"""Print the flow's DAG as prefect reports it: `python -m impl_prefect.dag --workdir DIR`.

prefect 3 knows this flow's graph only from a flow run: its static tracer
(`Flow.visualize()`, `generate_mermaid_graph()`) fails where the flow unpacks a task's tuple,
and with `viz_return_value` would link the tuple, never its items. So this runs the flow,
reusing whatever its cache holds, and prints the task-run graph the prefect API serves for that
run (`/flow_runs/{id}/graph-v2`, what the UI draws) as a Mermaid flowchart.
"""
from __future__ import annotations

import sys
import time

from core import STEPS, cli, layout, stage
from impl_prefect.launch import HANDOFFS, failure_report, keep_prefect_state_in, run_flow

# Task runs reach the API as events, a moment after the flow run returns.
GRAPH_WAIT_S = 60


def task_graph(flow_run_id) -> tuple[list[str], list[tuple[str, str]]]:
    from prefect import get_client

    deadline = time.monotonic() + GRAPH_WAIT_S
    with get_client(sync_client=True) as client:
        while True:
            response = client.request("GET", "/flow_runs/{id}/graph-v2",
                                      path_params={"id": flow_run_id})
            response.raise_for_status()
            tasks, edges = _tasks_and_edges(response.json())
            if set(tasks) >= set(STEPS) or time.monotonic() > deadline:
                return tasks, edges
            time.sleep(0.5)


def _tasks_and_edges(graph: dict) -> tuple[list[str], list[tuple[str, str]]]:
    """Task runs are labelled `<task name>-<3 hex digits>`; the graph shows task names."""
    nodes = dict((node_id, node) for node_id, node in graph["nodes"])
    names = {node_id: node["label"].rsplit("-", 1)[0] for node_id, node in nodes.items()}
    edges = {(names[parent["id"]], names[node_id])
             for node_id, node in nodes.items() for parent in node["parents"]
             if parent["id"] in names}
    return (sorted(set(names.values()), key=_order),
            sorted(edges, key=lambda edge: (_order(edge[0]), _order(edge[1]))))


def _order(name: str) -> int:
    return STEPS.index(name) if name in STEPS else len(STEPS)


def mermaid(tasks: list[str], edges: list[tuple[str, str]]) -> str:
    return "\n".join(["flowchart TD", *(f"    {t}" for t in tasks),
                      *(f"    {a} --> {b}" for a, b in edges)])


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_prefect.dag", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=HANDOFFS, default=HANDOFFS[0])
    args = ap.parse_args(argv)
    workdir = args.workdir.resolve()
    keep_prefect_state_in(workdir)
    if not (workdir / layout.PARAMS).is_file():
        stage.stage(workdir, cli.params_from(args), args.data)
    state = run_flow(workdir, args.mode)
    if not state.is_completed():
        print(failure_report(state), file=sys.stderr)
        return 1
    print(mermaid(*task_graph(state.state_details.flow_run_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
