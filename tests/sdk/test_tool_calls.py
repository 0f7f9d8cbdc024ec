"""Tool calls through the official SDKs: openai-python's `tool_calls` whole and streamed (its
`chat.completions.stream` helper assembles the deltas), anthropic-python's `tool_use` streamed
(`input_json_delta` assembled by `messages.stream`), each under a status fault and a stream fault.

A mock with the same `--seed` draws the same arguments for its first answer, so an answer from a
fault-free mock is what a faulted one must assemble to.

The cut inside a call's arguments (`cut: { after_events: 2, in: tool_arguments }`) documents what
each SDK does: neither raises. openai-python returns the call with half its arguments (not JSON)
and `finish_reason` None; anthropic-python returns a `tool_use` block whose `input` is `{}` (its
partial-JSON parse of the fragments so far) and `stop_reason` None: an agent that does not check
the stop reason calls the tool with no arguments.
"""

from __future__ import annotations

import json
import math

import anthropic
import openai

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
ANTHROPIC_TOOLS = [{"name": "get_weather", "input_schema": WEATHER}]
MESSAGES = [{"role": "user", "content": "What is the weather in Oslo?"}]
CUT_IN_ARGUMENTS = "{ cut: { after_events: 2, in: tool_arguments } }"
CHARS_PER_FRAGMENT = 4


def openai_client(m) -> openai.OpenAI:
    return openai.OpenAI(base_url=m.openai_base_url, api_key="sk-test", timeout=20)


def anthropic_client(m) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=m.anthropic_base_url, api_key="sk-ant-test", timeout=20)


def whole_openai_call(m):
    answer = openai_client(m).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=OPENAI_TOOLS, tool_choice="required"
    )
    return answer


def streamed_openai_completion(m):
    with openai_client(m).chat.completions.stream(
        model="gpt-4o-mini",
        messages=MESSAGES,
        tools=OPENAI_TOOLS,
        stream_options={"include_usage": True},
    ) as stream:
        return stream.get_final_completion()


def streamed_anthropic_message(m):
    with anthropic_client(m).messages.stream(
        model="claude-haiku-4-5", max_tokens=256, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    ) as stream:
        partial = [event.partial_json for event in stream if event.type == "input_json"]
        return stream.get_final_message(), partial


def assert_fits_the_schema(arguments: dict) -> None:
    assert isinstance(arguments["city"], str)
    assert arguments["unit"] in ("celsius", "fahrenheit")


def test_openai_tool_call_whole_fits_the_schema_with_usage_per_fragment(mock):
    answer = whole_openai_call(mock())
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert_fits_the_schema(json.loads(call.function.arguments))
    assert answer.usage.completion_tokens == math.ceil(len(call.function.arguments) / CHARS_PER_FRAGMENT)


def test_openai_streamed_tool_call_assembles_to_the_mocks_call(mock):
    expected = whole_openai_call(mock()).choices[0].message.tool_calls[0]
    completion = streamed_openai_completion(mock())
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == expected.function.name
    assert call.function.arguments == expected.function.arguments
    assert completion.usage.completion_tokens == math.ceil(len(call.function.arguments) / CHARS_PER_FRAGMENT)


def test_openai_tool_calls_after_a_retried_503_are_the_first_answers(mock):
    expected = whole_openai_call(mock()).choices[0].message.tool_calls[0].function.arguments
    whole = mock("--fault", "{ status: 503, first: 1 }")
    assert whole_openai_call(whole).choices[0].message.tool_calls[0].function.arguments == expected
    assert whole.statuses("openai") == {"503": 1, "200": 1}  # retried once by the SDK
    streamed = mock("--fault", "{ status: 503, first: 1 }")
    completion = streamed_openai_completion(streamed)
    assert completion.choices[0].message.tool_calls[0].function.arguments == expected
    assert streamed.statuses("openai") == {"503": 1, "200": 1}


def test_openai_cut_inside_the_arguments_returns_half_a_call_silently(mock):
    expected = whole_openai_call(mock()).choices[0].message.tool_calls[0].function.arguments
    completion = streamed_openai_completion(mock("--fault", CUT_IN_ARGUMENTS))  # no exception
    choice = completion.choices[0]
    assert choice.finish_reason is None  # the only sign: no finish reason
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert call.function.arguments == expected[: 2 * CHARS_PER_FRAGMENT]  # two fragments of it
    try:
        json.loads(call.function.arguments)
        raise AssertionError("half a call's arguments parsed as JSON")
    except json.JSONDecodeError:
        pass
    assert completion.usage is None  # the usage chunk never came


def test_anthropic_streamed_tool_use_assembles_input_json_deltas(mock):
    expected = anthropic_client(mock()).messages.create(
        model="claude-haiku-4-5",
        max_tokens=256,
        messages=MESSAGES,
        tools=ANTHROPIC_TOOLS,
        tool_choice={"type": "any"},
    )
    assert expected.stop_reason == "tool_use"
    (block,) = expected.content
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert_fits_the_schema(block.input)
    message, partial = streamed_anthropic_message(mock())
    assert message.stop_reason == "tool_use"
    (streamed,) = message.content
    assert streamed.type == "tool_use" and streamed.name == "get_weather"
    assert streamed.input == block.input
    assert json.loads("".join(partial)) == block.input
    assert message.usage.output_tokens == len(partial)


def test_anthropic_tool_use_after_a_retried_529(mock):
    expected, _ = streamed_anthropic_message(mock())
    m = mock("--fault", "{ status: 529, first: 1 }")
    message, _ = streamed_anthropic_message(m)
    assert message.content[0].input == expected.content[0].input
    assert m.statuses("anthropic") == {"529": 1, "200": 1}


def test_anthropic_cut_inside_the_input_returns_a_tool_use_with_empty_input_silently(mock):
    expected, partial_whole = streamed_anthropic_message(mock())
    message, partial = streamed_anthropic_message(mock("--fault", CUT_IN_ARGUMENTS))  # no exception
    assert partial == partial_whole[:2]  # two fragments arrived
    assert message.stop_reason is None  # the only sign: no stop reason
    (block,) = message.content
    assert block.type == "tool_use" and block.name == "get_weather"
    assert block.input == {}  # `{"city":` parsed leniently: the call has no arguments
    assert expected.content[0].input != {}
