//! The client side of the byte-level HTTP/1.1: a connection to an origin that sends requests
//! already written as bytes and reads the answers' heads ([`ask`]), kept while answers leave it
//! fit for another (the interposer's upstream connection, one per connection from the target;
//! the load generator's connections, one per request in flight). A request is written while the
//! answer's head is read, since an upstream may answer before reading it all.
//!
//! A kept connection is checked before a request goes on it ([`Readiness`]): from the readiness
//! the runtime caches when that is known to be current, else by asking the socket (a
//! non-blocking `MSG_PEEK`, one syscall a request).

use std::{
    io,
    task::{Context, Waker},
};

use bytes::BytesMut;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::ResponseHead;

/// How much is read from a socket at a time.
pub const READ_SIZE: usize = 16 * 1024;

/// Reads what is there into `read` (at least one byte, or 0 at the end of the stream).
pub async fn fill<S: AsyncRead + Unpin>(stream: &mut S, read: &mut BytesMut) -> io::Result<usize> {
    if read.capacity() - read.len() < READ_SIZE / 4 {
        read.reserve(READ_SIZE);
    }
    stream.read_buf(read).await
}

/// Where connections go: a host (name or address) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The origin of a plain-HTTP URI (`None` for another scheme, or no host).
    pub fn of_http(uri: &http::Uri) -> Option<Self> {
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        uri.authority().map(Origin::of_authority)
    }

    /// The origin an authority names, reached over plain HTTP (port 80 unless it says).
    pub fn of_authority(authority: &http::uri::Authority) -> Self {
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        Origin { host, port: authority.port_u16().unwrap_or(80) }
    }
}

/// A connection to an origin.
pub struct RawConnection {
    pub stream: TcpStream,
    pub read: BytesMut,
    /// Whether the last request was answered before it was all sent (so the connection cannot
    /// carry another).
    pub unfinished: bool,
}

impl RawConnection {
    /// Whether, its answer read to the end of `head`'s body, the connection can carry another
    /// request.
    pub fn reusable(&self, head: &ResponseHead) -> bool {
        head.keep_alive && !self.unfinished && self.read.is_empty()
    }
}

/// What is known, when a request is to go on a kept connection, of the readiness the runtime
/// caches for its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The runtime may not have looked at the socket's events since its last answer ended (an
    /// end that came since would not show): the socket itself is asked.
    Unseen,
    /// The runtime's reactor has looked at every socket's events since the connection's last
    /// answer ended (the caller's task has waited on it since, for another socket): an end, or
    /// any byte, that came before then shows in the cached readiness, with no syscall. One that
    /// comes after is as if it had come just after the check.
    Current,
}

impl Readiness {
    /// `Current` if the caller's task has waited on the reactor since the last answer ended.
    pub fn current_if(waited: bool) -> Self {
        match waited {
            true => Readiness::Current,
            false => Readiness::Unseen,
        }
    }
}

/// Why no answer's head came back.
enum NoAnswer {
    /// The request did not all go out: the upstream cannot have acted on it.
    NotSent,
    /// It went out and the connection ended before any byte came back.
    NothingBack,
    /// The upstream could not be reached, broke off, or sent something that is not HTTP.
    Failed,
}

impl RawConnection {
    async fn connect(origin: &Origin) -> io::Result<Self> {
        let stream = TcpStream::connect((origin.host.as_str(), origin.port)).await?;
        stream.set_nodelay(true)?;
        Ok(RawConnection { stream, read: BytesMut::with_capacity(READ_SIZE), unfinished: false })
    }

    /// Whether a kept connection still looks open and quiet: nothing has come on it since the
    /// last answer (an upstream's idle timeout shows as its end, or as a 408 before it). Asked
    /// of the runtime's cached readiness when it is `Current` and says nothing came; else (or
    /// to tell a stale readiness from bytes really there) of the socket, with a non-blocking peek.
    fn is_quiet(&self, readiness: Readiness) -> bool {
        let mut nothing_waits = Context::from_waker(Waker::noop());
        if readiness == Readiness::Current && self.stream.poll_read_ready(&mut nothing_waits).is_pending() {
            return true;
        }
        let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        matches!(socket2::SockRef::from(&self.stream).peek(&mut probe), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }

    /// Writes `request` and reads the answer's head, at once: an upstream may answer (a 413,
    /// say) before it has read the whole request, and stop reading. Answered early with a
    /// final status, the connection is not kept: the rest of the request was never sent. An
    /// informational answer (`100 Continue`, `103 Early Hints`) does not stop the writing.
    async fn ask(&mut self, request: &[u8], to_head: bool) -> Result<ResponseHead, NoAnswer> {
        let (mut reader, mut writer) = self.stream.split();
        let mut write = std::pin::pin!(writer.write_all(request));
        let mut written = false;
        loop {
            tokio::select! {
                sent = &mut write, if !written => {
                    sent.map_err(|_| NoAnswer::NotSent)?;
                    written = true;
                }
                head = read_head(&mut reader, &mut self.read, to_head) => {
                    let head = head.map_err(|no_answer| match (no_answer, written) {
                        (NoAnswer::NothingBack, false) => NoAnswer::NotSent,
                        (no_answer, _) => no_answer,
                    })?;
                    if !written && head.status.is_informational() {
                        (&mut write).await.map_err(|_| NoAnswer::Failed)?;
                        written = true;
                    }
                    self.unfinished = !written;
                    return Ok(head);
                }
            }
        }
    }

    /// Reads the next answer head (after an informational one), or `None` if none comes.
    pub async fn next_head(&mut self, to_head: bool) -> Option<ResponseHead> {
        read_head(&mut self.stream, &mut self.read, to_head).await.ok()
    }
}

/// Connections to one origin kept for the next request (the most recently kept first to go),
/// for an owner with several requests in flight at once (a load thread).
pub struct KeptConnections {
    origin: Origin,
    kept: std::sync::Mutex<Vec<RawConnection>>,
}

impl KeptConnections {
    pub fn new(origin: Origin) -> Self {
        KeptConnections { origin, kept: std::sync::Mutex::default() }
    }

    /// The same origin, none kept yet (for another owner).
    pub fn with_none_kept(&self) -> Self {
        KeptConnections::new(self.origin.clone())
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// A kept connection, if there is one ([`ask`] checks it is still quiet before use).
    pub fn take(&self) -> Option<RawConnection> {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop()
    }

    /// Keeps `connection` for a later request.
    pub fn keep(&self, connection: RawConnection) {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(connection);
    }
}

/// Reads an answer head from `stream` into `read`.
async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    read: &mut BytesMut,
    to_head: bool,
) -> Result<ResponseHead, NoAnswer> {
    loop {
        match super::response(read, to_head) {
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(_) => return Err(NoAnswer::Failed),
        }
        let was_empty = read.is_empty();
        match fill(stream, read).await {
            Ok(1..) => {}
            Ok(_) | Err(_) if was_empty => return Err(NoAnswer::NothingBack),
            Ok(_) | Err(_) => return Err(NoAnswer::Failed),
        }
    }
}

/// Sends `request` over the kept upstream connection (or a new one) and reads the answer's
/// head. A kept connection that is no longer quiet is replaced before use (checked as
/// `readiness` allows). One that turns out closed anyway is replaced once if the request did
/// not all go out, or went out but is idempotent (RFC 9112 §9.3.1.1): a POST the upstream may
/// have acted on is not sent twice.
pub async fn ask(
    origin: &Origin,
    upstream: &mut Option<RawConnection>,
    request: &[u8],
    idempotent: bool,
    to_head: bool,
    readiness: Readiness,
) -> Option<ResponseHead> {
    if upstream.as_ref().is_some_and(|link| !link.is_quiet(readiness)) {
        *upstream = None;
    }
    let mut reused = upstream.is_some();
    loop {
        let link = match upstream {
            Some(link) => link,
            None => upstream.insert(RawConnection::connect(origin).await.ok()?),
        };
        match link.ask(request, to_head).await {
            Ok(head) => return Some(head),
            Err(NoAnswer::NotSent) if reused => {}
            Err(NoAnswer::NothingBack) if reused && idempotent => {}
            Err(_) => {
                *upstream = None;
                return None;
            }
        }
        *upstream = None;
        reused = false;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::TcpListener;

    use super::*;

    /// A connection to a fresh local listener, and the listener's end of it.
    async fn connected() -> (RawConnection, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = Origin { host: "127.0.0.1".into(), port: listener.local_addr().expect("addr").port() };
        let (link, accepted) = tokio::join!(RawConnection::connect(&origin), listener.accept());
        (link.expect("connect"), accepted.expect("accept").0)
    }

    /// Lets the reactor look at the sockets' events (as waiting for the target's next request does).
    async fn reactor_turn() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn an_open_quiet_connection_is_quiet_by_either_check() {
        let (link, _peer) = connected().await;
        reactor_turn().await;
        assert!(link.is_quiet(Readiness::Current));
        assert!(link.is_quiet(Readiness::Unseen));
    }

    #[tokio::test]
    async fn a_connection_the_upstream_closed_is_not_quiet_by_either_check() {
        let (link, peer) = connected().await;
        drop(peer);
        reactor_turn().await;
        assert!(!link.is_quiet(Readiness::Current), "the end shows in the cached readiness");
        assert!(!link.is_quiet(Readiness::Unseen));
    }

    #[tokio::test]
    async fn bytes_the_upstream_sent_unasked_make_a_connection_not_quiet() {
        let (link, mut peer) = connected().await;
        peer.write_all(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n").await.expect("write");
        reactor_turn().await;
        assert!(!link.is_quiet(Readiness::Current));
        assert!(!link.is_quiet(Readiness::Unseen));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_end_the_reactor_has_not_seen_yet_is_found_by_asking_the_socket() {
        let (link, peer) = connected().await;
        reactor_turn().await;
        drop(peer);
        // No await since: the reactor has not looked, so only the socket knows (why a caller
        // that cannot say the reactor looked since the last answer asks with `Unseen`).
        std::thread::sleep(Duration::from_millis(20));
        assert!(link.is_quiet(Readiness::Current), "the cached readiness has not seen the end");
        assert!(!link.is_quiet(Readiness::Unseen));
    }
}
