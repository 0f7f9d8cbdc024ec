//! HTTP plumbing shared by every server and client in the harness: one serve loop with
//! graceful shutdown, body helpers, and the loopback rule.

mod serve;

pub use serve::serve;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

/// The largest request body the harness reads into memory (a 200k-token prompt is ~1 MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Reads a whole body, refusing bodies over [`MAX_BODY_BYTES`].
pub async fn read_body<B>(body: B) -> Result<Bytes, Box<dyn std::error::Error + Send + Sync>>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Ok(Limited::new(body, MAX_BODY_BYTES).collect().await?.to_bytes())
}

/// A complete in-memory body.
pub fn full(bytes: impl Into<Bytes>) -> Full<Bytes> {
    Full::new(bytes.into())
}
