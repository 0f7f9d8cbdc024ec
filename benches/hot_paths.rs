//! Criterion benchmarks of the functions every request or every streamed event goes through:
//! reading a request body's fields at the interposer (a short prompt, and a 200k-token one), a
//! fault chain's decision, splitting an SSE stream into events, building the generator's request
//! body, reading an answer's `usage`, and reading a streamed chunk (scanned, beside the serde
//! reading it replaced). Each group prints its baseline beside it (an empty chain beside a firing
//! one, a short body beside a long one), so the figures read as ratios on a shared machine.
//!
//!   cargo bench --bench hot_paths

use std::hint::black_box;

use chaos::{
    fault::{Chain, FaultAction, FaultRule, RequestView, StatusFault},
    load::body::RequestSpec,
    proxy::BodyFields,
    wire::{
        sse_split::{SseEvent, SseSplitter},
        tokens, usage, ApiFamily,
    },
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn body(prompt_chars: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [
            { "role": "system", "content": "You review code." },
            { "role": "user", "content": "lore".repeat(prompt_chars / 4) }
        ],
        "max_tokens": 200,
        "stream": true,
        "user": "chaos-123456"
    }))
    .expect("a body")
}

fn body_fields(c: &mut Criterion) {
    let mut group = c.benchmark_group("body_fields");
    for (name, chars) in [("short prompt", 800), ("200k-token prompt", 800_000)] {
        let bytes = body(chars);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| BodyFields::read(black_box(&bytes))));
    }
    group.finish();
}

fn fault_decision(c: &mut Criterion) {
    let status = FaultAction::Status(StatusFault {
        status: 429,
        family: ApiFamily::OpenAi,
        retry_after: None,
        quota: false,
        should_retry: None,
    });
    let request = |key| RequestView {
        method: "POST",
        path: "/v1/chat/completions",
        model: Some("gpt-4o-mini"),
        stream: Some(true),
        key: Some(0),
        tokens: Some(1000),
        headers: None,
        draw_key: Some(key),
    };
    let mut group = c.benchmark_group("fault_decision");
    let empty = Chain::empty();
    let brownout = Chain::new(vec![FaultRule::new(status, 0.3)], 42);
    let mut key = 0u64;
    group.bench_function("empty chain", |b| b.iter(|| empty.decide(black_box(&request(0)))));
    group.bench_function("30% 429, keyed draw", |b| {
        b.iter(|| {
            key += 1;
            brownout.decide(black_box(&request(key)))
        })
    });
    group.finish();
}

fn sse_split(c: &mut Criterion) {
    let event = b"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" chaos\"}}]}\n\n";
    let stream: Vec<u8> = event.iter().copied().cycle().take(event.len() * 200).collect();
    let mut group = c.benchmark_group("sse_split");
    group.throughput(Throughput::Elements(200));
    group.bench_function("200 events in one read", |b| {
        b.iter(|| SseSplitter::default().push(black_box(&stream)).len())
    });
    group.bench_function("200 events, 64-byte reads", |b| {
        b.iter(|| {
            let mut splitter = SseSplitter::default();
            stream.chunks(64).map(|chunk| splitter.push(chunk).len()).sum::<usize>()
        })
    });
    group.finish();
}

/// The generator's body for each request: a 100-token prompt beside a 200k-token one.
fn request_body(c: &mut Criterion) {
    let prompt = tokens::prompt_text(200_000);
    let mut group = c.benchmark_group("request_body");
    for tokens in [100, 200_000] {
        let spec = RequestSpec {
            api: ApiFamily::OpenAi,
            model: "gpt-4o-mini".into(),
            stream: false,
            endpoint: Default::default(),
            prompt_tokens: tokens,
            max_tokens: Some(1),
            shape: None,
            agent: None,
        };
        group.bench_function(format!("{tokens}-token prompt"), |b| {
            b.iter(|| chaos::load::body::body(ApiFamily::OpenAi, black_box(&spec), &prompt, 42))
        });
    }
    group.finish();
}

/// `usage` of a whole answer (interposer meter and generator, every answer): a short answer
/// beside one with 4 KB of content before its usage.
fn usage_of_answer(c: &mut Criterion) {
    let answer = |content: &str| {
        format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{{"index":0,"message":{{"role":"assistant","content":"{content}","refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}},"service_tier":"default","system_fingerprint":"fp_1"}}"#
        )
    };
    let mut group = c.benchmark_group("usage_of_answer");
    for (name, body) in [("short answer", answer("hi")), ("4 KB answer", answer(&"word ".repeat(820)))] {
        group.bench_function(name, |b| b.iter(|| usage::of_answer(black_box(body.as_bytes()))));
    }
    group.finish();
}

/// One OpenAI stream chunk read for billing (the interposer: a stream's last chunk; the generator:
/// every chunk): the block scan beside the serde reading it replaced, for the role's chunk and
/// the usage chunk.
fn openai_chunk(c: &mut Criterion) {
    let role = br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#;
    let usage_chunk = br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":16,"total_tokens":28}}"#;
    let mut group = c.benchmark_group("openai_chunk");
    for (name, json) in [("role", &role[..]), ("usage", &usage_chunk[..])] {
        let event = [&b"data: "[..], json, b"\n\n"].concat();
        let view = SseEvent { index: 0, bytes: &event, tool_argument: None };
        group
            .bench_function(format!("{name}, scanned"), |b| b.iter(|| usage::openai_chunk(black_box(&view))));
        group.bench_function(format!("{name}, deserialized (before)"), |b| {
            b.iter(|| usage::openai_chunk_deserialized(black_box(json)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    body_fields,
    fault_decision,
    sse_split,
    request_body,
    usage_of_answer,
    openai_chunk
);
criterion_main!(benches);
