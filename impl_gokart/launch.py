"""How this implementation runs gokart: its options, the build with the in-process scheduler or a
central luigid, one short report of what failed, and the record of where the deliverables are.

gokart.build raises GokartBuildError when a task fails. luigi, underneath, would log each
failure with its traceback at ERROR; the build runs at CRITICAL instead, and the command
prints one short block: each failed task with its exception, then luigi's execution summary,
and exits 1.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import gokart
import luigi
import luigi.configuration
import luigi.task
from gokart.build import GokartBuildError

from impl_gokart.adapter import DELIVERED


def add_options(parser) -> None:
    parser.add_argument("--scheduler-url", default=None,
                        help="a central luigid (default: luigi's in-process scheduler)")
    parser.add_argument("--serialized-task-definition-check", action="store_true",
                        help="gokart's switch for every task: its unique id also hashes the "
                             "source of the task's methods, so an edited task reruns")


def apply_options(args) -> None:
    """A TaskOnKart setting for every task goes in the [TaskOnKart] section of luigi's config,
    which every TaskOnKart reads when it is built (gokart docs, Task Parameters)."""
    if args.serialized_task_definition_check:
        luigi.configuration.get_config().set("TaskOnKart", "serialized_task_definition_check",
                                             "true")


def tasks_under(task: gokart.TaskOnKart):
    yield task
    for upstream in luigi.task.flatten(task.requires()):
        yield from tasks_under(upstream)


def label(task: gokart.TaskOnKart) -> str:
    return f"{type(task).__name__}[{task.make_unique_id()}]"


def failure_report(root: gokart.TaskOnKart, raised: dict[str, list[Exception]],
                   summary: str) -> str:
    """gokart reports failures by unique id; name them as gokart's tree does."""
    names = {task.make_unique_id(): label(task) for task in tasks_under(root)}
    lines = [f"error: gokart task {names.get(unique_id, unique_id)} failed: "
             f"{type(exc).__name__}: {exc}"
             for unique_id, excs in raised.items() for exc in excs]
    return "\n".join(lines + [summary.strip()])


def build(root: gokart.TaskOnKart, scheduler_url: str | None = None, workers: int = 1) -> int:
    """gokart.build with luigi's in-process scheduler; with a central luigid, the call
    gokart.build makes (luigi.build with gokart's WorkerSchedulerFactory) with the central
    scheduler instead, since gokart.build always passes local_scheduler=True (gokart/build.py).
    gokart.run(), gokart's command line, reaches luigid the same way."""
    if scheduler_url:
        status = _build_with(root, scheduler_url, workers)
    else:
        try:
            gokart.build(root, return_value=False, log_level=logging.CRITICAL, workers=workers)
            status = 0
        except GokartBuildError as failed:
            print(failure_report(root, failed.raised_exceptions, str(failed)), file=sys.stderr)
            status = 1
    # gokart.build raises only for failed tasks: a missing external input (a staged file
    # removed behind the command's back) leaves the root pending without an error.
    if status == 0 and not root.complete():
        pending = sorted({label(task) for task in tasks_under(root) if not task.complete()})
        print(f"error: gokart did not complete {label(root)}; incomplete: {', '.join(pending)}",
              file=sys.stderr)
        status = 1
    return status


def _build_with(root: gokart.TaskOnKart, scheduler_url: str, workers: int) -> int:
    raised: dict[str, list[Exception]] = {}

    @gokart.TaskOnKart.event_handler(luigi.Event.FAILURE)
    def when_failure(task, exception):  # as gokart.build collects them
        raised.setdefault(task.make_unique_id(), []).append(exception)

    # gokart.build's log_level=CRITICAL is logging.disable below it: gokart's worker logs each
    # failure with its traceback on a logger of its own, which luigi's log_level leaves alone.
    logging.disable(logging.CRITICAL - 10)
    try:
        result = luigi.build([root], worker_scheduler_factory=gokart.WorkerSchedulerFactory(),
                             scheduler_url=scheduler_url, workers=workers,
                             detailed_summary=True, log_level="CRITICAL")
    finally:
        logging.disable(logging.NOTSET)
    if raised or not root.complete():
        # luigi's summary says why, e.g. a task "being run by another worker" after a crash
        print(failure_report(root, raised, result.summary_text), file=sys.stderr)
        return 1
    return 0


def record_deliverables(workdir: Path, paths: dict[str, str]) -> None:
    """Where this invocation's predictions and metrics are (gokart targets named by unique ids
    that only gokart computes), for the adapter; rewritten only when they moved."""
    record = Path(workdir) / DELIVERED
    text = json.dumps({k: str(Path(v).relative_to(Path(workdir).resolve()))
                       for k, v in paths.items()}, indent=2, sort_keys=True) + "\n"
    if record.is_file() and record.read_text() == text:
        return
    record.parent.mkdir(parents=True, exist_ok=True)
    partial = record.with_name(record.name + ".partial")
    partial.write_text(text)
    partial.replace(record)
