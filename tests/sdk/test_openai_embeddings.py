"""openai-python's `client.embeddings.create` against the `chaos mock` OpenAI provider, directly
and through `chaos proxy` (the interposer) under a 429 fault and a stream fault.

The SDK asks for `encoding_format: base64` whenever its caller names no format, and decodes the
little-endian float32s itself (without numpy, as here, through `array.array("f")`); a caller who
names a format gets the answer as sent.
"""

from __future__ import annotations

import math
import time

import openai
import pytest

SMALL = "text-embedding-3-small"
LARGE = "text-embedding-3-large"
ADA = "text-embedding-ada-002"
TEXTS = ["Chaos testing a gateway.", "Embeddings are billed by input tokens only."]
# The mock counts an input as the chat prompts' content: ceil(characters / 4), no framing.
TEXT_TOKENS = sum(-(-len(text) // 4) for text in TEXTS)


def client(base_url: str, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("timeout", 20)
    return openai.OpenAI(base_url=base_url, **kwargs)


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def test_float_embeddings_are_unit_vectors_of_the_models_dimensions_with_input_usage(mock):
    m = mock()
    response = client(m.openai_base_url).embeddings.create(model=SMALL, input=TEXTS, encoding_format="float")

    assert response.object == "list"
    assert response.model == SMALL
    assert [item.index for item in response.data] == [0, 1]
    for item in response.data:
        assert item.object == "embedding"
        assert len(item.embedding) == 1536
        assert abs(norm(item.embedding) - 1.0) < 1e-5
    assert response.data[0].embedding != response.data[1].embedding, "seeded by input"
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (TEXT_TOKENS, TEXT_TOKENS)
    assert m.counts("openai")[0]["prompt_tokens"] == TEXT_TOKENS
    assert m.counts("openai")[0]["output_tokens"] == 0


def test_the_sdks_default_base64_decodes_to_the_same_vectors_and_an_explicit_one_stays_a_string(mock):
    c = client(mock().openai_base_url)
    floats = c.embeddings.create(model=SMALL, input=TEXTS, encoding_format="float")
    decoded = c.embeddings.create(model=SMALL, input=TEXTS)  # base64 on the wire, decoded by the SDK

    for as_float, as_base64 in zip(floats.data, decoded.data):
        assert len(as_base64.embedding) == 1536
        assert max(abs(a - b) for a, b in zip(as_float.embedding, as_base64.embedding)) < 1e-7
    explicit = c.embeddings.create(model=SMALL, input=TEXTS[0], encoding_format="base64")
    assert isinstance(explicit.data[0].embedding, str)


def test_dimensions_shorten_a_v3_vector_and_ada_002_refuses_them_at_once(mock):
    m = mock()
    c = client(m.openai_base_url)
    short = c.embeddings.create(model=LARGE, input=TEXTS[0], dimensions=256)
    full = c.embeddings.create(model=LARGE, input=TEXTS[0])
    assert len(short.data[0].embedding) == 256 and len(full.data[0].embedding) == 3072
    assert abs(norm(short.data[0].embedding) - 1.0) < 1e-5
    scale = norm(full.data[0].embedding[:256])
    assert all(abs(s * scale - f) < 1e-5 for s, f in zip(short.data[0].embedding, full.data[0].embedding))

    with pytest.raises(openai.BadRequestError) as raised:
        c.embeddings.create(model=ADA, input=TEXTS[0], dimensions=256)
    assert raised.value.param == "dimensions"
    assert raised.value.message.endswith("This model does not support specifying dimensions.")
    assert m.statuses("openai") == {"200": 2, "400": 1}, "a 400 is not retried"


def test_token_id_inputs_count_one_token_an_id_and_an_empty_input_is_a_400(mock):
    c = client(mock().openai_base_url)
    response = c.embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]])
    assert len(response.data) == 2
    assert response.usage.prompt_tokens == 5

    with pytest.raises(openai.BadRequestError) as raised:
        c.embeddings.create(model=SMALL, input="")
    assert raised.value.param == "input"


def test_the_latency_model_and_rate_limits_apply(mock):
    m = mock("--ttft", "300ms", "--rpm", "1")
    c = client(m.openai_base_url, max_retries=0)
    started = time.monotonic()
    c.embeddings.create(model=SMALL, input=TEXTS)
    assert time.monotonic() - started >= 0.3

    with pytest.raises(openai.RateLimitError) as raised:
        c.embeddings.create(model=SMALL, input=TEXTS)
    assert raised.value.code == "rate_limit_exceeded"
    assert m.statuses("openai") == {"200": 1, "429": 1}


def test_through_the_interposer_without_a_fault_the_answer_is_byte_exact(mock, proxy):
    m = mock()
    direct = client(m.openai_base_url).embeddings.with_raw_response.create(model=SMALL, input=TEXTS)
    relayed = client(proxy(m.urls["openai"]) + "/v1").embeddings.with_raw_response.create(model=SMALL, input=TEXTS)
    assert relayed.http_response.content == direct.http_response.content
    assert relayed.parse().data[0].embedding == direct.parse().data[0].embedding


def test_a_429_at_the_interposer_is_retried_by_the_sdk_and_the_third_attempt_answers(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["openai"], "{ status: 429, retry_after: 1s, first: 2 }") + "/v1")
    assert c.max_retries == 2

    started = time.monotonic()
    response = c.embeddings.create(model=SMALL, input=TEXTS)
    elapsed = time.monotonic() - started

    assert len(response.data) == 2 and len(response.data[0].embedding) == 1536
    assert response.usage.prompt_tokens == TEXT_TOKENS
    assert m.statuses("openai") == {"200": 1}, "the two 429s came from the interposer"
    # Two waits of the server's 1 s, not the SDK's own backoff.
    assert 1.8 <= elapsed <= 4.0, elapsed


def test_a_429_on_every_attempt_is_raised_after_the_sdks_three(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["openai"], "{ status: 429, retry_after: 100ms }") + "/v1")
    with pytest.raises(openai.RateLimitError) as raised:
        c.embeddings.create(model=SMALL, input=TEXTS)
    assert raised.value.status_code == 429
    assert m.requests("openai") == 0


def test_a_stream_fault_leaves_an_embeddings_answer_whole(mock, proxy):
    m = mock()
    expected = client(m.openai_base_url).embeddings.create(model=SMALL, input=TEXTS)
    c = client(proxy(m.urls["openai"], "{ cut: { after_events: 1 } }", "{ stall: { after_events: 0 } }") + "/v1")
    response = c.embeddings.create(model=SMALL, input=TEXTS)
    assert [item.embedding for item in response.data] == [item.embedding for item in expected.data]


def test_a_latency_fault_at_the_interposer_delays_the_answer_it_leaves_whole(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["openai"], "{ latency: 500ms }") + "/v1")
    started = time.monotonic()
    response = c.embeddings.create(model=SMALL, input=TEXTS)
    assert time.monotonic() - started >= 0.5
    assert response.usage.prompt_tokens == TEXT_TOKENS and len(response.data) == 2
