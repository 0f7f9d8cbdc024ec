#!/usr/bin/env python3
"""A mock's stream timing with the measuring client almost out of the way.

`chaos bench` and `cargo bench --bench mock_streams` read every event as it comes, so on a
2-core machine the measuring client takes most of a core beside the mock. This client opens the
same streams (2,000 streaming chat completions, opened evenly over one second, 100 tokens each
at 50 tokens/s) but reads each socket only every DRAIN seconds, non-blocking and with no epoll
registration, so it costs a fraction of a core. What it reports is the server's own account
(`GET /_chaos/timing`): the inter-token error as the server wrote its events, and its lateness.

    python3 benches/mock_streams_light_client.py [STREAMS] [DRAIN_S] [--bare]

    STREAMS   concurrent streams (2000)      DRAIN_S   seconds between reads of a socket (0.1)
    --bare    hold them on `chaos mock --bare-streams` (the floor) instead of `chaos mock`
    CHAOS     the chaos binary (target/release/chaos)
    PREFIX    a command the server starts under, e.g. "nice -n -10" or "chrt -r 10"

Bounded: gives up after 60 s. Loopback only.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

TOKENS = 100
RATE = 50
BOUND_S = 60


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid`."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(bare):
    """Starts the server and returns it with the port it printed."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    chaos = os.environ.get("CHAOS", os.path.join(repo, "target/release/chaos"))
    command = os.environ.get("PREFIX", "").split() + [
        chaos, "mock", "--openai", "127.0.0.1:0", "--tokens-per-second", str(RATE)]
    if bare:
        command.append("--bare-streams")
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r"http://127\.0\.0\.1:(\d+)", server.stdout.readline())
    if not match:
        server.kill()
        sys.exit(f"{' '.join(command)} printed no address")
    return server, int(match.group(1))


def main():
    positional = [a for a in sys.argv[1:] if not a.startswith("--")]
    streams = int(positional[0]) if positional else 2000
    drain_s = float(positional[1]) if len(positional) > 1 else 0.1
    bare = "--bare" in sys.argv
    server, port = start_server(bare)
    try:
        body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                           "stream": True, "max_tokens": TOKENS}).encode()
        request = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                   b"authorization: Bearer sk-bench\r\ncontent-type: application/json\r\n"
                   b"content-length: %d\r\n\r\n" % len(body)) + body
        server_cpu0, client_cpu0 = cpu_seconds(server.pid), time.process_time()
        started = time.monotonic()
        sockets = []
        for index in range(streams):
            delay = started + index / streams - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(request)
            connection.setblocking(False)
            sockets.append(connection)
        tails = [b""] * streams
        open_streams = set(range(streams))
        while open_streams and time.monotonic() - started < BOUND_S:
            time.sleep(drain_s)
            for index in list(open_streams):
                while True:
                    try:
                        read = sockets[index].recv(65536)
                    except BlockingIOError:
                        break
                    tails[index] = (tails[index] + read)[-32:]
                    if not read or b"[DONE]" in tails[index]:
                        open_streams.discard(index)
                        break
        seconds = time.monotonic() - started
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu0, time.process_time() - client_cpu0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_chaos/timing", timeout=10) as answer:
            timing = json.load(answer)
        gap = timing["gap_error"]
        print(json.dumps({
            "server": "bare" if bare else "mock",
            "prefix": os.environ.get("PREFIX", ""),
            "streams": streams,
            "drain_s": drain_s,
            "unfinished": len(open_streams),
            "seconds": round(seconds, 2),
            "server_cpu_s": round(server_cpu, 2),
            "client_cpu_s": round(client_cpu, 2),
            "inter_token_error_ms": {k: gap[f"{k}_ms"] for k in ("p50", "p99", "p999", "max")},
            "lateness_p99_ms": timing["p99_ms"],
        }))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
