#!/usr/bin/env python3
"""Media import benchmark (issue 13): a generated 2026 ChatGPT zip with --media-mb of `.dat`
images and audio, imported by the release chat-import into a fresh SQLite store, then again
into the same store. Raw disk throughput (dd, fdatasync) is measured in the same round, just
before the imports, as the ceiling. Peak RSS and file system outputs from /usr/bin/time -v;
write_bytes from /proc/self/io of this script, which includes the reaped child's (Linux adds a
waited-for child's I/O accounting to its parent's).

usage: python3 bench/media_bench.py [--mb 512] [--media-mb 1536] [--seed 13] [--rounds 3] [--keep]
Run from the workspace root after `cargo build --release -p chat-import-cli` and
`cargo build --release -p chat-parse-chatgpt --example gen_export`. Deletes what it generated
unless --keep.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def write_bytes():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def timed(cmd):
    before = write_bytes()
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    written = write_bytes() - before
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    err = out.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err).group(1)
    seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    fs_out = int(re.search(r"File system outputs: (\d+)", err).group(1))
    user = float(re.search(r"User time \(seconds\): (\S+)", err).group(1))
    system = float(re.search(r"System time \(seconds\): (\S+)", err).group(1))
    return {"wall": seconds, "rss": rss, "fs_out_bytes": fs_out * 512, "write_bytes": written,
            "cpu": user + system, "report": json.loads(out.stdout)}


def dd(path):
    out = subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=2048",
                          "conv=fdatasync"], capture_output=True, text=True, check=True)
    os.remove(path)
    m = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", out.stderr)
    return int(m.group(1)) / float(m.group(2)) / 1e6


def media_listing(db):
    """(name, size, mtime) of every file under the media directory."""
    root = db + ".media"
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            st = os.stat(os.path.join(d, f))
            out.append((os.path.relpath(os.path.join(d, f), root), st.st_size, st.st_mtime_ns))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=512, help="conversations JSON, MB (uncompressed)")
    ap.add_argument("--media-mb", type=int, default=1536)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the generated zip")
    ap.add_argument("--bin", action="append", default=[],
                    help="chat-import binary to measure (repeat for an A/B, alternating in each "
                         "round; default target/release/chat-import)")
    args = ap.parse_args()

    data = os.path.join(ROOT, "bench-data")
    os.makedirs(data, exist_ok=True)
    export = os.path.join(data, f"chatgpt-media-{args.mb}-{args.media_mb}-s{args.seed}.zip")
    if not os.path.exists(export):
        gen = os.path.join(TARGET, "release", "examples", "gen_export")
        t = time.time()
        subprocess.run([gen, "--mb", str(args.mb), "--media-mb", str(args.media_mb),
                        "--seed", str(args.seed), "--out", export], check=True)
        print(f"generated in {time.time() - t:.1f} s")
    zip_mb = os.path.getsize(export) / 1e6
    bins = args.bin or [os.path.join(TARGET, "release", "chat-import")]
    results = {b: [] for b in bins}
    try:
        for r in range(args.rounds):
            for rust in bins:
                results[rust].append(run_round(rust, export, data, r))
    finally:
        if not args.keep:
            os.remove(export)
    for rust, rows in results.items():
        print(f"\n{rust}")
        summary(rows, export, zip_mb)


def run_round(rust, export, data, r):
    disk = dd(os.path.join(data, "dd.tmp"))
    work = os.path.join(data, f"media-bench-{r}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = os.path.join(work, "chat.db")
    first = timed([rust, "--db", db, "--json", "--quiet", export])
    listing = media_listing(db)
    media_bytes = sum(s for _, s, _ in listing)
    second = timed([rust, "--db", db, "--json", "--quiet", export])
    unchanged = media_listing(db) == listing
    m1, m2 = first["report"]["totals"]["media"], second["report"]["totals"]["media"]
    row = {"disk": disk, "first": first, "second": second, "media_bytes": media_bytes,
           "items": len(listing), "unchanged": unchanged, "m1": m1, "m2": m2,
           "conversations": first["report"]["totals"]["imported"],
           "messages": first["report"]["totals"]["messages"]}
    print(f"{os.path.basename(rust)} round {r + 1}: dd {disk:.0f} MB/s; first {first['wall']:.2f} s, "
          f"{media_bytes / 1e6 / first['wall']:.0f} MB/s of media, RSS {first['rss']:.1f} MiB, "
          f"write_bytes {first['write_bytes'] / 1e6:.0f} MB, media {m1}; second "
          f"{second['wall']:.2f} s, RSS {second['rss']:.1f} MiB, write_bytes "
          f"{second['write_bytes'] / 1e6:.1f} MB, media {m2}, media dir unchanged: {unchanged}",
          flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return row


def summary(rows, export, zip_mb):
    med = statistics.median
    media_mb = rows[0]["media_bytes"] / 1e6
    disk = med(r["disk"] for r in rows)
    print(f"\ninput: {os.path.basename(export)}, {zip_mb:.1f} MB zip; {rows[0]['conversations']} "
          f"conversations, {rows[0]['messages']} messages; {rows[0]['items']} media items, "
          f"{media_mb:.1f} MB stored")
    print("| measure (median of %d) | first import | second import |" % len(rows))
    print("|---|---|---|")
    f = lambda key, run: med(r[run][key] for r in rows)  # noqa: E731
    print(f"| wall clock | {f('wall', 'first'):.2f} s | {f('wall', 'second'):.2f} s |")
    print(f"| CPU (user + system) | {f('cpu', 'first'):.2f} s | {f('cpu', 'second'):.2f} s |")
    rate = med(r["media_bytes"] / 1e6 / r["first"]["wall"] for r in rows)
    print(f"| media stored / whole wall clock | **{rate:.0f} MB/s** | — |")
    print(f"| peak RSS | **{f('rss', 'first'):.1f} MiB** | **{f('rss', 'second'):.1f} MiB** |")
    print(f"| /proc write_bytes | {f('write_bytes', 'first') / 1e6:.1f} MB | "
          f"**{f('write_bytes', 'second') / 1e6:.1f} MB** |")
    print(f"| File system outputs (x 512 B) | {f('fs_out_bytes', 'first') / 1e6:.1f} MB | "
          f"{f('fs_out_bytes', 'second') / 1e6:.1f} MB |")
    print(f"| media counts | {rows[0]['m1']} | {rows[0]['m2']} |")
    print(f"| media directory unchanged by the second import | — | "
          f"{all(r['unchanged'] for r in rows)} |")
    print(f"\nraw disk (dd 2 GiB, fdatasync), median: {disk:.0f} MB/s; media rate / disk: "
          f"{rate / disk:.2f}")


if __name__ == "__main__":
    main()
