"""The minimum-cost perfect matching the MOT toolkit's clearMOTMex.cpp solves each frame, step for step.

clearMOTMex pairs the still unmatched ground truth and results of a frame by the shortest-augmenting-path
algorithm it carries (Jaehyun Park's, O(n^3)) on a square matrix padded with 1e9, whose real entries carry a
1e-9 * k tie-breaker. When two pairings cost the same up to the rounding of those large numbers, which one it
returns depends on the algorithm's own order of steps, and later frames build on it (a pairing carried over,
an ID switch counted). So the algorithm is followed here operation for operation, in double precision, with the
loops over a row or column done as numpy vector operations (the same IEEE operations in the same order);
scipy's linear_sum_assignment, exact as it is, may pick the other of two such pairings.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-10  # the C code's test for an entry that is tight under the initial dual


def min_cost_matching(cost: np.ndarray) -> np.ndarray:
    """For a square cost matrix, the column each row is paired with (MinCostMatching's Lmate)."""
    cost = np.asarray(cost, dtype=np.float64)
    n = len(cost)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    u = cost.min(axis=1)
    v = (cost - u[:, None]).min(axis=0)
    left, right = np.full(n, -1), np.full(n, -1)
    mated = 0
    for i in range(n):  # a primal solution satisfying complementary slackness
        tight = np.flatnonzero((right == -1) & (np.abs(cost[i] - u[i] - v) < TOLERANCE))
        if tight.size:
            left[i], right[tight[0]] = tight[0], i
            mated += 1
    columns = np.arange(n)
    while mated < n:
        s = int(np.flatnonzero(left == -1)[0])
        dad, seen = np.full(n, -1), np.zeros(n, dtype=bool)
        dist = cost[s] - u[s] - v
        while True:
            unseen = np.flatnonzero(~seen)
            j = int(unseen[np.argmin(dist[unseen])])  # the first closest
            seen[j] = True
            if right[j] == -1:
                break
            i = right[j]
            new_dist = dist[j] + cost[i] - u[i] - v
            closer = ~seen & (dist > new_dist)
            dist[closer], dad[closer] = new_dist[closer], j
        update = seen & (columns != j)
        step = dist[update] - dist[j]
        v[update] += step
        u[right[update]] -= step
        u[s] += dist[j]
        while dad[j] >= 0:  # augment along the path
            d = dad[j]
            right[j] = right[d]
            left[right[j]] = j
            j = d
        right[j], left[s] = s, j
        mated += 1
    return left
