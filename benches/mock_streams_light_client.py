#!/usr/bin/env python3
"""A mock's stream timing with the measuring client almost out of the way.

`chaos bench` and `cargo bench --bench mock_streams` read every event as it comes, so on a
2-core machine the measuring client takes most of a core beside the mock. This client opens the
same streams (2,000 streaming chat completions, opened evenly over one second, 100 tokens each
at 50 tokens/s) but reads its sockets only every DRAIN seconds, non-blocking and with no epoll
registration, so it costs a fraction of a core. What it reports is the server's own account
(`GET /_chaos/timing`): the inter-token error as the server wrote its events, its lateness,
its CPU and its peak RSS.

Over HTTP/1.1 (the default) each stream has a connection of its own, as an SDK opens them.
With `--h2 CONNS` the streams share CONNS HTTP/2 connections (h2c, prior knowledge; 100 streams
a connection for 20): the same events, but the mock's writes for the streams of one connection
that fall due together leave in one segment.

    python3 benches/mock_streams_light_client.py [STREAMS] [DRAIN_S] [--bare] [--h2 CONNS]

    STREAMS   concurrent streams (2000)      DRAIN_S   seconds between reads of a socket (0.1)
    --bare    hold them on `chaos mock --bare-streams` (the floor; HTTP/1.1 only)
    CHAOS     the chaos binary (target/release/chaos)
    PREFIX    a command the server starts under, e.g. "nice -n -10" or "chrt -r 10"

Bounded: gives up after 60 s. Loopback only.
"""

import json
import os
import re
import socket
import struct
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


def h2_frame(kind, flags, stream, payload=b""):
    """One HTTP/2 frame (RFC 9113 section 4.1)."""
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """A header field as a literal without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    name, value = name.encode(), value.encode()
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def evenly_over_a_second(streams, started):
    """Yields 0 … streams-1, each when its share of the second since `started` has come."""
    for index in range(streams):
        delay = started + index / streams - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield index


def open_h1(port, streams, body, started):
    """A connection a stream, each with its request sent; opened evenly over a second."""
    request = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
               b"authorization: Bearer sk-bench\r\ncontent-type: application/json\r\n"
               b"content-length: %d\r\n\r\n" % len(body)) + body
    sockets = []
    for _ in evenly_over_a_second(streams, started):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(request)
        connection.setblocking(False)
        sockets.append(connection)
    return sockets


def open_h2(port, connections):
    """`connections` HTTP/2 connections with windows wide enough never to need an update; the
    streams are opened on them later, by `start_h2_streams`."""
    sockets = []
    for _ in range(connections):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                           + h2_frame(4, 0, 0, struct.pack(">HI", 4, 2**31 - 1))  # INITIAL_WINDOW_SIZE
                           + h2_frame(8, 0, 0, struct.pack(">I", 2**31 - 1 - 65535)))  # the connection's
        connection.settimeout(5)
        connection.recv(65536)  # the server's SETTINGS
        connection.sendall(h2_frame(4, 1, 0))  # acknowledged
        connection.setblocking(False)
        sockets.append(connection)
    return sockets


def start_h2_streams(sockets, port, streams, body, started):
    """Opens the streams evenly over a second, round robin over the connections."""
    block = b"".join(hpack_literal(n, v) for n, v in [
        (":method", "POST"), (":scheme", "http"), (":path", "/v1/chat/completions"),
        (":authority", f"127.0.0.1:{port}"), ("content-type", "application/json"),
        ("authorization", "Bearer sk-bench"), ("content-length", str(len(body)))])
    for index in evenly_over_a_second(streams, started):
        connection = sockets[index % len(sockets)]
        stream = 2 * (index // len(sockets)) + 1
        connection.setblocking(True)
        connection.sendall(h2_frame(1, 0x4, stream, block) + h2_frame(0, 0x1, stream, body))
        connection.setblocking(False)


def drain(sockets, drain_s, started, done=None):
    """Reads every socket every `drain_s` seconds until `done(last_bytes_read)` has said so of
    each (HTTP/1.1), or until the streams must have ended (HTTP/2), or the bound; returns how
    many HTTP/1.1 streams did not end."""
    expected_end = 1 + TOKENS / RATE + 1.5
    open_sockets = set(range(len(sockets)))
    tails = [b""] * len(sockets)
    while open_sockets and time.monotonic() - started < BOUND_S:
        if done is None and time.monotonic() - started > expected_end:
            break
        time.sleep(drain_s)
        for index in list(open_sockets):
            while True:
                try:
                    read = sockets[index].recv(1 << 20)
                except BlockingIOError:
                    break
                if done is None:
                    if not read:
                        open_sockets.discard(index)
                        break
                    continue
                tails[index] = (tails[index] + read)[-32:]
                if not read or done(tails[index]):
                    open_sockets.discard(index)
                    break
    return len(open_sockets) if done is not None else 0


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main():
    positional = [a for i, a in enumerate(sys.argv[1:], 1)
                  if not a.startswith("--") and sys.argv[i - 1] != "--h2"]
    streams = int(positional[0]) if positional else 2000
    drain_s = float(positional[1]) if len(positional) > 1 else 0.1
    bare = "--bare" in sys.argv
    h2 = int(sys.argv[sys.argv.index("--h2") + 1]) if "--h2" in sys.argv else None
    if bare and h2:
        sys.exit("--bare serves HTTP/1.1 only")
    server, port = start_server(bare)
    try:
        body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                           "stream": True, "max_tokens": TOKENS}).encode()
        if h2:
            sockets = open_h2(port, h2)
        server_cpu0, client_cpu0 = cpu_seconds(server.pid), time.process_time()
        started = time.monotonic()
        if h2:
            start_h2_streams(sockets, port, streams, body, started)
            unfinished = drain(sockets, drain_s, started)
        else:
            sockets = open_h1(port, streams, body, started)
            unfinished = drain(sockets, drain_s, started, done=lambda tail: b"[DONE]" in tail)
        seconds = time.monotonic() - started
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu0, time.process_time() - client_cpu0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_chaos/timing", timeout=10) as answer:
            timing = json.load(answer)
        gap = timing["gap_error"]
        print(json.dumps({
            "server": "bare" if bare else "mock",
            "transport": f"h2 over {h2} connections" if h2 else "HTTP/1.1, a connection a stream",
            "prefix": os.environ.get("PREFIX", ""),
            "streams": streams,
            "drain_s": drain_s,
            # role, content, finish and [DONE]: TOKENS + 3 a stream.
            "events": timing.get("events"),
            "events_expected": streams * (TOKENS + 3),
            "unfinished": unfinished,
            "seconds": round(seconds, 2),
            "server_cpu_s": round(server_cpu, 2),
            "client_cpu_s": round(client_cpu, 2),
            "server_peak_rss_mb": peak_rss_mb(server.pid),
            "inter_token_error_ms": {k: gap[f"{k}_ms"] for k in ("p50", "p99", "p999", "max")},
            "lateness_p99_ms": timing["p99_ms"],
        }))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
