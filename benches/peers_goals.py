"""The goals of issue 31 over several runs of benches/peers.sh, side by side, in Markdown for
BENCHMARKS.md: a row a goal, a column a run (its verdict, the median that decided it and in how
many rounds the goal held), and in how many runs it was met.

    python3 benches/peers_goals.py OUT1 OUT2 OUT3

Each OUT is a folder a run of benches/peers.sh left (its goals.json, which
benches/peers_report.py writes). Runs with different upstreams (the mock's framing, or one
chunk) are not comparable: exits 2 naming them. A run with an invalid row is shown, marked.
"""

import json
import os
import sys


def main(folders):
    if not folders:
        print("usage: python3 benches/peers_goals.py OUT [OUT ...]", file=sys.stderr)
        return 2
    runs = []
    for folder in folders:
        path = os.path.join(folder, "goals.json")
        try:
            runs.append(json.load(open(path)))
        except (OSError, ValueError) as error:
            print(f"{path}: not a run's goals ({error})", file=sys.stderr)
            return 2
    upstreams = {run["upstream"] for run in runs}
    if len(upstreams) > 1:
        named = ", ".join(f"{folder}: {run['upstream']}" for folder, run in zip(folders, runs))
        print(f"the runs had different upstreams ({named}); compare runs of one kind", file=sys.stderr)
        return 2
    texts = []
    for run in runs:
        texts += [g["goal"] for g in run["goals"] if g["goal"] not in texts]
    header = [f"run {i} (`{run['commit']}`{'' if run['valid'] else ', **invalid**'})" for i, run in enumerate(runs, 1)]
    print(f"Goals of issue 31 over {len(runs)} runs (upstream: {upstreams.pop()}):")
    print()
    print("| goal | " + " | ".join(header) + " | met in |")
    print("|---|" + "---|" * len(runs) + "---|")
    for text in texts:
        judged = [next((g for g in run["goals"] if g["goal"] == text), {"measured": False}) for run in runs]
        measured = [g for g in judged if g["measured"]]
        cells = [cell(g) for g in judged]
        met = sum(1 for g in measured if g["met"])
        tally = f"{met} of {len(measured)} runs" if measured else "not measured"
        print(f"| {text} | " + " | ".join(cells) + f" | {tally} |")
    return 0


def cell(judged):
    """One run's verdict on one goal: met or not, the deciding median, the rounds it held in."""
    if not judged["measured"]:
        return "not measured"
    verdict = "**met**" if judged["met"] else "not met"
    return f"{verdict}, {judged['figure']} ({judged['hits']}/{judged['rounds']} rounds)"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
