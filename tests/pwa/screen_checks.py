"""What every screen must be on a 360 px phone in Indonesian, checked in the page itself: nothing cut or
spilling past its box or the screen, every tap target at least 48 px tall, and no English, code, UUID,
ISO date or leaked placeholder among the words she can see."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

# Runs in the page; returns one line per problem found, and the words shown.
_SOURCE = (Path(__file__).parent / "screen_checks.js").read_text()
MEASURE = _SOURCE[_SOURCE.index("() =>"):]  # the function, without the comment above it

# What must never be among the words she sees in Indonesian (ASCII words: matched whole).
DENIED = {
    "English of a bare file input": re.compile(r"Choose File|No file chosen|No file selected"),
    "a leaked JavaScript value": re.compile(r"\bundefined\b|\bnull\b|\bNaN\b|\[object \w+\]|\bInvalid Date\b"),
    "an ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "a UUID": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    "a raw code": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "a dictionary key with no text": re.compile(
        r"\b(?:app|nav|status|sync|update|login|home|storage|form|invalid|filter|list|rank|mark|review|score|gps|"
        r"pengkajian|musyawarah|usulan|photo|hadir|search|conflict|discard|export|import|settings|error|state|"
        r"jenis|unsur|dana|pola|sdgs|field)\.[a-z_0-9]+\b"),
    "English": re.compile(r"\b(?:Choose|File|Upload|Loading|Save|Cancel|Submit|Search|Settings|Home|Error|Unknown|"
                          r"Offline|Online|Photo|Remove|Delete|Women|Men|Name|Date|Time)\b"),
}


def screen_problems(page: Page) -> list[str]:
    """Everything wrong with the screen as drawn now (an empty list: nothing)."""
    found = page.evaluate(MEASURE)
    problems = list(found["problems"])
    for what, pattern in DENIED.items():
        problems += [f"{what} among the words shown: {m.group(0)!r}" for m in pattern.finditer(found["words"])]
    return problems
