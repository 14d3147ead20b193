"""How this implementation runs gokart: gokart.build at CRITICAL, and one short report of
what failed.

gokart.build raises GokartBuildError when a task fails. luigi, underneath, would log each
failure with its traceback at ERROR; the build runs at CRITICAL instead, and the command
prints one short block: each failed task with its exception, then luigi's execution summary,
and exits 1.
"""
from __future__ import annotations

import logging
import sys

import gokart
import luigi
import luigi.task
from gokart.build import GokartBuildError


def tasks_under(task: gokart.TaskOnKart):
    yield task
    for upstream in luigi.task.flatten(task.requires()):
        yield from tasks_under(upstream)


def label(task: gokart.TaskOnKart) -> str:
    return f"{type(task).__name__}[{task.make_unique_id()}]"


def failure_report(root: gokart.TaskOnKart, failed: GokartBuildError) -> str:
    """gokart reports failures by unique id; name them as gokart's tree does."""
    names = {task.make_unique_id(): label(task) for task in tasks_under(root)}
    lines = [f"error: gokart task {names.get(unique_id, unique_id)} failed: "
             f"{type(exc).__name__}: {exc}"
             for unique_id, raised in failed.raised_exceptions.items() for exc in raised]
    return "\n".join(lines + [str(failed).strip()])


def build(root: gokart.TaskOnKart, scheduler_url: str | None = None) -> int:
    """gokart.build with luigi's in-process scheduler; with a central luigid, luigi.build of
    the same tasks (gokart.build always builds with its own in-process scheduler)."""
    if scheduler_url:
        result = luigi.build([root], scheduler_url=scheduler_url, detailed_summary=True,
                             log_level="CRITICAL")
        if result.status.name.startswith("FAILED") or "SCHEDULING_FAILED" in result.status.name:
            print(f"error: luigi ended with {result.status.name}\n{result.summary_text.strip()}",
                  file=sys.stderr)
            return 1
    else:
        try:
            gokart.build(root, return_value=False, log_level=logging.CRITICAL)
        except GokartBuildError as failed:
            print(failure_report(root, failed), file=sys.stderr)
            return 1
    # gokart.build raises only for failed tasks: a missing external input (a staged file
    # removed behind the command's back) leaves the root pending without an error.
    if not root.complete():
        pending = sorted({label(task) for task in tasks_under(root) if not task.complete()})
        print(f"error: gokart did not complete {label(root)}; incomplete: {', '.join(pending)}",
              file=sys.stderr)
        return 1
    return 0
