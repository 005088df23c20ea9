"""How close `chatbot kb draft` comes to the hand-made knowledge files, and how long it takes.

Each seed school is drafted from its policy's source text alone (knowledge/sources/),
exactly as `chatbot kb draft` would, then compared intent by intent with the reviewed
file: does the draft cite a clause the reviewed answer cites, and do the two agree on
answered versus silent. The simpler baseline cites only the single best section.
Time is per draft, in this process (the intents loaded once, as the command does).

    .venv/bin/python benchmarks/bench_kb_drafting.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chatbot.kb import draft as drafting  # noqa: E402
from chatbot.kb.compare import Comparison, compare  # noqa: E402
from chatbot.kb.coverage import policy_intents  # noqa: E402
from chatbot.knowledge import load_knowledge_base  # noqa: E402


def run(max_cites: int) -> list[Comparison]:
    drafting.MAX_CITES = max_cites
    kb = load_knowledge_base(intents_dir=ROOT / "intents", knowledge_dir=ROOT / "knowledge")
    ids = [i.id for i in policy_intents(kb)]
    results = []
    for school in kb.schools.values():
        draft = drafting.draft_school(
            school_id=school.id, name=school.name, policy_text=school.source.read_text(encoding="utf-8"),
            source=school.source.name, intents=list(kb.intents.values()),
        )  # fmt: skip
        results.append(compare(draft, school, ids))
    return results


def main() -> None:
    configured = drafting.MAX_CITES
    baseline = {r.school_id: r for r in run(1)}
    results = run(configured)
    print("| school | reviewed answers | draft cites a reviewed clause | baseline (1 cite) | agree answered/silent | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        b = baseline[r.school_id]
        print(
            f"| {r.school_id} | {r.reviewed_answered} | {r.cite_hits} ({r.cite_hits / r.reviewed_answered:.0%}) | "
            f"{b.cite_hits} ({b.cite_hits / b.reviewed_answered:.0%}) | {r.agreement}/{len(r.rows)} "
            f"({r.agreement / len(r.rows):.0%}) | {r.seconds:.2f} |"
        )
    hits, answered = sum(r.cite_hits for r in results), sum(r.reviewed_answered for r in results)
    base_hits = sum(b.cite_hits for b in baseline.values())
    agree, total = sum(r.agreement for r in results), sum(len(r.rows) for r in results)
    print(
        f"| all | {answered} | {hits} ({hits / answered:.0%}) | {base_hits} ({base_hits / answered:.0%}) | "
        f"{agree}/{total} ({agree / total:.0%}) | max {max(r.seconds for r in results):.2f} |"
    )


if __name__ == "__main__":
    main()
