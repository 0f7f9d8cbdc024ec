//! HTTP plumbing shared by every server and client in the harness: one serve loop with
//! graceful shutdown (on one task, or sharded over a runtime per core) and body helpers. The
//! loopback rule they keep to is [`crate::loopback`].

mod abortable;
mod accept;
mod connections;
mod faulty_stream;
pub mod http1;
mod rewind;
mod serve;
mod shards;
mod throttled;

pub use abortable::{enact, Abort, AbortableStream};
pub use accept::accept_each;
pub use connections::{host_header, tcp_connector, Busy, Connections};
pub use faulty_stream::FaultyStream;
pub use serve::{serve, spawn, spawn_per_connection, Front, ServerHandle};
pub use shards::{bind_shards, spawn_sharded, spawn_sharded_per_connection, spawn_shards, Stopped};
pub use throttled::Throttled;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

/// The error type of bodies that wrap other bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest request body the harness reads into memory (a 200k-token prompt is ~1 MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Reads a whole body, refusing bodies over [`MAX_BODY_BYTES`].
pub async fn read_body<B>(body: B) -> Result<Bytes, BoxError>
where
    B: hyper::body::Body,
    B::Error: Into<BoxError>,
{
    Ok(Limited::new(body, MAX_BODY_BYTES).collect().await?.to_bytes())
}

/// A pooled HTTP/1.1 keep-alive client with Nagle off, for any request body type.
pub fn http_client<B>(
) -> hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(tcp_connector())
}

/// A complete in-memory body.
pub fn full(bytes: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(bytes.into())
}
