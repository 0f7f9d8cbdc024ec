//! The floor under a mock's stream timing (`chaos mock --openai ADDR --bare-streams`): the
//! OpenAI mock's own streamed chat completions, paced by the same timer and accounted the same
//! way ([`EventClock`]), but written straight to the socket — the request read with `httparse`,
//! a fixed head, each event one chunk in one write — with no HTTP stack, keys, limits or
//! faults. `chaos bench` holds the same streams on it and on the mock in one run: what the
//! mock's own machinery costs in timing is the difference, and what is left is the machine's.

use std::{
    io::{self, Write as _},
    net::SocketAddr,
    sync::Arc,
};

use http::HeaderMap;
use rand::{rngs::StdRng, SeedableRng};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::Instant,
};

use super::{
    dialect::Dialect,
    generation::Generation,
    openai::OpenAi,
    paced::{EventClock, Lateness},
    TIMING_PATH,
};
use crate::{
    net::ServerHandle,
    scenario::mock_answer::{LatencyModel, OutputLength},
};

/// Header lines a request may have.
const MAX_HEADERS: usize = 64;
/// The largest request read.
const MAX_REQUEST: usize = 1 << 20;

const STREAM_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n";
const BAD_REQUEST: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";

/// What every connection of one bare server shares.
struct Shared {
    latency: LatencyModel,
    lateness: Lateness,
}

/// Serves bare streams on `addr`, on `threads` shards like the mock's.
pub fn serve(addr: SocketAddr, latency: LatencyModel, threads: usize) -> io::Result<ServerHandle> {
    let shared = Arc::new(Shared { latency, lateness: Lateness::default() });
    crate::net::spawn_shards(crate::net::bind_shards(addr, threads)?, Default::default(), |_| {
        let shared = Arc::clone(&shared);
        move |listener, _gate, stopped, _refuse| {
            crate::net::accept_each(listener, stopped, move |stream| connection(stream, Arc::clone(&shared)))
        }
    })
}

/// One request read off a connection.
struct BareRequest {
    path: String,
    body: Vec<u8>,
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buffer = Vec::with_capacity(4096);
    while let Ok(Some(request)) = read_request(&mut stream, &mut buffer).await {
        let answered = if request.path == TIMING_PATH {
            write_json(&mut stream, &shared.lateness.to_json()).await
        } else {
            write_stream(&mut stream, &shared, &request).await
        };
        if answered.is_err() {
            return;
        }
    }
}

/// The next request (its body sized by `content-length`), or `None` at the connection's end.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<Option<BareRequest>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head) = request.parse(buffer).map_err(io::Error::other)? {
            let length = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= head + length {
                let path = request.path.unwrap_or("/").to_owned();
                let body = buffer[head..head + length].to_vec();
                buffer.drain(..head + length);
                return Ok(Some(BareRequest { path, body }));
            }
        }
        if buffer.len() > MAX_REQUEST {
            return Err(io::Error::other("request too large"));
        }
        if stream.read_buf(buffer).await? == 0 {
            return Ok(None);
        }
    }
}

/// The OpenAI mock's stream for `request`, each event written when due.
async fn write_stream(stream: &mut TcpStream, shared: &Shared, request: &BareRequest) -> io::Result<()> {
    let Ok(ask) = OpenAi.parse(&request.path, &HeaderMap::new(), &request.body) else {
        return stream.write_all(BAD_REQUEST).await;
    };
    let generation = Generation::new(ask, shared.latency, OutputLength::UpToLimit, StdRng::seed_from_u64(0));
    let mut script = OpenAi.stream(generation);
    stream.write_all(STREAM_HEAD).await?;
    let start = Instant::now();
    let mut clock = EventClock::new(shared.lateness.clone());
    let mut chunk = Vec::with_capacity(1024);
    while let Some((offset, event)) = script.next_event() {
        let due = start + offset;
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        clock.written(due);
        chunk.clear();
        // Into the reused buffer: no allocation per event on the floor's hot path.
        let _ = write!(chunk, "{:x}\r\n", event.len());
        chunk.extend_from_slice(&event);
        chunk.extend_from_slice(b"\r\n");
        stream.write_all(&chunk).await?;
    }
    stream.write_all(b"0\r\n\r\n").await
}

async fn write_json(stream: &mut TcpStream, value: &serde_json::Value) -> io::Result<()> {
    let body = value.to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::*;

    type Client =
        hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

    async fn post(client: &Client, url: String, body: &'static str) -> (u16, String) {
        let request = http::Request::post(url).body(Full::new(Bytes::from_static(body.as_bytes()))).unwrap();
        let response = client.request(request).await.expect("an answer");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.expect("a whole body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_bare_stream_is_the_mock_s_stream_read_whole_and_accounted() {
        let latency = LatencyModel { tokens_per_second: 1000.0, ..LatencyModel::default() };
        let server = serve("127.0.0.1:0".parse().unwrap(), latency, 1).expect("listening");
        let client = crate::net::http_client::<Full<Bytes>>();
        let url = format!("http://{}/v1/chat/completions", server.addr);
        let ask = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":5}"#;
        for _ in 0..2 {
            let (status, body) = post(&client, url.clone(), ask).await;
            assert_eq!(status, 200);
            let contents = body.matches(r#""content":""#).count() - body.matches(r#""content":"""#).count();
            assert_eq!(contents, 5, "five tokens: {body}");
            assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
        }
        let (status, _) = post(&client, url, "{").await;
        assert_eq!(status, 400, "a body that is not JSON");
        let request = http::Request::get(format!("http://{}{TIMING_PATH}", server.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let timing = client.request(request).await.unwrap().into_body().collect().await.unwrap().to_bytes();
        let timing: serde_json::Value = serde_json::from_slice(&timing).unwrap();
        assert_eq!(timing["events"], 2 * 8, "role, five tokens, finish, [DONE] twice: {timing}");
        assert_eq!(timing["gap_error"]["gaps"], 2 * 7, "{timing}");
        server.shutdown().await;
    }
}
