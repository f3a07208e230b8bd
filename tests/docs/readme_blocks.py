"""The fenced code blocks of README.md, as the README tests read them.

A block is opened by a line of three backticks and a language tag (```` ```python ````) and closed
by a line of three backticks. A block is run unless the line before its fence (blank lines
skipped) is an HTML comment ``<!-- not-run: reason -->``; blocks in a data language (``json``,
``text``) are samples and diagrams and never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATA_LANGUAGES", "RUNNABLE_LANGUAGES", "Block", "readme_blocks"]

#: Languages whose blocks run (a python interpreter or ``bash``).
RUNNABLE_LANGUAGES = frozenset({"python", "bash"})
#: Languages of blocks that are data (output samples, diagrams), never run.
DATA_LANGUAGES = frozenset({"json", "text"})

_FENCE = re.compile(r"^```(?P<language>[\w+-]*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(?P<reason>.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced block.

    Attributes:
        line: 1-based line number of the opening fence in the file.
        language: the tag after the opening fence, ``""`` when there is none.
        code: the lines between the fences, newline-terminated.
        not_run: the reason of a ``<!-- not-run: reason -->`` comment before it, else None.
    """

    line: int
    language: str
    code: str
    not_run: str | None

    @property
    def runs(self) -> bool:
        """Whether the README tests execute this block."""
        return self.language in RUNNABLE_LANGUAGES and self.not_run is None


def readme_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, in order.

    Raises:
        ValueError: a block is not closed.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        previous = next((lines[i].strip() for i in range(index - 1, -1, -1)
                         if lines[i].strip()), "")
        marker = _NOT_RUN.match(previous)
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{path.name}:{index + 1}: code block is not closed")
        code = "".join(line + "\n" for line in lines[index + 1:end])
        blocks.append(Block(index + 1, opening["language"], code,
                            marker["reason"] if marker else None))
        index = end + 1
    return blocks
