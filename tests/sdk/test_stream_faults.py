"""What the official SDKs do when a stream misbehaves (`chaos mock --fault` applies the same
stream faults the interposer does, through the same code).

These tests document client behaviour, including the silent failures: a stream cut without
`[DONE]` returns a short answer and no error at all.
"""

from __future__ import annotations

import json
import time
import urllib.request

import anthropic
import openai
import pytest

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say something about chaos testing."}]
TOKENS = 8
FULL_TEXT = "chaos tests the gateway before the pager does"


def stream_text(mock, **kwargs) -> tuple[str, list]:
    sdk = openai.OpenAI(base_url=mock.openai_base_url, api_key="sk-test", timeout=kwargs.pop("timeout", 20))
    chunks = list(
        sdk.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_completion_tokens=TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def test_no_fault_streams_the_whole_answer(mock):
    text, chunks = stream_text(mock())
    assert text == FULL_TEXT
    assert chunks[-1].usage.completion_tokens == TOKENS


def test_a_cut_stream_returns_a_short_answer_silently(mock):
    # Events: role chunk, then one per token. Cut after 4 events: role + 3 tokens, no [DONE].
    text, chunks = stream_text(mock("--fault", "{ cut: { after_events: 4 } }"))
    assert text == "chaos tests the"  # no exception: the SDK cannot tell the answer is short
    assert all(c.usage is None for c in chunks)  # and it never learns the usage


def test_a_dropped_done_goes_unnoticed(mock):
    text, chunks = stream_text(mock("--fault", "{ drop: done }"))
    assert text == FULL_TEXT
    assert chunks[-1].usage.completion_tokens == TOKENS


def test_a_dropped_usage_chunk_leaves_the_client_blind_to_cost(mock):
    text, chunks = stream_text(mock("--fault", "{ drop: usage }"))
    assert text == FULL_TEXT
    assert all(c.usage is None for c in chunks)


def test_a_mid_stream_error_raises_and_is_not_retried(mock):
    m = mock("--fault", "{ inject: { kind: error, after_events: 3 } }")
    with pytest.raises(openai.APIError) as raised:
        stream_text(m)
    assert "server had an error" in str(raised.value)
    assert m.requests("openai") == 1  # the SDK raised mid-stream; it does not retry


def test_a_malformed_event_raises(mock):
    with pytest.raises(ValueError):  # json.JSONDecodeError is a ValueError
        stream_text(mock("--fault", "{ inject: { kind: malformed, after_events: 2 } }"))


def test_a_stall_longer_than_the_read_timeout_raises_a_timeout(mock):
    m = mock("--fault", "{ stall: { after_events: 3, for: 5s } }")
    with pytest.raises(openai.APITimeoutError):
        stream_text(m, timeout=1.0)


def test_a_short_stall_only_delays_the_answer(mock):
    text, _ = stream_text(mock("--fault", "{ stall: { after_events: 3, for: 300ms } }"))
    assert text == FULL_TEXT


def test_anthropic_raises_on_a_mid_stream_error_event(mock):
    m = mock("--fault", "{ inject: { kind: error, after_events: 4 } }")
    sdk = anthropic.Anthropic(base_url=m.anthropic_base_url, api_key="sk-ant-test", timeout=20)
    with pytest.raises(anthropic.APIStatusError) as raised:
        with sdk.messages.stream(model="claude-haiku-4-5", max_tokens=TOKENS, messages=MESSAGES) as stream:
            for _ in stream.text_stream:
                pass
    assert "Overloaded" in str(raised.value)
    assert m.requests("anthropic") == 1


def test_a_slow_close_goes_unnoticed_by_openai_python_which_stops_at_done(mock):
    # Every event, [DONE] included, arrives at once; the body ends only 2 s later. The SDK stops
    # reading at [DONE], so the answer is whole and prompt; a client that reads to the end of
    # the body (here: the standard library's) waits the 2 s out.
    m = mock("--fault", "{ slow_close: 2s }")
    started = time.monotonic()
    text, chunks = stream_text(m)
    assert text == FULL_TEXT
    assert chunks[-1].usage.completion_tokens == TOKENS
    assert time.monotonic() - started < 1.5

    body = json.dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": TOKENS, "stream": True}).encode()
    request = urllib.request.Request(
        f"{m.openai_base_url}/chat/completions",
        data=body,
        headers={"authorization": "Bearer sk-test", "content-type": "application/json"},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=20) as response:
        raw = response.read()
    assert raw.rstrip().endswith(b"data: [DONE]")
    assert time.monotonic() - started >= 2.0
