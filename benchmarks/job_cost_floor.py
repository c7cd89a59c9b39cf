"""The CPU floor of a job's processes: what two fresh processes per job cost before any work.

A job runs in two processes made fresh for it (the judge, and the judged process it forks),
from a template holding the runner's imports (the zygote). This measures, on the same
template (the runner's preloaded modules, frozen), per job:

- ``fork+exit``: the zygote forks the judge, the judge forks the judged process, both exit
  (nothing else: the fork, the page-table copies and their teardown);
- ``+touch``: the same, each process also writing one byte in N of the template's pages
  (what a job's Python work costs in copy-on-write faults: ``--pages``, the faults per
  process a HumanEval job takes, measured with ``perf``);
- ``+namespaces``: the judge made with ``clone(CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWNS)`` as
  the local backend does (root only; without the mounts).

CPU: ``RUSAGE_CHILDREN`` (every process here is reaped), per job; pages are 4 KiB. Run as
root for the namespace row:

    python benchmarks/job_cost_floor.py [--jobs 2000] [--pages 400]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource

from codesynth.sandbox import _linux as L
from codesynth.sandbox.runner import PRELOAD


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def template_pages() -> list[memoryview]:
    """This process's writable anonymous and heap mappings (the template's data), as views."""
    views = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith("rw") and (len(fields) < 6 or fields[5] == "[heap]"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                views.append((start, end))
    import ctypes

    return [memoryview((ctypes.c_char * (end - start)).from_address(start)).cast("B")
            for start, end in views]


def one_round(jobs: int, flags: int, touch: list[tuple[memoryview, int]]) -> float:
    """CPU seconds per job of ``jobs`` zygote -> judge -> judged process pairs."""
    before = children_cpu()
    for _ in range(jobs):
        pid = L.clone(flags) if flags else L.fork()
        if pid == 0:
            child = L.fork()
            for view, offset in touch:
                view[offset] = view[offset]
            if child:
                os.waitpid(child, 0)
            os._exit(0)
        os.waitpid(pid, 0)
    return (children_cpu() - before) / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=400)
    args = parser.parse_args()
    for module in PRELOAD:
        __import__(module)
    gc.collect()
    gc.freeze()
    views = template_pages()
    every = [(view, offset) for view in views for offset in range(0, len(view), 4096)]
    step = max(1, len(every) // max(args.pages, 1))
    touch = every[::step][:args.pages]
    anon = open("/proc/self/smaps_rollup").read().split("Anonymous:")[1].split()[0]
    print(f"template: {len(PRELOAD)} preloaded modules, {anon} kB anonymous memory, "
          f"{len(every)} writable pages")
    rows = [("fork+exit (2 processes)", 0, [])]
    rows.append((f"+touch {len(touch)} pages each", 0, touch))
    if os.geteuid() == 0:
        flags = L.CLONE_NEWPID | L.CLONE_NEWIPC | L.CLONE_NEWNS
        rows.append(("+namespaces (pid,ipc,mount)", flags, touch))
    for name, flags, pages in rows:
        one_round(50, flags, pages)  # warm
        cpu = one_round(args.jobs, flags, pages)
        print(f"  {name:32s} {1000 * cpu:6.3f} ms CPU per job")


if __name__ == "__main__":
    main()
