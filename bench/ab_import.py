#!/usr/bin/env python3
"""A/B timing of chat-import binaries (or settings) on one input: the configurations run
alternately, ROUNDS times each, each into a fresh database; prints the median and minimum
wall time, the median CPU time (user + system) and the median peak RSS of each.

usage: python3 bench/ab_import.py ROUNDS INPUT LABEL=SPEC [LABEL=SPEC ...]
  SPEC is a comma-separated list of KEY:VALUE; BIN:path picks the binary (default: the release
  build in $CARGO_TARGET_DIR or target/), any other KEY:VALUE is set in the environment.
example (the binary of an older commit against the current one):
  python3 bench/ab_import.py 7 bench-data/chatgpt-real-100mb.json before=BIN:/tmp/old after=
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rounds, export, configs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    results = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            env = dict(os.environ)
            binary = os.path.join(TARGET, "release", "chat-import")
            for pair in filter(None, config.partition("=")[2].split(",")):
                key, _, value = pair.partition(":")
                if key == "BIN":
                    binary = value
                else:
                    env[key] = value
            work = tempfile.mkdtemp(prefix="ab-import-")
            try:
                start = time.time()
                out = subprocess.run(
                    ["/usr/bin/time", "-f", "%U %S %M", binary, "--db",
                     os.path.join(work, "x.db"), "--json", "--quiet", export],
                    env=env, capture_output=True, text=True)
                wall = time.time() - start
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if out.returncode not in (0, 1):
                sys.exit(f"{config} failed ({out.returncode}):\n{out.stderr[-2000:]}")
            user, system, rss_kib = out.stderr.strip().splitlines()[-1].split()
            results[config].append((wall, float(user) + float(system), int(rss_kib) / 1024))
    for config, runs in results.items():
        walls = [r[0] for r in runs]
        print(f"{config:40s} wall median {statistics.median(walls):.3f} s "
              f"(min {min(walls):.3f})  cpu median {statistics.median(r[1] for r in runs):.3f} s  "
              f"peak RSS median {statistics.median(r[2] for r in runs):.0f} MiB")


if __name__ == "__main__":
    main()
