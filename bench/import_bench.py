#!/usr/bin/env python3
"""End-to-end import benchmark: chat-import (release) against python_importer.py, same input,
same run, three rounds each, medians. Peak RSS from /usr/bin/time -v.

usage: python3 bench/import_bench.py --mb 100 [--rounds 3] [--skip-python] [--profile text|real]
       [--pg-admin-url postgres://postgres@127.0.0.1:5432/postgres] [--pg-baseline BIN]
With --pg-admin-url, each round also imports into a fresh PostgreSQL database (`chat_bench`,
dropped and created through that URL with psql), alternating with the SQLite and Python runs;
with --pg-baseline, another chat-import binary (an older build) does the same in each round.
Run from the workspace root after `cargo build --release -p chat-import-cli` and
`cargo build --release -p chat-parse-chatgpt --example gen_export`.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def timed(cmd, env=None):
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return seconds, rss_kib / 1024, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", choices=["text", "real"], default="text",
                    help="gen_export's profile: text-heavy, or shaped like real exports")
    ap.add_argument("--pg-admin-url", help="also import into PostgreSQL (a server this URL administers)")
    ap.add_argument("--pg-baseline", help="another chat-import binary to import into PostgreSQL too")
    args = ap.parse_args()

    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    suffix = "" if args.profile == "text" else f"-{args.profile}"
    export = os.path.join(data, f"chatgpt{suffix}-{args.mb}mb.json")
    if not os.path.exists(export):
        gen = os.path.join(TARGET, "release", "examples", "gen_export")
        subprocess.run([gen, "--mb", str(args.mb), "--out", export, "--seed", str(args.seed),
                        "--profile", args.profile], check=True)
    size_mb = os.path.getsize(export) / 1e6
    rust = os.path.join(TARGET, "release", "chat-import")
    results = {"rust": [], "postgres": [], "postgres-baseline": [], "python": []}
    work = tempfile.mkdtemp(prefix="import-bench-", dir=data)
    try:
        for r in range(args.rounds):
            db = os.path.join(work, f"rust-{r}.db")
            secs, rss, stdout = timed([rust, "--db", db, "--json", "--quiet", export])
            report = json.loads(stdout)
            results["rust"].append((secs, rss, report["totals"]["messages"], report["totals"]["imported"]))
            pg_runs = [("postgres", rust)] if args.pg_admin_url else []
            if args.pg_admin_url and args.pg_baseline:
                pg_runs.append(("postgres-baseline", args.pg_baseline))
            for name, binary in pg_runs[:: 1 if r % 2 == 0 else -1]:
                for sql in ("DROP DATABASE IF EXISTS chat_bench WITH (FORCE)", "CREATE DATABASE chat_bench"):
                    subprocess.run(["psql", "-q", args.pg_admin_url, "-c", sql], check=True)
                url = args.pg_admin_url.rsplit("/", 1)[0] + "/chat_bench"
                secs, rss, stdout = timed([binary, "--db", url, "--json", "--quiet", export])
                report = json.loads(stdout)
                results[name].append((secs, rss, report["totals"]["messages"], report["totals"]["imported"]))
            if not args.skip_python:
                db = os.path.join(work, f"python-{r}.db")
                secs, rss, stdout = timed([sys.executable, os.path.join(ROOT, "bench", "python_importer.py"), export, db])
                report = json.loads(stdout)
                results["python"].append((secs, rss, report["messages"], report["conversations"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"input: {export} ({size_mb:.1f} MB)")
    print("| importer | median s | MB/s | messages/s | peak RSS MiB | conversations | messages |")
    print("|---|---|---|---|---|---|---|")
    medians = {}
    for name, rows in results.items():
        if not rows:
            continue
        secs = statistics.median(r[0] for r in rows)
        rss = statistics.median(r[1] for r in rows)
        msgs, convs = rows[0][2], rows[0][3]
        medians[name] = secs
        print(f"| {name} | {secs:.2f} | {size_mb / secs:.1f} | {msgs / secs:,.0f} | {rss:.0f} | {convs} | {msgs} |")
    if "python" in medians:
        print(f"\nchat-import / python throughput ratio: {medians['python'] / medians['rust']:.2f}x")
    if "postgres" in medians:
        print(f"chat-import into PostgreSQL / SQLite throughput ratio: {medians['rust'] / medians['postgres']:.2f}x")
        if "python" in medians:
            print(f"chat-import into PostgreSQL / python throughput ratio: {medians['python'] / medians['postgres']:.2f}x")
        if "postgres-baseline" in medians:
            print(f"chat-import into PostgreSQL / the baseline binary: {medians['postgres-baseline'] / medians['postgres']:.2f}x")


if __name__ == "__main__":
    main()
