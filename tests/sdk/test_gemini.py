"""google-genai against the `chaos mock` Gemini provider, directly and through `chaos proxy
--family gemini` (the interposer) under status faults and stream faults.

The client posts to `{base_url}/v1beta/models/{model}:generateContent` (or
`:streamGenerateContent?alt=sse`) with the key in `x-goog-api-key`. What these tests pin down
about it: it does not retry unless given `HttpRetryOptions`, and then on its own backoff, never
on the wait a 429's `RetryInfo` asks for; a stream that ends without a finish reason is returned
short, silently; an error event mid-stream raises.
"""

from __future__ import annotations

import time

import httpx2
import pytest
from google import genai
from google.genai import errors, types

MODEL = "gemini-2.0-flash"
PROMPT = "Say something about chaos testing."
TOKENS = 8
FULL_TEXT = "chaos tests the gateway before the pager does"
CONFIG = types.GenerateContentConfig(max_output_tokens=TOKENS)


# Keep the client while its `models` is in use: a `genai.Client` that is collected closes its
# HTTP client under them ("Cannot send a request, as the client has been closed").
def client(base_url: str, timeout_ms: int = 20_000, retry: types.HttpRetryOptions | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=base_url, api_version="v1beta", timeout=timeout_ms, retry_options=retry)
    return genai.Client(api_key="AIza-test", http_options=options)


def stream(c: genai.Client) -> list:
    return list(c.models.generate_content_stream(model=MODEL, contents=PROMPT, config=CONFIG))


def text_of(chunks: list) -> str:
    return "".join(chunk.text or "" for chunk in chunks)


def test_generate_returns_the_text_its_finish_and_usage(mock):
    m = mock()
    c = client(m.urls["gemini"])
    response = c.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)
    assert response.text == FULL_TEXT
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata.candidates_token_count == TOKENS
    [row] = m.counts("gemini")
    assert (row["model"], row["prompt_tokens"]) == (MODEL, response.usage_metadata.prompt_token_count)


def test_a_stream_assembles_the_text_and_ends_with_the_finish_and_usage(mock):
    chunks = stream(client(mock().urls["gemini"]))
    assert len(chunks) == TOKENS + 1
    assert text_of(chunks) == FULL_TEXT
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert chunks[-1].usage_metadata.candidates_token_count == TOKENS
    assert chunks[0].usage_metadata.candidates_token_count is None, "early events count the prompt alone"


def test_a_wrong_key_raises_a_client_error_invalid_argument(mock):
    c = client(mock("--keys", "1").urls["gemini"])
    with pytest.raises(errors.ClientError) as raised:
        c.models.generate_content(model=MODEL, contents=PROMPT)
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")


def test_through_the_interposer_without_a_fault_the_answer_is_the_mock_s(mock, proxy):
    m = mock()
    mocked, relaying = client(m.urls["gemini"]), client(proxy(m.urls["gemini"], family="gemini"))
    direct = mocked.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)
    relayed = relaying.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)
    assert relayed.text == direct.text
    assert relayed.usage_metadata == direct.usage_metadata


def test_a_429_is_not_retried_by_default(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["gemini"], "{ status: 429, retry_after: 2s, first: 1 }", family="gemini"))
    with pytest.raises(errors.ClientError) as raised:
        c.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)
    assert (raised.value.code, raised.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert raised.value.details["error"]["details"][0]["retryDelay"] == "2s"
    assert m.requests("gemini") == 0
    # The fault answered once: had the SDK retried, its retry would have been answered.
    assert c.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG).text == FULL_TEXT
    assert m.requests("gemini") == 1


def test_with_retry_options_a_429_is_retried_on_the_sdks_backoff_not_the_retry_delay(mock, proxy):
    m = mock()
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.1, max_delay=0.2, jitter=0)
    c = client(proxy(m.urls["gemini"], "{ status: 429, retry_after: 5s, first: 2 }", family="gemini"), retry=retry)
    started = time.monotonic()
    response = c.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)
    elapsed = time.monotonic() - started
    assert response.text == FULL_TEXT
    assert m.statuses("gemini") == {"200": 1}, "the two 429s came from the interposer"
    assert elapsed < 2.0, f"{elapsed:.2f} s: the body's retryDelay of 5 s was not waited"


def test_a_cut_stream_returns_a_short_answer_silently(mock, proxy):
    m = mock()
    chunks = stream(client(proxy(m.urls["gemini"], "{ cut: { after_events: 3 } }", family="gemini")))
    assert text_of(chunks) == "chaos tests the"
    assert all(c.candidates[0].finish_reason is None for c in chunks)
    assert all(c.usage_metadata.candidates_token_count is None for c in chunks), "no output count to bill"


def test_an_error_event_mid_stream_raises_a_server_error(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["gemini"], "{ inject: { kind: error, after_events: 2 } }", family="gemini"))
    seen = []
    with pytest.raises(errors.ServerError) as raised:
        for chunk in c.models.generate_content_stream(model=MODEL, contents=PROMPT, config=CONFIG):
            seen.append(chunk)
    assert raised.value.code == 500
    assert text_of(seen) == "chaos tests"


def test_a_stall_past_the_timeout_raises_httpx2_s_read_timeout_unwrapped(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["gemini"], "{ stall: { after_events: 2, for: 5s } }", family="gemini"), timeout_ms=1_000)
    started = time.monotonic()
    # Not one of google-genai's own errors: the transport's exception reaches the caller as it is.
    with pytest.raises(httpx2.ReadTimeout):
        stream(c)
    assert time.monotonic() - started < 4.0
