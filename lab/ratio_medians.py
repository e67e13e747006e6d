#!/usr/bin/env python3
"""Median ratios over benchmark rounds: ratio_medians.py FILE LABEL [TARGET]

FILE has a line per run, "approach numerator denominator" (seconds). Prints each approach's ratios
and their median; with TARGET, whether the median is within it. One ratio says little on a noisy
machine, so the benchmarks repeat and report the median.
"""
import statistics
import sys

path, label = sys.argv[1], sys.argv[2]
target = float(sys.argv[3]) if len(sys.argv) > 3 else None
runs = {}
for line in open(path):
    name, numerator, denominator = line.split()
    runs.setdefault(name, []).append(float(numerator) / float(denominator))
for name, ratios in runs.items():
    median = statistics.median(ratios)
    verdict = "" if target is None else f" ({'within' if median <= target else 'over'} the {target:g}x target)"
    print(f"{name}: {label} over {len(ratios)} round(s): {' '.join(f'{x:.3f}' for x in ratios)}; median {median:.3f}{verdict}")
