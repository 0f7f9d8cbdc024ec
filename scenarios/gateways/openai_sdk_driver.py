"""openai-python as the system under test: a tiny HTTP server that answers each chat request the
harness's load sends it by making the same call with the official SDK — its own retries,
backoff and Retry-After handling included — against the upstream the harness gives it (an
interposer in front of a mock). So what the interposer records is exactly what the SDK sent.

Started by the harness as a `command` target (see openai-sdk-brownout.yaml), with the upstream
and its key in the SDK's own environment variables, OPENAI_BASE_URL and OPENAI_API_KEY (never on
a command line):
    python openai_sdk_driver.py --port PORT [--max-retries N] [--timeout SECONDS]

POST /v1/chat/completions: the body goes to client.chat.completions.create(**body); a JSON
answer or, for `stream: true`, the SDK's chunks re-sent as SSE ending with `data: [DONE]`.
An SDK error becomes the upstream's status and body (APIStatusError), a 504 for a timeout and
a 502 for a connection error. The load's correlation header `x-chaos-request-id` is passed on
to every attempt, so the harness joins the SDK's retries to their logical request.
GET /health answers 200 once the server is up.
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai

CORRELATION = "x-chaos-request-id"


def make_handler(client):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # quiet: the harness keeps the records
            pass

        def do_GET(self):
            if self.path == "/health":
                self.send_json(200, {"status": "ok"})
            else:
                self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

        def do_POST(self):
            if self.path != "/v1/chat/completions":
                self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self.send_json(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
                return
            extra = {CORRELATION: self.headers[CORRELATION]} if self.headers.get(CORRELATION) else {}
            try:
                if body.get("stream"):
                    stream = client.chat.completions.create(**body, extra_headers=extra)
                    self.send_stream(stream)
                else:
                    answer = client.chat.completions.create(**body, extra_headers=extra)
                    self.send_json(200, answer.model_dump(exclude_unset=True))
            except openai.APIStatusError as error:
                self.send_raw(error.status_code, error.response.content)
            except openai.APITimeoutError:
                self.send_json(504, {"error": {"message": "upstream timed out", "type": "timeout"}})
            except openai.APIConnectionError:
                self.send_json(502, {"error": {"message": "upstream unreachable", "type": "connection_error"}})

        def send_json(self, status, value):
            self.send_raw(status, json.dumps(value).encode())

        def send_raw(self, status, data):
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def send_stream(self, stream):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            try:
                for chunk in stream:
                    self.write_chunk(b"data: " + chunk.model_dump_json(exclude_unset=True).encode() + b"\n\n")
                self.write_chunk(b"data: [DONE]\n\n")
            except openai.APIError:
                pass  # a stream broken mid-way ends without [DONE], as the upstream's did
            self.write_chunk(b"")

        def write_chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-retries", type=int, default=2, help="the SDK's default is 2")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    # base_url and api_key from OPENAI_BASE_URL and OPENAI_API_KEY, as any SDK user's would be.
    client = openai.OpenAI(max_retries=args.max_retries, timeout=args.timeout)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(client))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
