#!/usr/bin/env python3
"""Idle connections held against a server while a normal client keeps asking (issue 25).

Opens IDLE connections to ADDR spread over PROCS processes (a process holds at most `ulimit -n`
descriptors), sends nothing on them, and sorts them after HOLD seconds: held (still open,
nothing received), shed (a 503), closed (closed with no answer: the header timeout) or other. Meanwhile one keep-alive
connection, opened before the flood, sends a chat completion every 20 ms and times each answer.
Prints one JSON object: held, shed, closed, other, good requests, failures, latency
p50/p99/max (ms).

    python3 benches/idle_soak_client.py ADDR IDLE [PROCS] [HOLD_S]

Bounded: every socket has a timeout, and the whole run gives up after HOLD + 120 s. Loopback
only: ADDR must be 127.0.0.1:PORT.
"""

import json
import multiprocessing
import socket
import sys
import threading
import time

BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
REQUEST = (
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: soak\r\nauthorization: Bearer sk-soak\r\n"
    b"content-type: application/json\r\ncontent-length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


def hold(addr, count, seconds, results):
    """Opens `count` idle connections, waits, and sorts them; puts the counts on `results`."""
    sockets, refused = [], 0
    for _ in range(count):
        try:
            sockets.append(socket.create_connection(addr, timeout=10))
        except OSError:
            refused += 1
    time.sleep(seconds)
    held = shed = closed = other = 0
    for s in sockets:
        s.setblocking(False)
        try:
            data = s.recv(256)
            if data.startswith(b"HTTP/1.1 503"):
                shed += 1
            elif data == b"":
                closed += 1
            else:
                other += 1
        except BlockingIOError:
            held += 1
        except OSError:
            closed += 1
        s.close()
    results.put({"held": held, "shed": shed, "closed": closed, "other": other + refused})


def read_answer(sock):
    """Reads one answer with a content-length; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        body += chunk
    return int(head.split(b" ")[1])


def good_client(addr, stop, latencies, failures):
    """One keep-alive connection asking every 20 ms until `stop`."""
    sock = socket.create_connection(addr, timeout=10)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            sock.sendall(REQUEST)
            status = read_answer(sock)
            if status == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures.append(status)
        except OSError as error:
            failures.append(str(error))
            sock = socket.create_connection(addr, timeout=10)
        time.sleep(0.02)


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return round(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))], 2)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    if host != "127.0.0.1":
        sys.exit("loopback only: ADDR must be 127.0.0.1:PORT")
    addr = (host, int(port))
    idle = int(sys.argv[2])
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    hold_s = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    stop, latencies, failures = threading.Event(), [], []
    good = threading.Thread(target=good_client, args=(addr, stop, latencies, failures), daemon=True)
    good.start()
    time.sleep(0.5)
    results = multiprocessing.Queue()
    shares = [idle // procs + (1 if i < idle % procs else 0) for i in range(procs)]
    workers = [multiprocessing.Process(target=hold, args=(addr, n, hold_s, results)) for n in shares]
    started = time.time()
    for w in workers:
        w.start()
    totals = {"held": 0, "shed": 0, "closed": 0, "other": 0}
    for _ in workers:
        for key, value in results.get(timeout=hold_s + 120).items():
            totals[key] += value
    for w in workers:
        w.join(timeout=10)
    stop.set()
    good.join(timeout=10)
    lat = sorted(latencies)
    print(json.dumps({
        "idle": idle, **totals, "seconds": round(time.time() - started, 1),
        "good_requests": len(lat), "failures": len(failures), "failure_kinds": sorted(set(map(str, failures)))[:5],
        "p50_ms": percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99), "max_ms": round(lat[-1], 2) if lat else None,
    }))


if __name__ == "__main__":
    main()
