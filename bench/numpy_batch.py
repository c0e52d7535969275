#!/usr/bin/python3
"""numpy baseline for bench/bench_batch.c (issue 3, bar 3): scores = U @ W.T + bias,
then argpartition for the top k and a sort of those k, users in chunks so that the
scores fit in memory. The data are regenerated from the same counter hash as the C
bench, bit for bit: the checksums printed here must equal the C bench's.

Usage: /usr/bin/python3 bench/numpy_batch.py [users=10000] [items=100000] [dim=64]
       [k=10] [chunk=1000] [reps=3]
The BLAS under numpy and its threads come from the environment (see
docs/batch-scoring.md for the commands used); this prints which library ran.
"""
import sys
import time

import numpy as np

M64 = (1 << 64) - 1


def hashed(stream, n):
    """Entry i of stream s, as in bench_batch.c: 24 random bits in [-0.5, 0.5)."""
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = i * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64((stream * 0xBF58476D1CE4E5B9) & M64)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xD6E8FEB86659FD93)
        h ^= h >> np.uint64(32)
    return (h >> np.uint64(40)).astype(np.float32) / np.float32(16777216.0) - np.float32(0.5)


def checksum(a):
    w = (np.arange(a.size, dtype=np.int64) % 7 + 1).astype(np.float64)
    return float(np.dot(a.astype(np.float64).ravel(), w))


def blas_name():
    """Which BLAS numpy's process mapped (threadpoolctl is not installed here)."""
    names = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path or "blis" in path:
                names.add(path)
    return ", ".join(sorted(names)) or "unknown"


def main():
    args = [int(a) for a in sys.argv[1:]]
    users, n, dim, k, chunk, reps = (args + [10000, 100000, 64, 10, 1000, 3][len(args):])[:6]
    U = hashed(1, users * dim).reshape(users, dim)
    W = hashed(2, n * dim).reshape(n, dim)
    bias = hashed(3, n)
    print(f"data: users {users} items {n} dim {dim} k {k}; checksums U {checksum(U):.6f} "
          f"W {checksum(W):.6f} bias {checksum(bias):.6f}")
    WT = np.ascontiguousarray(W.T)
    top = np.empty((users, k), dtype=np.int64)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for u0 in range(0, users, chunk):
            S = U[u0:u0 + chunk] @ WT
            S += bias
            part = np.argpartition(-S, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(S, part, axis=1), axis=1, kind="stable")
            top[u0:u0 + chunk] = np.take_along_axis(part, order, axis=1)
        times.append(time.perf_counter() - t0)
    times.sort()
    t = times[len(times) // 2]
    print(f"BLAS: {blas_name()}")
    print(f"numpy U @ W.T + bias + argpartition (chunks of {chunk} users): "
          f"{users / t:.0f} users/s (median of {reps})")
    print("first user's top-5:", " ".join(str(i) for i in top[0, :5]))


if __name__ == "__main__":
    main()
