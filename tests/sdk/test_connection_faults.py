"""What openai-python does when the connection itself fails: a reset, or a hang."""

from __future__ import annotations

import time

import openai
import pytest

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]


def test_a_reset_is_retried_twice_then_raises_a_connection_error(mock):
    m = mock("--fault", "{ reset: true }")
    sdk = openai.OpenAI(base_url=m.openai_base_url, api_key="sk-test", timeout=20)
    with pytest.raises(openai.APIConnectionError):
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    # Three attempts reached the mock; none got an answer (counted as status 0).
    assert m.statuses("openai") == {"0": 3}


def test_a_hang_longer_than_the_timeout_is_retried_then_raises_a_timeout(mock):
    m = mock("--fault", "{ hang: forever }")
    sdk = openai.OpenAI(base_url=m.openai_base_url, api_key="sk-test", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    # Three 0.5 s timeouts and two backoffs (about 0.4-0.5 s, then 0.75-1 s).
    assert 2.5 < time.monotonic() - started < 6
    assert m.requests("openai") == 3
