"""The characters questions use far more than the text they ask about (哪, 什么, 多, 几): kb/spelling.py
never reads one as a character mistyped for another of its sound ("哪种" is the question's own word, not
那种 mistyped).

    python scripts/make_question_characters.py            # writes kb/weights/question-characters.json

Learned from CMRC 2018 *train* only: the questions and paragraphs of the articles in one half (by a hash of
the paragraph id); the other half is where one counts how many questions as written are still changed (see
docs/quality.md). A character is kept when it is at least RATIO times as frequent (per character) in the
questions as in the paragraphs and appears at least MIN_COUNT times in the questions. A second.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from kb.lexical import fold

SHARED = Path(__file__).resolve().parents[2] / "shared"
CMRC_TRAIN = SHARED / "corpora" / "cmrc2018" / "train"
OUT = Path(__file__).resolve().parents[1] / "kb" / "weights" / "question-characters.json"
RATIO, MIN_COUNT = 2.0, 100
CJK = re.compile(r"[\u4e00-\u9fff]")


def learning_half(paragraph_id: str) -> bool:
    return int(hashlib.sha1(paragraph_id.encode()).hexdigest(), 16) % 2 == 0


def main() -> None:
    asked, written = Counter(), Counter()
    for line in (CMRC_TRAIN / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if learning_half(row["gold_ids"][0]):
            asked.update(c for c in fold(row["q"]) if CJK.fullmatch(c))
    for line in (CMRC_TRAIN / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if learning_half(row["id"]):
            written.update(c for c in fold(row["text"]) if CJK.fullmatch(c))
    n_asked, n_written = sum(asked.values()), sum(written.values())
    kept = sorted((c for c, n in asked.items()
                   if n >= MIN_COUNT and (n / n_asked) / ((written[c] + 1) / n_written) >= RATIO), key=lambda c: -asked[c])
    OUT.write_text(json.dumps({"characters": "".join(kept), "made_by": "scripts/make_question_characters.py",
                               "made_from": "CMRC 2018 train, the articles of one half (sha1 of the paragraph id even)",
                               "ratio": RATIO, "min_count": MIN_COUNT}, ensure_ascii=False, indent=1) + "\n",
                   encoding="utf-8")
    print("".join(kept))


if __name__ == "__main__":
    main()
