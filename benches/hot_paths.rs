//! Criterion benchmarks of the functions every request or every streamed event goes through:
//! reading a request body's fields at the interposer (a short prompt, and a 200k-token one),
//! a fault chain's decision, and splitting an SSE stream into events. Each group prints its
//! baseline beside it (an empty chain beside a firing one, a short body beside a long one),
//! so the figures read as ratios on a shared machine.
//!
//!   cargo bench --bench hot_paths

use std::hint::black_box;

use chaos::{
    fault::{Chain, FaultAction, FaultRule, RequestView, StatusFault},
    proxy::BodyFields,
    wire::{sse_split::SseSplitter, ApiFamily},
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

criterion_group!(benches, body_fields, fault_decision, sse_split);
criterion_main!(benches);
