//! HTTP plumbing shared by every server and client in the harness: one serve loop with
//! graceful shutdown (on one task, or sharded over a runtime per core), the limits it keeps on
//! its clients (header and idle timeouts, a cap on open connections: [`ConnectionLimits`]) and
//! body helpers. The loopback rule they keep to is [`crate::loopback`].

mod abortable;
mod accept;
mod accept_backoff;
mod connections;
mod faulty_stream;
pub mod http1;
mod in_flight;
mod limits;
mod rewind;
mod serve;
mod shards;
mod shed;
mod throttled;
mod watchdog;

pub use abortable::{enact, Abort, AbortableStream};
pub use accept::accept_each;
pub use accept_backoff::LOG_EVERY as ACCEPT_FAILURE_LOG_EVERY;
pub use connections::{host_header, tcp_connector, Busy, Connections};
pub use faulty_stream::FaultyStream;
pub use limits::{
    default_max_connections, descriptor_limit, ConnectionCounts, ConnectionGate, ConnectionLimits,
    DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
};
pub use serve::{serve, spawn, spawn_per_connection, Front, ServerHandle};
pub use shards::{bind_shards, spawn_sharded, spawn_sharded_per_connection, spawn_shards, Stopped};
pub use throttled::Throttled;
pub use watchdog::{InFlight, Watchdog};

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

/// Whether reading a request's body failed because its framing was broken (a malformed chunk
/// size, say: the client's fault, answered with a 400) rather than because the client went (a
/// body cut short, answered to no one). hyper says which by the kind of the I/O error under its
/// own: invalid data or input for the first, an unexpected end for the second.
pub fn is_broken_framing(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source())
        .filter_map(|error| error.downcast_ref::<std::io::Error>())
        .any(|error| {
            matches!(error.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput)
        })
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
