"""``seed-tasks``: the seed tasks themselves, as tasks (with their tests when they have them).

Useful in a pipeline next to the generators: a weak model that cannot write tests can still
be sampled for solutions of tasks whose tests are known.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, load_seed_tasks
from codesynth.records import Origin
from codesynth.registry import generators


@generators.register("seed-tasks")
class SeedTasks:
    name = "seed-tasks"
    params: ClassVar[tuple[Param, ...]] = ()

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        for task in load_seed_tasks(ctx.seeds)[:ctx.n]:
            origin = Origin(method=self.name, parent_ids=(str(task["id"]),), seed=ctx.seed)
            yield {"id": str(task["id"]), "instruction": task["instruction"],
                   "language": task.get("language", "python"), "code": task.get("code"),
                   "tests": task.get("tests"), "test_style": task.get("test_style", "assert"),
                   "entry_point": task.get("entry_point"), "origin": origin.to_dict()}
