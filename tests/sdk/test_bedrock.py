"""boto3's `bedrock-runtime` client (`converse`, `converse_stream`) against the `chaos mock` Bedrock
provider through `chaos proxy --family bedrock` (the interposer), with `endpoint_url` at the
interposer and dummy credentials from the environment: boto3 signs with SigV4, which the mock
accepts without checking. Retries are botocore's own, set per client (`Config(retries=…)`):
`standard` mode makes 3 attempts, `legacy` (the default when nothing is configured) 5.

Tool use: with a `toolConfig` the mock calls the first tool (`toolUse`, `stopReason: tool_use`),
streamed as a `contentBlockStart` naming it and `contentBlockDelta`s of `toolUse.input`
fragments, which botocore hands over as strings for the caller to join. A mock with the same
seed draws the same input for its first answer. A cut inside the input raises nothing: the
caller is left with half the input's JSON and no `messageStop`.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Say something about chaos testing."}]}]
TOKENS = 5
FULL_TEXT = "chaos tests the gateway before"


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCHAOSTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # No shared config or credentials file of the caller's is read.
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


def client(endpoint_url: str, mode: str = "standard"):
    config = Config(retries={"mode": mode}, read_timeout=20, connect_timeout=5)
    return boto3.client("bedrock-runtime", endpoint_url=endpoint_url, config=config)


def converse_stream(c) -> list[dict]:
    answer = c.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": TOKENS})
    return list(answer["stream"])


def text_of(events: list[dict]) -> str:
    return "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)


def test_converse_through_the_interposer_answers_with_usage(mock, proxy):
    m = mock()
    answer = client(proxy(m.urls["bedrock"], family="bedrock")).converse(
        modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": TOKENS}
    )
    assert answer["output"]["message"]["content"] == [{"text": FULL_TEXT}]
    assert answer["stopReason"] == "max_tokens"
    assert answer["usage"]["outputTokens"] == TOKENS
    assert answer["usage"]["totalTokens"] == answer["usage"]["inputTokens"] + TOKENS
    assert m.counts("bedrock")[0]["model"] == MODEL, "the model id, percent-decoded from the path"


def test_converse_stream_decodes_every_frame_in_bedrock_s_order(mock, proxy):
    events = converse_stream(client(proxy(mock().urls["bedrock"], family="bedrock")))
    kinds = [next(iter(e)) for e in events]
    assert kinds == ["messageStart", *["contentBlockDelta"] * TOKENS, "contentBlockStop", "messageStop", "metadata"]
    assert text_of(events) == FULL_TEXT
    assert events[-1]["metadata"]["usage"]["outputTokens"] == TOKENS


@pytest.mark.parametrize(("mode", "attempts"), [("standard", 3), ("legacy", 5)])
def test_a_throttling_429_is_retried_by_botocore_then_raised(mock, proxy, mode, attempts):
    m = mock("--fault", "{ status: 429 }")
    with pytest.raises(ClientError) as raised:
        client(proxy(m.urls["bedrock"], family="bedrock"), mode).converse(modelId=MODEL, messages=MESSAGES)
    error = raised.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    assert m.statuses("bedrock") == {"429": attempts}, "every attempt reached the mock"


def test_a_stream_cut_between_frames_returns_short_and_silent(mock, proxy):
    c = client(proxy(mock().urls["bedrock"], "{ cut: { after_events: 3 } }", family="bedrock"))
    events = converse_stream(c)  # no exception: the frames that came were whole
    assert [next(iter(e)) for e in events] == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    assert text_of(events) == "chaos tests"
    assert not any("metadata" in e or "messageStop" in e for e in events), "no stop, no usage"


def test_an_injected_stream_exception_is_raised_mid_iteration(mock, proxy):
    c = client(proxy(mock().urls["bedrock"], "{ inject: { kind: error, after_events: 2 } }", family="bedrock"))
    answer = c.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": TOKENS})
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in answer["stream"]:
            seen.append(next(iter(event)))
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert seen == ["messageStart", "contentBlockDelta"]


WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
}
TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER}}}]}
ASK = {"role": "user", "content": [{"text": "What is the weather in Oslo?"}]}


def streamed_tool_use(c) -> tuple[list[dict], list[str]]:
    """The stream's events and the `toolUse.input` fragments, in order."""
    events = list(c.converse_stream(modelId=MODEL, messages=[ASK], toolConfig=TOOLS)["stream"])
    deltas = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e]
    return events, deltas


def test_tool_use_whole_and_streamed_assemble_to_the_same_call(mock, proxy):
    whole = client(proxy(mock().urls["bedrock"], family="bedrock")).converse(
        modelId=MODEL, messages=[ASK], toolConfig={**TOOLS, "toolChoice": {"any": {}}}
    )
    assert whole["stopReason"] == "tool_use"
    ((kind, call),) = whole["output"]["message"]["content"][0].items()
    assert kind == "toolUse" and call["name"] == "get_weather" and call["toolUseId"].startswith("tooluse_")
    assert isinstance(call["input"]["city"], str) and call["input"]["unit"] in ("celsius", "fahrenheit")

    events, deltas = streamed_tool_use(client(proxy(mock().urls["bedrock"], family="bedrock")))
    assert [next(iter(e)) for e in events[:2]] == ["messageStart", "contentBlockStart"]
    assert events[1]["contentBlockStart"]["start"]["toolUse"]["name"] == "get_weather"
    assert json.loads("".join(deltas)) == call["input"], "the fragments join to the whole answer's input"
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == len(deltas)


def test_tool_use_after_a_retried_throttle_is_the_first_answer_s(mock, proxy):
    _, expected = streamed_tool_use(client(proxy(mock().urls["bedrock"], family="bedrock")))
    m = mock("--fault", "{ status: 429, first: 1 }")
    _, deltas = streamed_tool_use(client(proxy(m.urls["bedrock"], family="bedrock")))
    assert deltas == expected
    assert m.statuses("bedrock") == {"429": 1, "200": 1}, "botocore retried the ThrottlingException once"


def test_a_cut_inside_the_tool_input_leaves_half_its_json_silently(mock, proxy):
    _, whole = streamed_tool_use(client(proxy(mock().urls["bedrock"], family="bedrock")))
    cut = "{ cut: { after_events: 2, in: tool_arguments } }"
    events, deltas = streamed_tool_use(client(proxy(mock().urls["bedrock"], cut, family="bedrock")))  # no exception
    assert deltas == whole[:2], "two fragments arrived"
    assert not any("messageStop" in e or "metadata" in e for e in events), "the only sign: no stop, no usage"
    with pytest.raises(json.JSONDecodeError):
        json.loads("".join(deltas))
