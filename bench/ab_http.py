#!/usr/bin/env python3
"""A/B throughput of chat-server binaries on one HTTP endpoint: the servers run one at a time,
alternately, ROUNDS times each, over the same database (the order flips every round, so a
machine that gets busier or quieter over the run favours neither); each round starts the server, warms it
up for 3 s, runs `wrk -t2 -c64 -dSECONDSs --latency` and stops the server. Prints every round
and the median requests/s, p99 and server CPU time per request (user + system, from
/proc/PID/stat: less sensitive than throughput to other load on a shared machine) of each
binary.

usage: python3 bench/ab_http.py ROUNDS SECONDS DB PATH LABEL=BINARY [LABEL=BINARY ...]
  PATH is the request path under /api/v1, e.g. /conversations
example (an older commit's build against this one, on a seeded database):
  target/release/chat-server --db /tmp/bench.db --seed-demo 120000
  python3 bench/ab_http.py 5 15 /tmp/bench.db /conversations \\
      before=/tmp/old/chat-server after=target/release/chat-server
"""
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

PORT = 18080


def wait_up(base):
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    sys.exit("the server did not come up")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rps, float(p99.group(1)) * scale, requests


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    rounds, seconds, db, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    configs = [a.partition("=") for a in sys.argv[5:]]
    base = f"http://127.0.0.1:{PORT}/api/v1"
    results = {label: [] for label, _, _ in configs}
    env = dict(os.environ, CHAT_LOG="warn")
    for n in range(rounds):
        for label, _, binary in (configs if n % 2 == 0 else configs[::-1]):
            server = subprocess.Popen([binary, "--db", db, "--bind", f"127.0.0.1:{PORT}"],
                                      env=env, stdout=subprocess.DEVNULL)
            try:
                wait_up(base)
                wrk(base + path, 3)
                cpu_before = cpu_seconds(server.pid)
                rps, p99, requests = wrk(base + path, seconds)
                cpu_us = (cpu_seconds(server.pid) - cpu_before) * 1e6 / requests
            finally:
                server.terminate()
                server.wait(timeout=30)
            results[label].append((rps, p99, cpu_us))
            print(f"round {n + 1} {label:10s} {rps:9.0f} req/s  p99 {p99:7.2f} ms  "
                  f"server CPU {cpu_us:6.1f} us/request", flush=True)
    for label, runs in results.items():
        print(f"{label:10s} median {statistics.median(r[0] for r in runs):9.0f} req/s  "
              f"p99 median {statistics.median(r[1] for r in runs):7.2f} ms  "
              f"server CPU median {statistics.median(r[2] for r in runs):6.1f} us/request  "
              f"({len(runs)} rounds)")


if __name__ == "__main__":
    main()
