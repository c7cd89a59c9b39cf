"""``nl2sql``: natural-language questions and SQL over SQLite databases, each pair checked by
execution. The question comes from the model (the "weak" role) or from templates over the
schema (``questions``); the model, asked apart, writes the query that answers it; a
reference query for the same question comes independently: for a template question, the
template's own query (it answers the question by construction; ``reference: template``);
otherwise from a second endpoint (the "strong" role, ``reference_base_url``) or, without
one, from another sample of the same prompt (``same_text`` in the record says when both
queries are the same text: weaker evidence than two different queries that agree).
Both run in the sandbox (a Python job that loads the database's dump into an in-memory
SQLite); the pair is kept when the query's result equals the reference's, compared as a
multiset of rows unless the question asks for an order. Records carry the
schema, the result and both execution traces.

Seeds: ``.sqlite`` / ``.db`` files (a file or a folder); without any, ``databases`` small
databases are made from built-in schemas with seeded rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, in_order, template_hash
from codesynth.generators.sql_databases import (
    Database,
    database_files,
    from_file,
    generated,
    tables,
    template_question,
)
from codesynth.generators.sql_jobs import outcome, query_job, reference_result
from codesynth.generators.sql_prompts import (
    QUERY,
    QUESTION,
    asks_for_order,
    parse_question,
    single_select,
    sql_block,
)
from codesynth.generators.variants import run_jobs
from codesynth.records import Origin, content_id
from codesynth.registry import generators

PER_DATABASE = Param("per_database", int, 4, "questions asked per database", minimum=1,
                     maximum=1000)
DATABASES = Param("databases", int, 3, "databases made when the seeds hold no SQLite file",
                  minimum=1, maximum=1000)
MAX_ROWS = Param("max_rows", int, 100, "rows a result may have", minimum=1, maximum=10_000)
REFERENCE_URL = Param("reference_base_url", str, "", "OpenAI-compatible endpoint of the "
                      "stronger model writing the reference queries (empty: another sample "
                      "of the same model)")
QUESTIONS = Param("questions", str, "model", "who asks: model (the model writes the "
                  "questions), templates (made from the schema: counts, averages, maxima, "
                  "filters, groupings; for models too small to ask), or both (in turn)",
                  choices=("model", "templates", "both"))
REFERENCE_MODEL = Param("reference_model", str, "", "model name at reference_base_url "
                        "(empty: the server's first)")
@dataclass
class Draft:
    database: Database
    index: int
    question: str
    sql: str
    reference: str
    ordered: bool
    asked_by: str = "model"  # or "template"
    reference_by: str = "resample"  # or "strong", "template"


@generators.register("nl2sql")
class NL2SQL:
    name = "nl2sql"
    params: ClassVar[tuple[Param, ...]] = (PER_DATABASE, DATABASES, MAX_ROWS, QUESTIONS,
                                           REFERENCE_URL, REFERENCE_MODEL)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        from codesynth.llm import LLM

        url = ctx.param(REFERENCE_URL)
        if url:
            from codesynth.errors import UserError
            from codesynth.llm.config import url_problem

            problem = url_problem(url)
            if problem:
                raise UserError(f"params.reference_base_url: {problem}")
        strong = LLM(ctx.llm.config, url, model=ctx.param(REFERENCE_MODEL) or None) \
            if url else None
        try:
            if strong is not None:
                await strong.resolve_model()
            kept = 0
            items = [(db, i) for db in self._databases(ctx)
                     for i in range(ctx.param(PER_DATABASE))]
            batch = max(1, ctx.llm.config.concurrency)
            async for records in in_order(_chunks(items, batch),
                                          lambda chunk: self._judge(ctx, strong, chunk), 1):
                for record in records:
                    yield record
                    kept += 1
                    if kept >= ctx.n:
                        return
        finally:
            if strong is not None:
                await strong.close()

    def _databases(self, ctx: Context) -> list[Database]:
        files = database_files(ctx.seeds) if ctx.seeds.exists() else []
        if not files:
            return [generated(i, ctx.rng(self.name, "db", i))
                    for i in range(ctx.param(DATABASES))]
        databases = []
        for file in files:
            database = from_file(file)
            if database is None:
                ctx.reject("database_too_large", database=str(file))
            else:
                databases.append(database)
        return databases

    async def _draft(self, ctx: Context, strong: Any, item: tuple[Database, int]
                     ) -> Draft | None:
        """A question, the model's query for it, and the reference query for it: the
        template's, the strong endpoint's, or another sample of the same prompt (each asked
        apart)."""
        database, index = item
        where = {"database": database.name, "sample": index}
        mode = ctx.param(QUESTIONS)
        templated = None
        if mode == "templates" or (mode == "both" and index % 2):
            templated = template_question(database, ctx.rng(self.name, database.id, index))
            if templated is None:
                ctx.reject("no_question", **where, reply="no table")
                return None
            question = templated[0]
        else:
            reply = await ctx.ask(QUESTION.format(schema=database.schema), sample=index)
            if reply is None:
                return None
            parsed = parse_question(reply)
            if parsed is None:
                ctx.reject("no_question", **where, reply=reply[:300])
                return None
            question = parsed
        prompt = QUERY.format(schema=database.schema, question=question,
                              tables=tables(database) or database.schema)
        answer = await ctx.ask(prompt, sample=index)
        if answer is None:
            return None
        sql = sql_block(answer)
        if sql is None or not single_select(sql):
            ctx.reject("unparseable" if sql is None else "not_a_select", **where,
                       question=question, reply=answer[:300])
            return None
        asked_by = "model" if templated is None else "template"
        if templated is not None:
            # The template's own query answers its question by construction: an
            # independent reference, written by no model.
            return Draft(database, index, question, sql, templated[1],
                         asks_for_order(question), asked_by, "template")
        if strong is not None:
            from codesynth.llm import LLMError

            try:
                # A sample index of its own: the cache key holds the model's name, not the
                # endpoint, and both endpoints may serve a model of the same name.
                reference_reply: str | None = (await strong.ask(
                    [{"role": "user", "content": prompt}], sample=2000 + index)).text
            except LLMError as exc:
                ctx.reject("request_failed", error=str(exc)[:300])
                return None
        else:  # another sample of the same prompt: an independent attempt
            reference_reply = await ctx.ask(prompt, sample=1000 + index)
        if reference_reply is None:
            return None
        reference = sql_block(reference_reply)
        if reference is None or not single_select(reference):
            ctx.reject("reference_unparseable", **where, question=question)
            return None
        return Draft(database, index, question, sql, reference, asks_for_order(question),
                     asked_by, "strong" if strong is not None else "resample")

    async def _judge(self, ctx: Context, strong: Any,
                     chunk: list[tuple[Database, int]]) -> list[dict[str, Any]]:
        drafts = [d for d in await asyncio.gather(*(self._draft(ctx, strong, item)
                                                    for item in chunk)) if d is not None]
        if not drafts:
            return []
        limit = ctx.param(MAX_ROWS)
        references = await run_jobs(ctx, [
            query_job(f"{d.database.id}-{d.index}-ref", d.database.dump, d.reference, limit)
            for d in drafts])
        checks = []
        for draft, execution in zip(drafts, references, strict=True):
            result, reason = reference_result(execution, limit)
            where = {"database": draft.database.name, "sample": draft.index,
                     "question": draft.question}
            if reason is not None:
                ctx.reject(reason, **where, reference=draft.reference,
                           trace=execution.reason[:300])
                continue
            assert result is not None
            checks.append((draft, execution, result))
        candidates = await run_jobs(ctx, [
            query_job(f"{d.database.id}-{d.index}", d.database.dump, d.sql, limit,
                      expected=result, ordered=d.ordered) for d, _, result in checks])
        records = []
        for (draft, ref_execution, result), execution in zip(checks, candidates, strict=True):
            reason, detail = outcome(execution)
            if reason is not None:
                ctx.reject(reason, database=draft.database.name, sample=draft.index,
                           question=draft.question, sql=draft.sql, reference=draft.reference,
                           **detail)
                continue
            records.append(self._record(ctx, strong, draft, result, execution, ref_execution))
        return records

    def _record(self, ctx: Context, strong: Any, draft: Draft, result: dict[str, Any],
                execution: Any, reference: Any) -> dict[str, Any]:
        origin = Origin(method=self.name, model=ctx.llm.model,
                        template_hash=template_hash(QUESTION, QUERY),
                        parent_ids=(draft.database.id,), seed=ctx.seed,
                        params={"sample": draft.index, "reference_model":
                                None if draft.reference_by == "template" else
                                strong.model if strong is not None else ctx.llm.model,
                                "reference": draft.reference_by})
        same = " ".join(draft.sql.lower().split()) == " ".join(draft.reference.lower().split())
        return {"id": content_id(self.name, draft.database.id, draft.question, draft.sql),
                "question": draft.question, "sql": draft.sql,
                "reference_sql": draft.reference, "database": draft.database.name,
                "database_id": draft.database.id, "schema": draft.database.schema,
                "ordered": draft.ordered, "result": result, "asked_by": draft.asked_by,
                "same_text": same,  # the two queries are the same text: weaker evidence
                "trace": {"query": execution.to_dict(), "reference": reference.to_dict()},
                "origin": origin.to_dict()}


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
