"""Paired differences over seeds: what one model gains over another when both meet the same data and seed.

Two models trained on the same draw of data with the same seed share that draw's luck (easy or hard images, a
lucky validation set), so their difference varies less than either score; the interval is Student's t over the
per-seed differences (few seeds: t, not the normal's 1.96), and the seeds favouring each side are counted, so a
reader sees both how large the gain is and how often it held.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy import stats as scipy_stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Paired:
    """`model` minus `other` on `metric` (points of %), over the seeds both have."""

    model: str
    other: str
    metric: str
    differences: dict[int, float]  # seed: difference

    @property
    def mean(self) -> float:
        return statistics.fmean(self.differences.values())

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% t interval of the mean difference (nan with fewer than two seeds: no spread to measure)."""
        n = len(self.differences)
        if n < 2:
            return math.nan, math.nan
        half = scipy_stats.t.ppf((1 + CONFIDENCE) / 2, n - 1) * statistics.stdev(self.differences.values()) / math.sqrt(n)
        return self.mean - half, self.mean + half

    @property
    def wins(self) -> tuple[int, int]:
        """(seeds where `model` scored higher, seeds where `other` did)."""
        values = self.differences.values()
        return sum(d > 0 for d in values), sum(d < 0 for d in values)

    def reading(self) -> str:
        """What the interval supports: one side ahead, or not separable."""
        low, high = self.interval
        if math.isnan(low):
            return "one seed: no interval"
        if low > 0:
            return f"{self.model} ahead"
        if high < 0:
            return f"{self.other} ahead"
        return "not separable"


def paired(results: list[dict], model: str, metrics: tuple[str, ...]) -> list[Paired]:
    """`model` against every other model of `results` (each a run's result.json), on the seeds both were run with."""
    scores = {}
    for result in results:
        scores.setdefault(result["model"], {})[result["seed"]] = result["metrics"]
    mine = scores.get(model, {})
    pairs = []
    for other, theirs in scores.items():
        seeds = sorted(set(mine) & set(theirs))
        if other == model or not seeds:
            continue
        pairs += [Paired(model, other, key, {s: 100 * (mine[s][key] - theirs[s][key]) for s in seeds}) for key in metrics]
    return pairs


def markdown(pairs: list[Paired]) -> str:
    """One row per (other model, metric): the mean difference, its 95% interval, seeds each side, the reading, and
    every seed's difference."""
    if not pairs:
        return ""
    head = ["Pair", "Metric", "Seeds", "Mean", "95% interval", "Seeds ahead", "Reading", "Per seed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in pairs:
        low, high = p.interval
        span = "" if math.isnan(low) else f"[{low:+.1f}, {high:+.1f}]"
        ahead = f"{p.wins[0]} : {p.wins[1]}"
        per_seed = ", ".join(f"{seed}: {d:+.1f}" for seed, d in p.differences.items())
        lines.append(f"| {p.model} - {p.other} | {p.metric} | {len(p.differences)} | {p.mean:+.1f} | {span} | {ahead} | {p.reading()} | {per_seed} |")
    lines.append(f"\nPoints of %, per seed the first model minus the second on the same data draw and seed; interval: Student's t "
                 f"at {CONFIDENCE:.0%} over the seeds; seeds ahead: first : second.")
    return "\n".join(lines)
