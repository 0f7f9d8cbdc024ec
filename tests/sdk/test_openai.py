"""openai-python against the `chaos mock` OpenAI provider: parsing, streaming, headers, retries, auth."""

from __future__ import annotations

import re
import time

import openai
import pytest

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say something about chaos testing."}]
# The mock's documented estimate (src/wire/tokens.rs): ceil(chars / 4) + 4 per message + 3.
PROMPT_TOKENS = -(-len(MESSAGES[0]["content"]) // 4) + 4 + 3
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?(s|ms))$|^0s$")


def client(mock, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("api_key", "sk-test")
    # A hung mock fails the test in seconds, not the SDK's default 10 minutes; retries stay default.
    kwargs.setdefault("timeout", 20)
    return openai.OpenAI(base_url=mock.openai_base_url, **kwargs)


def test_chat_completion_parses_with_consistent_usage(mock):
    m = mock()
    completion = client(m).chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=7)

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    [choice] = completion.choices
    assert choice.index == 0
    assert choice.message.role == "assistant"
    text = choice.message.content
    assert isinstance(text, str) and text.strip()
    # One word per output token, and the mock writes exactly max_completion_tokens of them.
    assert len(text.split()) == 7
    assert choice.finish_reason == "length"

    usage = completion.usage
    assert usage.completion_tokens == 7
    assert usage.prompt_tokens == PROMPT_TOKENS
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details.reasoning_tokens == 0

    [row] = m.counts("openai")
    assert (row["key"], row["model"], row["requests"], row["statuses"]) == ("any", MODEL, 1, {"200": 1})
    assert (row["prompt_tokens"], row["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)


def test_deprecated_max_tokens_bounds_the_output_too(mock):
    completion = client(mock()).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=3)
    assert len(completion.choices[0].message.content.split()) == 3
    assert completion.usage.completion_tokens == 3


def test_without_max_tokens_the_output_is_sixteen_tokens_and_stops(mock):
    completion = client(mock()).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert completion.usage.completion_tokens == 16
    assert completion.choices[0].finish_reason == "stop"


def test_long_answers_are_one_word_per_token(mock):
    """Regression: '.' used to be a token of its own and the tenth word lost its space."""
    completion = client(mock()).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert len(completion.choices[0].message.content.split()) == completion.usage.completion_tokens == 16


def test_raw_response_carries_request_id_and_rate_limit_headers(mock):
    raw = client(mock()).chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, max_completion_tokens=4
    )
    headers = raw.headers
    assert raw.status_code == 200
    assert REQUEST_ID.match(headers["x-request-id"]), headers["x-request-id"]
    for kind in ("requests", "tokens"):
        limit = int(headers[f"x-ratelimit-limit-{kind}"])
        remaining = int(headers[f"x-ratelimit-remaining-{kind}"])
        assert 0 <= remaining < limit, (kind, remaining, limit)
        assert GO_DURATION.match(headers[f"x-ratelimit-reset-{kind}"]), headers[f"x-ratelimit-reset-{kind}"]

    completion = raw.parse()
    assert completion.usage.completion_tokens == 4
    # The SDK exposes the same header on the parsed object.
    assert completion._request_id == headers["x-request-id"]


def test_stream_with_usage_adds_up(mock):
    m = mock()
    stream = client(m).chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        max_completion_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert all(c.object == "chat.completion.chunk" and c.model == MODEL for c in chunks)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    pieces = [d.content for d in deltas if d.content]
    assert len(pieces) == 8
    assert len("".join(pieces).split()) == 8

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]

    # The usage chunk comes last, with no choices; every other chunk has usage null.
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    assert last.usage.completion_tokens == len(pieces)
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.prompt_tokens_details.cached_tokens == 0

    [row] = m.counts("openai")
    assert (row["requests"], row["statuses"], row["output_tokens"]) == (1, {"200": 1}, 8)


def test_stream_text_matches_the_same_request_unstreamed(mock):
    # Same seed, same request: the mock writes the same words whether it streams them or not.
    c = client(mock())
    whole = c.chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=20)
    stream = c.chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=20, stream=True)
    chunks = list(stream)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed == whole.choices[0].message.content
    # Without stream_options.include_usage there is no usage chunk.
    assert all(chunk.choices and chunk.usage is None for chunk in chunks)


def test_stream_is_paced_by_the_latency_model(mock):
    # TTFT 200 ms, then 50 tokens/s: content at ~0.2 s, the 6th token 5 gaps (0.1 s) later.
    c = client(mock("--ttft", "200ms", "--tokens-per-second", "50"))
    started = time.monotonic()
    arrivals = [
        time.monotonic() - started
        for chunk in c.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_completion_tokens=6, stream=True
        )
        if chunk.choices and chunk.choices[0].delta.content
    ]
    assert len(arrivals) == 6
    assert 0.18 <= arrivals[0] <= 1.0, arrivals
    assert 0.08 <= arrivals[-1] - arrivals[0] <= 1.0, arrivals


def test_models_list(mock):
    models = client(mock()).models.list()
    ids = [model.id for model in models]
    assert MODEL in ids
    assert all(model.object == "model" and model.owned_by for model in models)


def test_models_retrieve_finds_listed_models_and_404s_others(mock):
    sdk = client(mock())
    assert sdk.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.models.retrieve("gpt-nonexistent")
    assert raised.value.code == "model_not_found"


def test_429_with_retry_after_is_retried_twice_then_raised(mock):
    m = mock("--fault", "{ status: 429, retry_after: 1s }")
    c = client(m)
    assert c.max_retries == 2  # the SDK default, which this test exercises

    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as raised:
        c.chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=4)
    elapsed = time.monotonic() - started

    error = raised.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.response.headers["retry-after"] == "1"
    assert REQUEST_ID.match(error.request_id or ""), error.request_id
    assert m.requests("openai") == 3
    assert m.statuses("openai") == {"429": 3}
    # Two waits of the server's 1 s, not the SDK's own 0.5 s / 1 s backoff.
    assert 1.8 <= elapsed <= 4.0, elapsed


def test_overloaded_503_is_retried_twice_then_raised(mock):
    m = mock("--overloaded", "100%")
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as raised:
        client(m).chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=4)
    elapsed = time.monotonic() - started

    assert raised.value.status_code == 503
    assert raised.value.type == "server_error"
    assert m.statuses("openai") == {"503": 3}
    # No retry-after: the SDK's backoff, 0.5 s then 1 s, each less up to 25 % jitter.
    assert 1.1 <= elapsed <= 3.0, elapsed


def test_context_length_400_is_raised_at_once_with_the_providers_body(mock):
    m = mock("--fault", "{ status: 400 }")
    with pytest.raises(openai.BadRequestError) as raised:
        client(m).chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=4)

    error = raised.value
    assert error.status_code == 400
    assert error.code == "context_length_exceeded"
    assert error.param == "messages"
    assert error.type == "invalid_request_error"
    assert m.statuses("openai") == {"400": 1}, "a 400 is not retried"


@pytest.mark.parametrize(
    ("status", "exception"), [(408, openai.APIStatusError), (504, openai.InternalServerError)]
)
def test_timeouts_408_and_504_are_retried_twice_then_raised(mock, status, exception):
    m = mock("--fault", f"{{ status: {status} }}")
    with pytest.raises(exception) as raised:
        client(m).chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=4)

    assert raised.value.status_code == status
    assert m.statuses("openai") == {str(status): 3}, "three attempts: the SDK retries both"


def test_an_injected_429_carries_the_rate_limit_headers_the_provider_sends(mock):
    m = mock("--fault", "{ status: 429, retry_after: 1s }")
    with pytest.raises(openai.RateLimitError) as raised:
        client(m, max_retries=0).chat.completions.create(model=MODEL, messages=MESSAGES)

    headers = raised.value.response.headers
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert int(headers["x-ratelimit-limit-requests"]) > 0
    assert headers["x-ratelimit-reset-requests"] == "1s"
    for name in ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"):
        assert name in headers, name
    assert GO_DURATION.match(headers["x-ratelimit-reset-tokens"]), headers["x-ratelimit-reset-tokens"]


def test_wrong_key_is_an_authentication_error_and_the_right_key_works(mock):
    m = mock("--keys", "1")
    with pytest.raises(openai.AuthenticationError) as raised:
        client(m, api_key="sk-chaos-openai-1").chat.completions.create(
            model=MODEL, messages=MESSAGES, max_completion_tokens=2
        )
    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    # 401 is not retried.
    assert m.statuses("openai") == {"401": 1}

    completion = client(m, api_key="sk-chaos-openai-0").chat.completions.create(
        model=MODEL, messages=MESSAGES, max_completion_tokens=2
    )
    assert completion.usage.completion_tokens == 2
    rows = {row["key"]: row for row in m.counts("openai")}
    assert rows["key-0"]["statuses"] == {"200": 1}
    assert rows["unauthenticated"]["statuses"] == {"401": 1}


def test_responses_api_answer_parses_with_consistent_usage(mock):
    m = mock()
    response = client(m).responses.create(model=MODEL, input=MESSAGES[0]["content"], max_output_tokens=6)

    assert response.object == "response"
    assert response.id.startswith("resp_")
    # Six tokens asked, six written: the limit cut the answer, as the real API says it.
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert len(response.output_text.split()) == 6
    assert response.usage.output_tokens == 6
    assert response.usage.input_tokens == PROMPT_TOKENS
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    [row] = m.counts("openai")
    assert (row["model"], row["statuses"], row["output_tokens"]) == (MODEL, {"200": 1}, 6)


def test_responses_api_stream_events_arrive_in_order_and_assemble(mock):
    m = mock()
    events = list(client(m).responses.create(model=MODEL, input=MESSAGES, stream=True))

    kinds = [event.type for event in events]
    head = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    tail = [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert kinds[:4] == head and kinds[-4:] == tail, kinds
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) == 16, "the mock's default answer is 16 tokens, one delta each"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    final = events[-1].response
    assert final.status == "completed"
    assert final.output_text == "".join(deltas)
    assert final.usage.output_tokens == 16


def test_responses_api_stream_helper_gives_the_final_response(mock):
    with client(mock()).responses.stream(model=MODEL, input="hi") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == text and len(text.split()) == 16


def test_a_responses_stream_cut_by_its_limit_ends_incomplete(mock):
    events = list(client(mock()).responses.create(model=MODEL, input="hi", max_output_tokens=3, stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    assert len(events[-1].response.output_text.split()) == 3
