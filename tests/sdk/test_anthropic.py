"""anthropic-python against the `chaos mock` Anthropic provider: messages, streams, retries, auth."""

from __future__ import annotations

import re
import time

import anthropic
import pytest

# Any model name works; a current one keeps the SDK's deprecation warning for old models quiet.
MODEL = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "Say something about chaos testing."}]
# The mock's documented estimate (src/wire/tokens.rs): ceil(chars / 4) + 4 per message + 3.
INPUT_TOKENS = -(-len(MESSAGES[0]["content"]) // 4) + 4 + 3
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")


def client(mock, api_key: str = "sk-ant-test", **kwargs) -> anthropic.Anthropic:
    # A hung mock fails the test in seconds, not the SDK's default 10 minutes; retries stay default.
    kwargs.setdefault("timeout", 20)
    return anthropic.Anthropic(base_url=mock.anthropic_base_url, api_key=api_key, **kwargs)


def test_the_sdks_default_auth_header_is_accepted(mock):
    """Regression: anthropic-python >= 2.0 sends `api_key` as `Authorization: Bearer`, not `x-api-key`."""
    sdk = anthropic.Anthropic(base_url=mock().anthropic_base_url, api_key="sk-ant-test", max_retries=0)
    assert sdk.messages.create(model=MODEL, max_tokens=2, messages=MESSAGES).usage.output_tokens == 2


def test_message_parses_with_consistent_usage(mock):
    m = mock()
    message = client(m).messages.create(model=MODEL, max_tokens=6, messages=MESSAGES)

    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == MODEL
    [block] = message.content
    assert block.type == "text"
    # One word per output token, and the mock writes exactly max_tokens of them.
    assert len(block.text.split()) == 6
    assert message.stop_reason == "max_tokens"
    assert message.stop_sequence is None
    assert message.usage.output_tokens == 6
    assert message.usage.input_tokens == INPUT_TOKENS
    assert message.usage.cache_read_input_tokens == 0
    assert REQUEST_ID.match(message._request_id or ""), message._request_id

    [row] = m.counts("anthropic")
    assert (row["key"], row["model"], row["requests"], row["statuses"]) == ("any", MODEL, 1, {"200": 1})
    assert (row["prompt_tokens"], row["output_tokens"]) == (message.usage.input_tokens, 6)


def test_system_prompt_counts_as_input(mock):
    c = client(mock())
    bare = c.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES)
    system = c.messages.create(model=MODEL, max_tokens=1, messages=MESSAGES, system="Be terse. " * 20)
    assert system.usage.input_tokens > bare.usage.input_tokens + 40


def test_text_stream_and_final_message_agree(mock):
    m = mock()
    with client(m).messages.stream(model=MODEL, max_tokens=8, messages=MESSAGES) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) == 8
    assert all(pieces)
    [block] = final.content
    assert block.text == "".join(pieces)
    assert len(block.text.split()) == 8
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == len(pieces)
    assert final.usage.input_tokens > 0

    [row] = m.counts("anthropic")
    assert (row["requests"], row["statuses"], row["output_tokens"]) == (1, {"200": 1}, 8)


def test_final_message_without_iterating_matches_the_unstreamed_answer(mock):
    c = client(mock())
    whole = c.messages.create(model=MODEL, max_tokens=20, messages=MESSAGES)
    with c.messages.stream(model=MODEL, max_tokens=20, messages=MESSAGES) as stream:
        final = stream.get_final_message()

    assert final.content[0].text == whole.content[0].text
    assert final.usage.output_tokens == whole.usage.output_tokens == 20
    assert final.usage.input_tokens == whole.usage.input_tokens
    assert final.stop_reason == whole.stop_reason == "max_tokens"


def test_raw_stream_events_arrive_in_order(mock):
    stream = client(mock()).messages.create(model=MODEL, max_tokens=3, messages=MESSAGES, stream=True)
    events = list(stream)
    kinds = [event.type for event in events]

    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [event for event in events if event.type == "content_block_delta"]
    assert len(deltas) == 3
    assert all(event.delta.type == "text_delta" and event.index == 0 for event in deltas)
    assert set(kinds[2:-3]) == {"content_block_delta"}

    start = events[0].message
    assert start.usage.input_tokens > 0
    assert start.content == [] and start.stop_reason is None
    [delta] = [event for event in events if event.type == "message_delta"]
    assert delta.delta.stop_reason == "max_tokens"
    assert delta.usage.output_tokens == 3  # cumulative


def test_stream_is_paced_by_the_latency_model(mock):
    # TTFT 200 ms, then 50 tokens/s: text at ~0.2 s, the 6th token 5 gaps (0.1 s) later.
    c = client(mock("--ttft", "200ms", "--tokens-per-second", "50"))
    started = time.monotonic()
    with c.messages.stream(model=MODEL, max_tokens=6, messages=MESSAGES) as stream:
        arrivals = [time.monotonic() - started for _ in stream.text_stream]
    assert len(arrivals) == 6
    assert 0.18 <= arrivals[0] <= 1.0, arrivals
    assert 0.08 <= arrivals[-1] - arrivals[0] <= 1.0, arrivals


def test_429_with_retry_after_is_retried_twice_then_raised(mock):
    m = mock("--fault", "{ status: 429, retry_after: 1s }")
    c = client(m)
    assert c.max_retries == 2  # the SDK default, which this test exercises

    started = time.monotonic()
    with pytest.raises(anthropic.RateLimitError) as raised:
        c.messages.create(model=MODEL, max_tokens=4, messages=MESSAGES)
    elapsed = time.monotonic() - started

    assert raised.value.status_code == 429
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    assert m.statuses("anthropic") == {"429": 3}
    assert 1.8 <= elapsed <= 4.0, elapsed


def test_overloaded_529_is_retried_twice_then_raised(mock):
    m = mock("--overloaded", "100%")
    c = client(m)
    assert c.max_retries == 2

    started = time.monotonic()
    with pytest.raises(anthropic.OverloadedError) as raised:
        c.messages.create(model=MODEL, max_tokens=4, messages=MESSAGES)
    elapsed = time.monotonic() - started

    error = raised.value
    assert error.status_code == 529
    assert error.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert REQUEST_ID.match(error.request_id or ""), error.request_id
    assert m.requests("anthropic") == 3
    assert m.statuses("anthropic") == {"529": 3}
    # No retry-after: the SDK's backoff, 0.5 s then 1 s, each less up to 25 % jitter.
    assert 1.1 <= elapsed <= 3.0, elapsed


def test_overloaded_stream_raises_before_any_text(mock):
    m = mock("--overloaded", "100%")
    with pytest.raises(anthropic.OverloadedError):
        with client(m, max_retries=0).messages.stream(model=MODEL, max_tokens=4, messages=MESSAGES) as s:
            list(s.text_stream)
    assert m.statuses("anthropic") == {"529": 1}


def test_wrong_key_is_an_authentication_error_and_the_right_key_works(mock):
    m = mock("--keys", "1")
    with pytest.raises(anthropic.AuthenticationError) as raised:
        client(m, api_key="sk-chaos-anthropic-1").messages.create(
            model=MODEL, max_tokens=2, messages=MESSAGES
        )
    assert raised.value.status_code == 401
    assert raised.value.body["error"]["type"] == "authentication_error"
    # 401 is not retried.
    assert m.statuses("anthropic") == {"401": 1}

    message = client(m, api_key="sk-chaos-anthropic-0").messages.create(
        model=MODEL, max_tokens=2, messages=MESSAGES
    )
    assert message.usage.output_tokens == 2
    rows = {row["key"]: row for row in m.counts("anthropic")}
    assert rows["key-0"]["statuses"] == {"200": 1}
    assert rows["unauthenticated"]["statuses"] == {"401": 1}


def test_models_list(mock):
    ids = [model.id for model in client(mock("--model", MODEL, "--model", "claude-sonnet-4-5")).models.list()]
    assert ids == [MODEL, "claude-sonnet-4-5"]
