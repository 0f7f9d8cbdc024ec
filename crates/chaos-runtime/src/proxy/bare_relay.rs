//! The floor under the interposer's added latency (`chaos proxy --bare-relay`): each
//! connection's bytes copied both ways to a connection of its own to the upstream — no HTTP,
//! no faults, no records — on the same shards as the interposer (a current-thread runtime per
//! CPU). `chaos bench` holds the same load on the interposer and on this relay in one run:
//! what any user-space hop costs on this machine is the relay's added latency, and what the
//! interposer's own work costs is the difference.

use std::{
    io,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use tokio::net::TcpStream;

use crate::net::ServerHandle;

/// Whether this process has said that the upstream could not be reached (once is enough: a
/// relay that cannot reach it closes every connection).
static SAID_UNREACHABLE: AtomicBool = AtomicBool::new(false);

/// Relays every connection accepted on `addr` to `upstream` (its addresses tried in turn), on
/// `threads` shards.
pub fn serve(addr: SocketAddr, upstream: Vec<SocketAddr>, threads: usize) -> io::Result<ServerHandle> {
    let upstream: Arc<[SocketAddr]> = upstream.into();
    crate::net::spawn_shards(crate::net::bind_shards(addr, threads)?, Default::default(), |_| {
        let upstream = Arc::clone(&upstream);
        move |listener, _gate, stopped, _refuse| {
            crate::net::accept_each(listener, stopped, move |client| relay(client, Arc::clone(&upstream)))
        }
    })
}

/// Copies `client`'s bytes to a new connection to `upstream` and back until either side
/// closes. An upstream that cannot be reached closes the client's connection.
async fn relay(mut client: TcpStream, upstream: Arc<[SocketAddr]>) {
    let mut server = match TcpStream::connect(&*upstream).await {
        Ok(server) => server,
        Err(error) => {
            if !SAID_UNREACHABLE.swap(true, Ordering::Relaxed) {
                tracing::warn!(%error, upstream = ?upstream, "bare relay: the upstream cannot be reached; closing connections");
            }
            return;
        }
    };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_go_through_unchanged_both_ways_and_an_unreachable_upstream_closes() {
        // An upstream that answers each read with the same bytes reversed.
        let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = upstream.accept().await.unwrap();
            let mut buffer = vec![0; 64];
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                buffer[..n].reverse();
                stream.write_all(&buffer[..n]).await.unwrap();
            }
        });
        let relay = serve("127.0.0.1:0".parse().unwrap(), vec![upstream_addr], 1).expect("listening");
        let mut client = TcpStream::connect(relay.addr).await.unwrap();
        for sent in [&b"POST / HTTP/1.1\r\n"[..], b"\x00\xffbinary"] {
            client.write_all(sent).await.unwrap();
            let mut answer = vec![0; sent.len()];
            client.read_exact(&mut answer).await.unwrap();
            answer.reverse();
            assert_eq!(answer, sent);
        }
        relay.shutdown().await;

        // Nothing listens on the upstream's port once this listener is gone.
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let relay = serve("127.0.0.1:0".parse().unwrap(), vec![gone], 1).expect("listening");
        let mut client = TcpStream::connect(relay.addr).await.unwrap();
        let mut byte = [0; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), client.read(&mut byte)).await;
        assert_eq!(read.expect("closed, not held open").unwrap_or(0), 0, "closed without an answer");
        relay.shutdown().await;
    }
}
