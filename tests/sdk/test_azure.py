"""openai-python's `AzureOpenAI` client against the `chaos mock` Azure OpenAI provider, directly
and through `chaos proxy --family azure` (the interposer) under a status fault and stream faults.

The client builds `{azure_endpoint}/openai/deployments/{model}/chat/completions?api-version=…`
and sends the key as `api-key`; the mock answers with Azure's content-filter results, which the
SDK keeps as extra fields of its models.
"""

from __future__ import annotations

import time

import openai
import pytest

DEPLOYMENT = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say something about chaos testing."}]
TOKENS = 8
FULL_TEXT = "chaos tests the gateway before the pager does"


def client(endpoint: str, **kwargs) -> openai.AzureOpenAI:
    kwargs.setdefault("timeout", 20)
    return openai.AzureOpenAI(azure_endpoint=endpoint, api_key="az-test", api_version="2024-10-21", **kwargs)


def stream(c: openai.AzureOpenAI) -> list:
    return list(
        c.chat.completions.create(
            model=DEPLOYMENT,
            messages=MESSAGES,
            max_completion_tokens=TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )


def text_of(chunks: list) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_completion_carries_the_content_filter_results_and_usage(mock):
    m = mock()
    response = client(m.urls["azure"]).chat.completions.create(
        model=DEPLOYMENT, messages=MESSAGES, max_completion_tokens=TOKENS
    )
    assert response.model == DEPLOYMENT
    assert response.choices[0].message.content == FULL_TEXT
    assert response.usage.completion_tokens == TOKENS
    assert response.model_extra["prompt_filter_results"][0]["content_filter_results"]["hate"]["filtered"] is False
    assert response.choices[0].model_extra["content_filter_results"]["self_harm"]["severity"] == "safe"
    rows = m.counts("azure")
    assert [row["model"] for row in rows] == [DEPLOYMENT], "the deployment is what the mock counts"


def test_a_stream_opens_with_the_prompt_results_and_assembles_as_openai_s(mock):
    chunks = stream(client(mock().urls["azure"]))
    assert chunks[0].choices == [] and "prompt_filter_results" in chunks[0].model_extra
    assert text_of(chunks) == FULL_TEXT
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage.completion_tokens == TOKENS


def test_embeddings_of_a_deployment_decode_as_openai_s(mock):
    m = mock()
    response = client(m.urls["azure"]).embeddings.create(model="text-embedding-3-small", input=["chaos", "tests"])
    assert [len(item.embedding) for item in response.data] == [1536, 1536], "base64 on the wire, decoded"
    assert response.usage.prompt_tokens == 4
    assert m.counts("azure")[0]["output_tokens"] == 0


def test_a_wrong_key_raises_authentication_error_in_azure_s_words(mock):
    m = mock("--keys", "1")
    with pytest.raises(openai.AuthenticationError) as raised:
        client(m.urls["azure"]).chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
    assert raised.value.code == "401"
    assert "Access denied" in raised.value.message


def test_through_the_interposer_without_a_fault_the_answer_is_the_mock_s(mock, proxy):
    m = mock()
    asked = {"model": DEPLOYMENT, "messages": MESSAGES, "max_completion_tokens": TOKENS}
    direct = client(m.urls["azure"]).chat.completions.with_raw_response.create(**asked)
    relayed = client(proxy(m.urls["azure"], family="azure")).chat.completions.with_raw_response.create(**asked)
    # Ids are drawn per answer: the bodies agree once those are set aside.
    strip = lambda raw: raw.http_response.json() | {"id": None, "created": None}
    assert strip(relayed) == strip(direct)
    assert relayed.headers["apim-request-id"] != direct.headers["apim-request-id"]


def test_an_azure_429_at_the_interposer_is_retried_on_its_retry_after_ms(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["azure"], "{ status: 429, retry_after: 700ms, first: 2 }", family="azure"))
    assert c.max_retries == 2

    started = time.monotonic()
    response = c.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES, max_completion_tokens=TOKENS)
    elapsed = time.monotonic() - started

    assert response.choices[0].message.content == FULL_TEXT
    assert m.statuses("azure") == {"200": 1}, "the two 429s came from the interposer"
    # Two waits of `retry-after-ms: 700`, not the whole second `retry-after` rounds up to.
    assert 1.3 <= elapsed < 2.0, elapsed


def test_an_azure_429_on_every_attempt_raises_rate_limit_error_after_three(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["azure"], "{ status: 429, retry_after: 100ms }", family="azure"))
    with pytest.raises(openai.RateLimitError) as raised:
        c.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
    assert raised.value.code == "429"
    assert raised.value.response.headers["x-ms-retry-after-ms"] == "100"
    assert m.requests("azure") == 0


def test_a_cut_stream_returns_a_short_answer_silently(mock, proxy):
    m = mock()
    # Events: prompt results, role, then content: the cut leaves two tokens.
    chunks = stream(client(proxy(m.urls["azure"], "{ cut: { after_events: 4 } }", family="azure")))
    assert text_of(chunks) == "chaos tests"
    assert all(c.usage is None for c in chunks), "no usage: the client cannot bill it"
    assert all(not c.choices or c.choices[0].finish_reason is None for c in chunks)


def test_a_stall_past_the_read_timeout_raises_a_timeout(mock, proxy):
    m = mock()
    c = client(proxy(m.urls["azure"], "{ stall: { after_events: 3, for: 5s } }", family="azure"), timeout=1, max_retries=0)
    with pytest.raises(openai.APITimeoutError):
        stream(c)
