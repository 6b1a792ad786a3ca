#!/usr/bin/env python3
"""A small closed-loop HTTP load client (standard library only), the
fallback scripts/load.sh uses when wrk is not installed.

Each of --connections threads keeps one keep-alive connection and sends GET
requests back to back until --duration seconds have passed, so the run is
bounded in time. Prints one line: label, requests/s, p50, p90, p99 and max
latency, and the count of errors (non-200 answers and failed requests).
Refuses any host that is not on the loopback network.
"""

import argparse
import http.client
import ipaddress
import socket
import sys
import threading
import time
import urllib.parse


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def fmt_ms(seconds):
    ms = seconds * 1000
    return f"{ms:.2f}ms" if ms < 100 else f"{ms:.0f}ms"


def worker(host, port, target, deadline, latencies, errors, lock):
    conn = None
    mine, bad = [], 0
    while True:
        start = time.perf_counter()
        if start >= deadline:
            break
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", target)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                bad += 1
            mine.append(time.perf_counter() - start)
        except (OSError, http.client.HTTPException):
            bad += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    with lock:
        latencies.extend(mine)
        errors[0] += bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--label", default=None)
    args = ap.parse_args()
    if not 0 < args.duration <= 600 or not 0 < args.connections <= 1024:
        sys.exit("duration must be in (0, 600] s and connections in (0, 1024]")

    u = urllib.parse.urlsplit(args.url)
    if u.scheme != "http" or not u.hostname:
        sys.exit("only http:// URLs")
    addr = ipaddress.ip_address(socket.gethostbyname(u.hostname))
    if not addr.is_loopback:
        sys.exit(f"{u.hostname} is not a loopback address; refusing to send load there")
    target = u.path + (f"?{u.query}" if u.query else "")

    latencies, errors, lock = [], [0], threading.Lock()
    start = time.perf_counter()
    deadline = start + args.duration
    threads = [
        threading.Thread(
            target=worker,
            args=(u.hostname, u.port or 80, target, deadline, latencies, errors, lock),
            daemon=True,
        )
        for _ in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=args.duration + 20)
    elapsed = time.perf_counter() - start
    latencies.sort()
    label = args.label or target
    print(
        f"{label:<62} {len(latencies) / elapsed:>10.2f} "
        f"{fmt_ms(percentile(latencies, 0.50)):>9} {fmt_ms(percentile(latencies, 0.90)):>9} "
        f"{fmt_ms(percentile(latencies, 0.99)):>9} {fmt_ms(latencies[-1] if latencies else float('nan')):>9} "
        f"{errors[0]:>7}"
    )


if __name__ == "__main__":
    main()
