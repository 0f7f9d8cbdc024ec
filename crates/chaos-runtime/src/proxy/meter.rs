//! Tallies the tokens of one upstream answer as it passes the interposer, to bill the attempt:
//! what the answer's `usage` reported, and where it did not (a cut stream, a dropped usage
//! chunk) an estimate — input tokens from the request body, output tokens from the content
//! events seen (one token per content delta in the mocks).
//!
//! Cheap on the way through: a JSON body is kept up to [`KEEP_JSON_BYTES`] and parsed once at
//! the end; of an OpenAI stream only the first and the last chunk are read (the usage chunk is
//! the last before `[DONE]`), each only when a byte search cannot rule out what it is read for
//! ([`usage::may_carry_content`], [`usage::openai_chunk_vetted`]); of an Anthropic stream only
//! `message_start` and `message_delta`, found by their `event:` line; of a Bedrock stream only the
//! `metadata` frame; of a Gemini answer its `usageMetadata`, and each event of its stream (each
//! carries the usage so far).

use crate::{
    metrics::TokenUsage,
    wire::{
        gemini,
        sse_split::SseEvent,
        usage::{self, AnthropicEvent, ReportedUsage},
        ApiFamily,
    },
};

/// The most of a JSON answer kept to read its `usage` from; beyond it the usage is unknown.
pub const KEEP_JSON_BYTES: usize = 1 << 20;

/// The token tally of one answer.
#[derive(Debug)]
pub struct UsageMeter {
    /// Estimated prompt tokens of the request, when its body was read.
    prompt_estimate: Option<u64>,
    body: Tally,
}

#[derive(Debug)]
enum Tally {
    Json {
        kept: Vec<u8>,
        overflowed: bool,
        read: fn(&[u8]) -> Option<ReportedUsage>,
    },
    /// `leading`: chunks before the role's that never carry content (Azure's prompt-filter
    /// results: 1).
    OpenAiStream {
        data_events: u64,
        first_has_content: Option<bool>,
        /// The last chunk so far (its buffer reused from one chunk to the next).
        last: Vec<u8>,
        leading: u64,
    },
    /// Anthropic's named events, or Bedrock's frames: content events counted, usage read from
    /// the events that carry it, each told apart by `classify`.
    NamedStream {
        reported: ReportedUsage,
        content_events: u64,
        classify: fn(&SseEvent<'_>) -> AnthropicEvent,
    },
    /// `finished`: an event with a candidate's `finishReason` went by, the stream's end (Gemini
    /// sends no terminator event).
    GeminiStream {
        reported: ReportedUsage,
        content_events: u64,
        finished: bool,
    },
}

impl UsageMeter {
    pub fn new(family: ApiFamily, event_stream: bool, prompt_estimate: Option<u64>) -> Self {
        let body = match (event_stream, family) {
            (false, ApiFamily::Gemini) => {
                Tally::Json { kept: Vec::new(), overflowed: false, read: gemini::answer_usage }
            }
            (false, _) => Tally::Json { kept: Vec::new(), overflowed: false, read: usage::of_answer },
            (true, ApiFamily::OpenAi | ApiFamily::Azure) => Tally::OpenAiStream {
                data_events: 0,
                first_has_content: None,
                last: Vec::new(),
                leading: u64::from(family == ApiFamily::Azure),
            },
            (true, ApiFamily::Anthropic) => Tally::NamedStream {
                reported: ReportedUsage::default(),
                content_events: 0,
                classify: usage::anthropic_event,
            },
            (true, ApiFamily::Bedrock) => Tally::NamedStream {
                reported: ReportedUsage::default(),
                content_events: 0,
                classify: usage::bedrock_event,
            },
            (true, ApiFamily::Gemini) => {
                Tally::GeminiStream { reported: ReportedUsage::default(), content_events: 0, finished: false }
            }
        };
        UsageMeter { prompt_estimate, body }
    }

    /// Body bytes as they pass; only a JSON answer keeps them.
    pub fn bytes(&mut self, data: &[u8]) {
        if let Tally::Json { kept, overflowed, .. } = &mut self.body {
            if kept.len() + data.len() > KEEP_JSON_BYTES {
                *overflowed = true;
                *kept = Vec::new();
            }
            if !*overflowed {
                kept.extend_from_slice(data);
            }
        }
    }

    /// One whole event of a stream, other than its terminator; returns whether it carries
    /// generated content (an OpenAI chunk after the first is taken to, as the tally does: the
    /// first is the role's, and content follows it).
    pub fn event(&mut self, event: &[u8]) -> bool {
        let view = SseEvent { index: 0, bytes: event, tool_argument: None };
        match &mut self.body {
            Tally::Json { .. } => false,
            Tally::OpenAiStream { data_events, first_has_content, last, leading } => {
                *data_events += 1;
                // The first chunk (the role's) is read only when a byte search cannot rule out
                // content in it.
                let first = *first_has_content.get_or_insert_with(|| {
                    usage::may_carry_content(event) && usage::openai_chunk(&view).has_content
                });
                last.clear();
                last.extend_from_slice(event);
                *data_events > 1 + *leading || first
            }
            Tally::NamedStream { reported, content_events, classify } => match classify(&view) {
                AnthropicEvent::Content => {
                    *content_events += 1;
                    true
                }
                AnthropicEvent::Usage(report) => {
                    reported.update(report);
                    false
                }
                AnthropicEvent::Other => false,
            },
            Tally::GeminiStream { reported, content_events, finished } => {
                let facts = gemini::event(&view);
                reported.update(facts.usage);
                *content_events += u64::from(facts.has_content);
                *finished |= facts.finished;
                facts.has_content
            }
        }
    }

    /// Whether the answer's own last event went by where its family sends no terminator event
    /// (Gemini's, with a candidate's `finishReason`): the stream is whole there.
    pub fn finished(&self) -> bool {
        matches!(self.body, Tally::GeminiStream { finished: true, .. })
    }

    /// An event after the stream's terminator: only a usage report counts (Bedrock's `metadata`
    /// comes after its `messageStop`); content there was never part of the answer.
    pub fn trailer(&mut self, event: &[u8]) {
        let view = SseEvent { index: 0, bytes: event, tool_argument: None };
        if let Tally::NamedStream { reported, classify, .. } = &mut self.body {
            if let AnthropicEvent::Usage(report) = classify(&view) {
                reported.update(report);
            }
        }
    }

    /// The tokens billed for the answer so far; `None` when they cannot be known (a JSON answer
    /// too long to keep, or a stream without usage whose request body was not read).
    pub fn usage(&self) -> Option<TokenUsage> {
        let (reported, counted_output) = match &self.body {
            Tally::Json { overflowed: true, .. } => return None,
            Tally::Json { kept, read, .. } => match read(kept) {
                // An answer without usage (a list of models, an error body) bills nothing.
                Some(reported) => return Some(complete(reported).unwrap_or(TokenUsage::NONE)),
                // Cut short: the content cannot be counted.
                None => (ReportedUsage::default(), 0),
            },
            Tally::OpenAiStream { data_events, first_has_content, last, leading } => {
                let last = (*data_events > 0).then(|| {
                    usage::openai_chunk_vetted(&SseEvent { index: 0, bytes: last, tool_argument: None })
                });
                let last_has_content = last.as_ref().is_some_and(|facts| facts.has_content);
                // Chunks between the first and the last are content; the first (the role) and the
                // last (the finish, an error) count only if they carry content.
                let structural = u64::from(*first_has_content == Some(false))
                    + u64::from(*data_events > 1 && !last_has_content);
                let reported = last.map(|facts| facts.usage).unwrap_or_default();
                // Behind leading chunks the role's is neither first nor last: it is passed over here.
                let counted = data_events.saturating_sub(structural);
                (reported, counted - counted.min(*leading))
            }
            Tally::NamedStream { reported, content_events, .. }
            | Tally::GeminiStream { reported, content_events, .. } => (*reported, *content_events),
        };
        let input = reported.input.or(self.prompt_estimate)?;
        Some(TokenUsage {
            input,
            output: reported.output.unwrap_or(counted_output),
            estimated: reported.input.is_none() || reported.output.is_none(),
        })
    }
}

/// A whole answer's report, as billed: one that gives input tokens alone (an embeddings
/// answer's `{prompt_tokens, total_tokens}`) generated nothing.
fn complete(reported: ReportedUsage) -> Option<TokenUsage> {
    Some(TokenUsage { input: reported.input?, output: reported.output.unwrap_or(0), estimated: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::sse_split::SseSplitter;

    const OPENAI_STREAM: &[&str] = &[
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"chaos\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tests\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":3,\"total_tokens\":103}}\n\n",
    ];

    const ANTHROPIC_STREAM: &[&str] = &[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4\",\"content\":[],\"usage\":{\"input_tokens\":100,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"chaos\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" tests\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" the\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\n",
    ];

    /// The tally of a stream's first `events` events, fed in awkward 5-byte chunks as
    /// `RecordedBody` would (whole events, terminator excluded).
    fn stream(family: ApiFamily, events: &[&str], prompt_estimate: Option<u64>) -> Option<TokenUsage> {
        let mut meter = UsageMeter::new(family, true, prompt_estimate);
        let mut splitter = SseSplitter::default();
        for chunk in events.concat().as_bytes().chunks(5) {
            for event in splitter.push(chunk) {
                meter.event(&event);
            }
        }
        meter.usage()
    }

    fn exact(input: u64, output: u64) -> Option<TokenUsage> {
        Some(TokenUsage { input, output, estimated: false })
    }

    fn estimated(input: u64, output: u64) -> Option<TokenUsage> {
        Some(TokenUsage { input, output, estimated: true })
    }

    #[test]
    fn a_whole_stream_bills_what_its_usage_says() {
        assert_eq!(stream(ApiFamily::OpenAi, OPENAI_STREAM, Some(90)), exact(100, 3));
        assert_eq!(stream(ApiFamily::Anthropic, ANTHROPIC_STREAM, Some(90)), exact(100, 3));
    }

    #[test]
    fn a_cut_openai_stream_counts_its_content_and_estimates_its_input() {
        // Cut after the role and two tokens; after the finish chunk (usage dropped); at once.
        assert_eq!(stream(ApiFamily::OpenAi, &OPENAI_STREAM[..3], Some(90)), estimated(90, 2));
        assert_eq!(stream(ApiFamily::OpenAi, &OPENAI_STREAM[..5], Some(90)), estimated(90, 3));
        assert_eq!(stream(ApiFamily::OpenAi, &OPENAI_STREAM[..1], Some(90)), estimated(90, 0));
        assert_eq!(stream(ApiFamily::OpenAi, &[], Some(90)), estimated(90, 0));
        assert_eq!(stream(ApiFamily::OpenAi, &OPENAI_STREAM[..3], None), None, "input unknown");
    }

    #[test]
    fn a_cut_azure_stream_passes_over_its_prompt_results_and_its_role() {
        let prompt_results = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[]}\n\n";
        let azure: Vec<&str> = std::iter::once(prompt_results).chain(OPENAI_STREAM.iter().copied()).collect();
        assert_eq!(stream(ApiFamily::Azure, &azure, Some(90)), exact(100, 3));
        for (cut, tokens) in [(1, 0), (2, 0), (3, 1), (4, 2), (6, 3)] {
            assert_eq!(
                stream(ApiFamily::Azure, &azure[..cut], Some(90)),
                estimated(90, tokens),
                "cut after {cut}"
            );
        }
        let mut meter = UsageMeter::new(ApiFamily::Azure, true, None);
        let contents: Vec<bool> = azure.iter().map(|event| meter.event(event.as_bytes())).collect();
        assert_eq!(
            contents,
            [false, false, true, true, true, true, true],
            "the first token is the third chunk"
        );
    }

    #[test]
    fn an_injected_error_event_is_not_content() {
        let error =
            "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n";
        let events = [OPENAI_STREAM[0], OPENAI_STREAM[1], error];
        assert_eq!(stream(ApiFamily::OpenAi, &events, Some(90)), estimated(90, 1));
    }

    #[test]
    fn a_cut_anthropic_stream_keeps_its_reported_input_and_counts_its_content() {
        assert_eq!(stream(ApiFamily::Anthropic, &ANTHROPIC_STREAM[..5], Some(90)), estimated(100, 2));
        assert_eq!(stream(ApiFamily::Anthropic, &ANTHROPIC_STREAM[..0], Some(90)), estimated(90, 0));
    }

    fn json(body: &[u8], prompt_estimate: Option<u64>) -> Option<TokenUsage> {
        let mut meter = UsageMeter::new(ApiFamily::OpenAi, false, prompt_estimate);
        body.chunks(7).for_each(|chunk| meter.bytes(chunk));
        meter.usage()
    }

    #[test]
    fn a_json_answer_bills_its_usage_or_nothing_and_a_cut_one_is_estimated() {
        let answer = br#"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#;
        assert_eq!(json(answer, Some(10)), exact(12, 5));
        assert_eq!(json(br#"{"object":"list","data":[]}"#, None), Some(TokenUsage::NONE));
        assert_eq!(json(&answer[..40], Some(10)), estimated(10, 0));
    }

    #[test]
    fn an_embeddings_answer_bills_its_input_tokens_and_no_output() {
        let answer = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPw=="}],"model":"text-embedding-3-small","usage":{"prompt_tokens":200,"total_tokens":200}}"#;
        assert_eq!(json(answer, None), exact(200, 0));
    }

    #[test]
    fn a_json_answer_too_long_to_keep_has_unknown_usage_and_keeps_nothing() {
        let mut meter = UsageMeter::new(ApiFamily::Anthropic, false, Some(10));
        meter.bytes(&vec![b' '; KEEP_JSON_BYTES]);
        meter.bytes(b"{}");
        assert!(matches!(&meter.body, Tally::Json { kept, overflowed: true, .. } if kept.is_empty()));
        assert_eq!(meter.usage(), None);
    }

    #[test]
    fn events_and_bytes_of_the_wrong_kind_are_ignored() {
        let mut json = UsageMeter::new(ApiFamily::OpenAi, false, None);
        json.event(OPENAI_STREAM[1].as_bytes());
        assert_eq!(json.usage(), None, "nothing kept: not JSON");
        let mut events = UsageMeter::new(ApiFamily::OpenAi, true, Some(5));
        events.bytes(b"{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}");
        assert_eq!(events.usage(), estimated(5, 0));
    }
}
