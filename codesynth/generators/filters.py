"""Instruction filters of Self-Instruct / Code Alpaca and the elimination rules of
Evol-Instruct, shared by the generators."""

from __future__ import annotations

import asyncio
import importlib
import re
import string

# Code Alpaca's blacklist: tasks a text-only model cannot do.
BLACKLIST = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
             "map", "maps", "draw", "plot", "go to", "video", "audio", "flowchart", "diagram")
COPY_MARKERS = ("#rewritten prompt#", "#given prompt#", "given prompt", "rewritten prompt",
                "#new prompt#", "new prompt")
STOP_WORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "is", "are", "be", "it",
    "this", "that", "with", "as", "by", "at", "i", "you", "we", "they", "he", "she", "ok",
    "okay", "yes", "no",
})


def length_ok(instruction: str, low: int = 3, high: int = 150) -> bool:
    return low < len(instruction.split()) <= high


def blacklisted(instruction: str) -> str | None:
    lowered = instruction.lower()
    for word in BLACKLIST:
        if re.search(rf"\b{re.escape(word)}\b", lowered):
            return word
    return None


def bad_start(instruction: str) -> bool:
    """Starts with punctuation or a non-ASCII character (Self-Instruct's format filter)."""
    first = instruction.strip()[:1]
    return not first or first in string.punctuation or not first.isascii()


async def load_similarity() -> None:
    """Import ROUGE-L's module (rouge_score pulls in nltk and scipy: seconds) in a thread, so
    that the first :class:`SimilarityPool` does not stall the event loop (requests in flight,
    the progress display)."""
    await asyncio.to_thread(importlib.import_module, "rouge_score.rouge_scorer")


class SimilarityPool:
    """ROUGE-L against every instruction kept so far (Self-Instruct: reject above 0.7)."""

    def __init__(self, threshold: float = 0.7) -> None:
        from rouge_score import rouge_scorer

        self.threshold = threshold
        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        self._pool: list[str] = []
        self._exact: set[str] = set()

    def add(self, instruction: str) -> None:
        self._pool.append(instruction)
        self._exact.add(" ".join(instruction.lower().split()))

    def most_similar(self, instruction: str) -> float:
        if " ".join(instruction.lower().split()) in self._exact:
            return 1.0
        best = 0.0
        for other in self._pool:
            best = max(best, self._scorer.score(other, instruction)["rougeL"].fmeasure)
            if best > self.threshold:
                break
        return best

    def too_similar(self, instruction: str) -> bool:
        return self.most_similar(instruction) > self.threshold

    def __len__(self) -> int:
        return len(self._pool)


def copies_the_prompt(instruction: str) -> bool:
    lowered = instruction.lower()
    return any(marker in lowered for marker in COPY_MARKERS)


def sorry(response: str) -> bool:
    """Evol-Instruct: a short reply that apologizes is a refusal."""
    return "sorry" in response.lower() and len(response.split()) < 80


def only_filler(response: str) -> bool:
    """Evol-Instruct: a reply made only of punctuation and stop words."""
    words = re.findall(r"[A-Za-z0-9_]+", response.lower())
    return all(w in STOP_WORDS for w in words)
