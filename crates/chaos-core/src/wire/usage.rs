//! Token usage as the providers report it in their answers, read without parsing more than the
//! few places it can be:
//!
//! - a whole JSON answer: `usage.prompt_tokens / completion_tokens` (OpenAI) or
//!   `usage.input_tokens / output_tokens` (Anthropic);
//! - an OpenAI stream: the `include_usage` chunk (`"choices":[]` with `usage`), the last before
//!   `[DONE]`;
//! - an Anthropic stream: `message_start.message.usage.input_tokens`, and the cumulative
//!   `message_delta.usage.output_tokens`;
//! - Bedrock: `usage.inputTokens / outputTokens`, in a Converse answer and in a
//!   ConverseStream's `metadata` event.
//!
//! Checked against the official SDKs and the providers' documented formats.

use serde::Deserialize;

use super::{json_top::Level, sse_split::SseEvent};

/// Token counts an answer reported; either may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportedUsage {
    pub input: Option<u64>,
    pub output: Option<u64>,
}

impl ReportedUsage {
    /// Takes what a later report gives, keeping what it leaves out.
    pub fn update(&mut self, later: ReportedUsage) {
        self.input = later.input.or(self.input);
        self.output = later.output.or(self.output);
    }
}

/// Any family's `usage` object.
#[derive(Deserialize, Default)]
struct UsageFields {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    #[serde(alias = "inputTokens")]
    input_tokens: Option<u64>,
    #[serde(alias = "outputTokens")]
    output_tokens: Option<u64>,
}

impl From<UsageFields> for ReportedUsage {
    fn from(usage: UsageFields) -> Self {
        ReportedUsage {
            input: usage.prompt_tokens.or(usage.input_tokens),
            output: usage.completion_tokens.or(usage.output_tokens),
        }
    }
}

/// An object with (perhaps) a `usage`: an Anthropic stream's `message` or `message_delta`.
#[derive(Deserialize)]
struct WithUsage {
    usage: Option<UsageFields>,
}

/// The `usage` of a whole JSON answer of either family: `Some` (perhaps empty) when the body is
/// one JSON object, `None` when it is not (a body cut short) or its `usage` is malformed. Nothing
/// is deserialized: the answer is scanned once ([`super::json_top::scan`]), its `usage` opened on
/// the way, and only the four counts read.
pub fn of_answer(body: &[u8]) -> Option<ReportedUsage> {
    usage_and(body, None)?.0
}

/// One scan of the JSON object `body`: its `usage` as [`of_answer`] reads it (`None` when
/// malformed), and the raw value of the top-level key `also` (the first, if it repeats); `None`
/// when `body` is not one JSON object.
fn usage_and<'a>(body: &'a [u8], also: Option<&[u8]>) -> Option<(Option<ReportedUsage>, Option<&'a [u8]>)> {
    let mut usage = None;
    let mut other = None;
    let mut fields = UsageFields::default();
    let mut malformed = false;
    super::json_top::scan(body, Some(b"usage"), |level, key, value| {
        if level == Level::Top {
            if key == b"usage" && usage.is_none() {
                usage = Some(value);
            } else if Some(key) == also && other.is_none() {
                other = Some(value);
            }
            return;
        }
        let field = match key {
            b"prompt_tokens" => &mut fields.prompt_tokens,
            b"completion_tokens" => &mut fields.completion_tokens,
            b"input_tokens" | b"inputTokens" => &mut fields.input_tokens,
            b"output_tokens" | b"outputTokens" => &mut fields.output_tokens,
            _ => return,
        };
        match count(value) {
            Ok(value) => *field = field.or(value),
            Err(()) => malformed = true,
        }
    })
    .ok()?;
    let usage = match usage {
        None | Some(b"null") => Some(ReportedUsage::default()),
        // Opened and read above.
        Some(object) if object.starts_with(b"{") && !malformed => Some(fields.into()),
        Some(_) => None,
    };
    Some((usage, other))
}

/// A token count: a non-negative integer, or `null`.
fn count(value: &[u8]) -> Result<Option<u64>, ()> {
    match value {
        b"null" => Ok(None),
        digits if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).map(Some).ok_or(())
        }
        _ => Err(()),
    }
}

/// The JSON after an event's `data:` (a frame's payload).
fn data<'a>(event: &SseEvent<'a>) -> Option<&'a [u8]> {
    event.data().next()
}

/// What one OpenAI chunk says about billing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChunkFacts {
    /// It carries generated content (text, a refusal, or a tool call).
    pub has_content: bool,
    pub usage: ReportedUsage,
}

/// Reads one OpenAI chunk in one scan of its JSON ([`usage_and`]), its `choices` walked without
/// decoding anything; anything that is not a chunk (an error event, JSON cut short, a malformed
/// `usage`) says nothing. A well-formed chunk reads as serde read it
/// ([`openai_chunk_deserialized`]); the scan checks structure, not every token, so some chunks
/// serde refused are read (a `choices` of `null` still bills its `usage`, a string with a bad
/// escape still counts as content). Asked of every event the load generator receives, and of an
/// answer's first and last event at the interposer, each unless a byte search rules out what it
/// is read for ([`may_carry_content`], [`openai_chunk_vetted`]): under callgrind, reading both
/// chunks of a streamed request cost the interposer 18.2k instructions deserialized with serde,
/// 9.1k scanned.
pub fn openai_chunk(event: &SseEvent<'_>) -> ChunkFacts {
    let Some((Some(usage), choices)) = data(event).and_then(|d| usage_and(d, Some(b"choices"))) else {
        return ChunkFacts::default();
    };
    let mut has_content = false;
    if let Some(choices) = choices.filter(|choices| *choices != b"null") {
        let walked = super::json_top::elements(choices, |choice| has_content |= delta_has_content(choice));
        if walked.is_err() {
            return ChunkFacts::default();
        }
    }
    ChunkFacts { has_content, usage }
}

/// [`openai_chunk`], but a chunk that byte searches show carries neither content
/// ([`may_carry_content`]) nor a `"usage"` key says nothing without being read: a stream's finish
/// chunk (`"delta":{}`), its last when the request asked no usage, the interposer reads once a
/// stream. A key spelled with an escape has a backslash, and a chunk with one is always read.
pub fn openai_chunk_vetted(event: &SseEvent<'_>) -> ChunkFacts {
    static USAGE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));
    // The usage chunk, the last when it is asked for, is found by the first search.
    match USAGE.find(event.bytes).is_some() || may_carry_content(event.bytes) {
        true => openai_chunk(event),
        false => ChunkFacts::default(),
    }
}

/// Reads one OpenAI chunk's JSON as [`openai_chunk`] did before it scanned: deserialized with
/// serde into owned strings. Kept as the reference the scan is held to (a differential test)
/// and the baseline the `openai_chunk` benchmark compares it with (`benches/hot_paths.rs`).
#[doc(hidden)]
pub fn openai_chunk_deserialized(json: &[u8]) -> ChunkFacts {
    #[derive(Deserialize)]
    struct Chunk {
        #[serde(default)]
        choices: Vec<Choice>,
        usage: Option<UsageFields>,
    }
    #[derive(Deserialize)]
    struct Choice {
        delta: Option<Delta>,
    }
    #[derive(Deserialize)]
    struct Delta {
        content: Option<String>,
        refusal: Option<String>,
        tool_calls: Option<serde_json::Value>,
    }
    let Ok(chunk) = serde_json::from_slice::<Chunk>(json) else { return ChunkFacts::default() };
    let non_empty = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.is_empty());
    let has_content =
        chunk.choices.iter().filter_map(|choice| choice.delta.as_ref()).any(|delta| {
            non_empty(&delta.content) || non_empty(&delta.refusal) || delta.tool_calls.is_some()
        });
    ChunkFacts { has_content, usage: chunk.usage.map(ReportedUsage::from).unwrap_or_default() }
}

/// Whether an OpenAI chunk can carry generated content, told by a byte search without reading
/// its JSON: `false` only when it has no `"tool_calls"` and every `"content"` and `"refusal"` in
/// it is `""` or `null` (as a stream's first chunk, the role's, has), so [`openai_chunk`] would
/// say it has none. A key in a JSON text is its quoted name, and a quote inside a string is
/// escaped, so each key in the chunk is found wherever it is nested; a chunk with a backslash
/// anywhere is always read. `true` asks no more than that the chunk be read.
pub fn may_carry_content(chunk: &[u8]) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Built once: a searcher's setup costs more than searching a chunk.
    static TOOL_CALLS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_calls\""));
    static CONTENT_KEYS: LazyLock<[Finder<'static>; 2]> =
        LazyLock::new(|| [Finder::new(b"\"content\""), Finder::new(b"\"refusal\"")]);
    // A key spelled with an escape (`"cont\u0065nt"`) would slip past the search: a chunk with
    // any backslash is read (a role's chunk has none).
    if memchr::memchr(b'\\', chunk).is_some() || TOOL_CALLS.find(chunk).is_some() {
        return true;
    }
    CONTENT_KEYS.iter().any(|key| {
        key.find_iter(chunk).any(|at| {
            let after = &chunk[at + key.needle().len()..];
            let after = after.trim_ascii_start().strip_prefix(b":").unwrap_or(b"x").trim_ascii_start();
            !(after.starts_with(b"\"\"") || after.starts_with(b"null"))
        })
    })
}

/// Whether a chunk's choice carries generated content in its `delta`: a non-empty `content` or
/// `refusal` string, or `tool_calls`.
fn delta_has_content(choice: &[u8]) -> bool {
    let mut content = false;
    let scanned = super::json_top::scan(choice, Some(b"delta"), |level, key, value| {
        if level == Level::Opened {
            content |= match key {
                b"content" | b"refusal" => value.len() > 2 && value.starts_with(b"\""),
                b"tool_calls" => value != b"null",
                _ => false,
            };
        }
    });
    scanned.is_ok() && content
}

/// What one Anthropic event (or Bedrock frame, [`bedrock_event`]) says about billing.
#[derive(Debug, PartialEq, Eq)]
pub enum AnthropicEvent {
    /// A `content_block_delta`: generated content (one token per delta in the mocks).
    Content,
    /// `message_start` or `message_delta`, with the usage it reports.
    Usage(ReportedUsage),
    /// Anything else.
    Other,
}

#[derive(Deserialize)]
struct MessageStart {
    message: WithUsage,
}

/// Classifies an Anthropic event by its `event:` name, parsing only the two that carry usage.
/// `message_start`'s early `output_tokens` (1) is not the answer's: only `message_delta`'s is.
pub fn anthropic_event(event: &SseEvent<'_>) -> AnthropicEvent {
    let parse_usage = |started: bool| {
        let bytes = data(event).unwrap_or_default();
        let usage = if started {
            serde_json::from_slice::<MessageStart>(bytes).ok().and_then(|start| start.message.usage)
        } else {
            serde_json::from_slice::<WithUsage>(bytes).ok().and_then(|delta| delta.usage)
        };
        let mut reported = usage.map(ReportedUsage::from).unwrap_or_default();
        if started {
            reported.output = None;
        }
        AnthropicEvent::Usage(reported)
    };
    match event.name() {
        Some(b"content_block_delta") => AnthropicEvent::Content,
        Some(b"message_start") => parse_usage(true),
        Some(b"message_delta") => parse_usage(false),
        _ => AnthropicEvent::Other,
    }
}

/// Classifies a Bedrock ConverseStream frame by its `:event-type`: `contentBlockDelta` is
/// content, `metadata` carries the usage (parsed only then).
pub fn bedrock_event(event: &SseEvent<'_>) -> AnthropicEvent {
    match event.name() {
        Some(b"contentBlockDelta") => AnthropicEvent::Content,
        Some(b"metadata") => {
            let usage =
                data(event).and_then(|d| serde_json::from_slice::<WithUsage>(d).ok()).and_then(|m| m.usage);
            AnthropicEvent::Usage(usage.map(ReportedUsage::from).unwrap_or_default())
        }
        _ => AnthropicEvent::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bytes: &[u8]) -> SseEvent<'_> {
        SseEvent { index: 0, bytes, tool_argument: None }
    }

    #[test]
    fn whole_answers_of_both_families() {
        let openai = br#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#;
        let anthropic = br#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":9,"output_tokens":3,"cache_read_input_tokens":0}}"#;
        assert_eq!(of_answer(openai), Some(ReportedUsage { input: Some(12), output: Some(5) }));
        assert_eq!(of_answer(anthropic), Some(ReportedUsage { input: Some(9), output: Some(3) }));
        assert_eq!(of_answer(br#"{"object":"list","data":[]}"#), Some(ReportedUsage::default()));
        assert_eq!(of_answer(br#"{"usage":{"prompt_tok"#), None, "a body cut short is not JSON");
        let bedrock = br#"{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":7,"outputTokens":2,"totalTokens":9},"metrics":{"latencyMs":12}}"#;
        assert_eq!(of_answer(bedrock), Some(ReportedUsage { input: Some(7), output: Some(2) }));
    }

    #[test]
    fn bedrock_frames_bill_from_metadata() {
        let metadata = crate::wire::bedrock::event(
            "metadata",
            &serde_json::json!({ "usage": { "inputTokens": 11, "outputTokens": 4, "totalTokens": 15 }, "metrics": { "latencyMs": 3 } }),
        );
        let usage = ReportedUsage { input: Some(11), output: Some(4) };
        assert_eq!(bedrock_event(&event(&metadata)), AnthropicEvent::Usage(usage));
        let delta = crate::wire::bedrock::event(
            "contentBlockDelta",
            &serde_json::json!({ "delta": { "text": "a" } }),
        );
        assert_eq!(bedrock_event(&event(&delta)), AnthropicEvent::Content);
        let stop =
            crate::wire::bedrock::event("messageStop", &serde_json::json!({ "stopReason": "end_turn" }));
        assert_eq!(bedrock_event(&event(&stop)), AnthropicEvent::Other);
    }

    #[test]
    fn only_the_answers_own_usage_counts_whatever_the_content_says() {
        // The content quotes a usage object: escaped, so it is text, not the answer's usage.
        let quoting = br#"{"choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 999}"}}],"usage" : {"prompt_tokens":12,"completion_tokens":5},"system_fingerprint":"fp"}"#;
        assert_eq!(of_answer(quoting), Some(ReportedUsage { input: Some(12), output: Some(5) }));
        let null = br#"{"choices":[],"usage":null}"#;
        assert_eq!(of_answer(null), Some(ReportedUsage::default()));
        // Only the answer's own usage: not one nested later, nor one in a body cut short.
        let nested =
            br#"{"usage":{"prompt_tokens":12,"completion_tokens":5},"meta":{"usage":{"prompt_tokens":1}}}"#;
        assert_eq!(of_answer(nested), Some(ReportedUsage { input: Some(12), output: Some(5) }));
        let cut_in_a_tool_call = br#"{"content":[{"type":"tool_use","input":{"usage":{"input_tokens":1}}"#;
        assert_eq!(of_answer(cut_in_a_tool_call), None);
        let cut_late = br#"{"content":[],"usage":{"input_tokens":3,"output_tokens":1}"#;
        assert_eq!(of_answer(cut_late), None, "cut before the answer closed: as before, not read");
        let in_an_array = br#"{"data":[{"usage":{"prompt_tokens":1}}]}"#;
        assert_eq!(of_answer(in_an_array), Some(ReportedUsage::default()), "not the answer's own");
        assert_eq!(of_answer(br#"{"usage":{"prompt_tokens":"12"}}"#), None, "a count that is not a number");
        assert_eq!(of_answer(br#"{"usage":{"prompt_tokens":-1}}"#), None, "nor a negative one");
        assert_eq!(
            of_answer(br#"{"usage":{"input_tokens":null,"output_tokens":7}}"#),
            Some(ReportedUsage { input: None, output: Some(7) })
        );
        assert_eq!(of_answer(br#"{"usage":[]}"#), None, "a usage that is not an object");
        // A repeated usage: the first one counts, whatever comes after it.
        let repeated = br#"{"usage":null,"usage":{"prompt_tokens":"x"}}"#;
        assert_eq!(of_answer(repeated), Some(ReportedUsage::default()));
        assert_eq!(of_answer(br#"{"usage":5,"usage":{"prompt_tokens":1}}"#), None);
        let twice = br#"{"usage":{"prompt_tokens":2},"usage":{"prompt_tokens":"x"}}"#;
        assert_eq!(of_answer(twice), Some(ReportedUsage { input: Some(2), output: None }));
    }

    #[test]
    fn openai_chunks_say_whether_they_carry_content_or_usage() {
        let role = event(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n");
        let token =
            event(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the\"}}],\"usage\":null}\n\n");
        let finish =
            event(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        let usage =
            event(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":10}}\n\n");
        let error = event(b"data: {\"error\":{\"message\":\"boom\"}}\n\n");
        assert_eq!(openai_chunk(&role), ChunkFacts::default());
        assert!(openai_chunk(&token).has_content);
        assert_eq!(openai_chunk(&finish), ChunkFacts::default());
        assert!(!may_carry_content(finish.bytes), "the finish chunk is told without reading it");
        assert_eq!(openai_chunk_vetted(&usage), openai_chunk(&usage), "a usage chunk is read");
        let escaped_usage = event(b"data: {\"choices\":[],\"us\\u0061ge\":{\"prompt_tokens\":1}}\n\n");
        assert_eq!(openai_chunk_vetted(&escaped_usage), openai_chunk(&escaped_usage));
        assert_eq!(openai_chunk(&usage).usage, ReportedUsage { input: Some(100), output: Some(10) });
        assert_eq!(openai_chunk(&error), ChunkFacts::default());
        assert_eq!(openai_chunk(&event(b"data: {not json\n\n")), ChunkFacts::default());
    }

    /// The scan reads a chunk as deserializing it with serde did (the reading it replaced), on
    /// chunks of every shape: content, refusals and tool calls, several choices, nulls where a
    /// value may be, whitespace, escapes, text that quotes JSON, and ones cut short or not JSON.
    /// The byte search never passes over content serde finds, an escaped key included.
    #[test]
    fn openai_chunks_read_by_the_scan_as_serde_reads_them() {
        let by_serde = |json: &str| openai_chunk_deserialized(json.as_bytes());
        let role = r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#;
        assert!(!may_carry_content(role.as_bytes()), "the role's chunk is told without reading it");
        let chunks = [
            role,
            r#"{"choices":[{"delta":{"content" : "" , "refusal" :null}}]}"#,
            r#"{"choices":[{"delta":{"content":""},"logprobs":{"content":[{"token":"a"}]}}]}"#,
            r#"{"choices":[{"delta":{"content":"\"content\":\"\""}}]}"#,
            r#"{"choices":[{"delta":{"content":"","tool_calls":null}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"hi"}}]}"#,
            r#"{ "choices" : [ { "delta" : { "content" : "\"}]" } } ] }"#,
            r#"{"choices":[{"delta":{"content":"\u0000"}}]}"#,
            r#"{"choices":[{"delta":{"content":null,"refusal":"no"}}]}"#,
            r#"{"choices":[{"delta":{"refusal":""}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":null}}]}"#,
            r#"{"choices":[{"delta":{}},{"delta":{"content":"b"}}]}"#,
            r#"{"choices":[{"delta":null},{"index":1}]}"#,
            r#"{"choices":[{"message":{"content":"not a delta"}}]}"#,
            r#"{"choices":[{"delta":{"text":"{\"content\":\"x\"}"}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110}}"#,
            r#"{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":3,"completion_tokens":null}}"#,
            r#"{"usage":{"prompt_tokens":7}}"#,
            r#"{"error":{"message":"boom","usage":{"prompt_tokens":1}}}"#,
            r#"{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":"x"}}"#,
            r#"{"choices":[{"delta":{"content":"a"}}],"usage":[]}"#,
            r#"{"choices":[{"delta":{"content":"a"}}"#,
            r#"{"choices":[{"delta":{"content":"a"}}]} trailing"#,
            "not json",
        ];
        for chunk in chunks {
            if !may_carry_content(chunk.as_bytes()) {
                assert!(!by_serde(chunk).has_content, "the byte search passed over content: {chunk}");
            }
            let event = format!("data: {chunk}\n\n");
            let event = SseEvent { index: 0, bytes: event.as_bytes(), tool_argument: None };
            assert_eq!(openai_chunk(&event), by_serde(chunk), "{chunk}");
            assert_eq!(openai_chunk_vetted(&event), by_serde(chunk), "vetted: {chunk}");
        }
        // A key spelled with an escape: the scan does not find it (as `json_top` does not), but
        // the byte search sends the chunk to be read rather than pass over it.
        let escaped = br#"{"choices":[{"delta":{"cont\u0065nt":"hi"}}]}"#;
        assert!(openai_chunk_deserialized(escaped).has_content && may_carry_content(escaped));
        // Decided: a chunk serde refused whole for a `choices` of `null` still bills its usage.
        let event = b"data: {\"choices\":null,\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n";
        let facts = openai_chunk(&SseEvent { index: 0, bytes: event, tool_argument: None });
        assert_eq!(facts.usage, ReportedUsage { input: Some(5), output: Some(2) });
    }

    #[test]
    fn anthropic_events_by_name_with_usage_from_start_and_delta() {
        let start = event(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n");
        let delta = event(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n");
        let end = event(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n");
        let ping = event(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
        assert_eq!(
            anthropic_event(&start),
            AnthropicEvent::Usage(ReportedUsage { input: Some(25), output: None })
        );
        assert_eq!(anthropic_event(&delta), AnthropicEvent::Content);
        assert_eq!(
            anthropic_event(&end),
            AnthropicEvent::Usage(ReportedUsage { input: None, output: Some(15) })
        );
        assert_eq!(anthropic_event(&ping), AnthropicEvent::Other);
    }

    #[test]
    fn a_later_report_fills_in_without_erasing() {
        let mut usage = ReportedUsage { input: Some(25), output: None };
        usage.update(ReportedUsage { input: None, output: Some(15) });
        assert_eq!(usage, ReportedUsage { input: Some(25), output: Some(15) });
    }
}
