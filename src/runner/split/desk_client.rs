//! A load shard's side of the desk: one JSON `POST` at a time to the upstreams role, over a
//! connection of its own (plain HTTP/1.1; the desk is inside the cluster's network).

use anyhow::Context;
use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// The longest one request to the desk may take (a shard's records can be large).
pub const POST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Where the desk is and how to be let in.
#[derive(Debug, Clone)]
pub struct DeskClient {
    /// `host:port` to connect to, and the `Host` header.
    authority: String,
    token: Option<String>,
}

impl DeskClient {
    /// The desk at `base` (`http://host:port`), presenting `token` if there is one. A base
    /// beyond loopback needs `allow_remote`.
    pub async fn new(base: &str, token: Option<String>, allow_remote: bool) -> anyhow::Result<Self> {
        let uri: Uri = base.parse().with_context(|| format!("--coordinator `{base}` is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            anyhow::bail!("--coordinator `{base}`: only http:// is spoken to the upstreams role");
        }
        let authority = uri.authority().map(|a| a.to_string()).context("--coordinator needs host:port")?;
        let authority = if uri.port().is_some() { authority } else { format!("{authority}:80") };
        if !allow_remote {
            let addrs = tokio::net::lookup_host(&authority)
                .await
                .with_context(|| format!("--coordinator: cannot resolve `{authority}`"))?;
            if let Some(remote) = addrs.into_iter().find(|addr| !crate::loopback::is_loopback(addr)) {
                anyhow::bail!("--coordinator {remote} is not a loopback address; it is reached only with --allow-remote");
            }
        }
        Ok(DeskClient { authority, token })
    }

    /// Posts `body` as JSON to `path`; the answer's status and body, within [`POST_TIMEOUT`].
    pub async fn post(&self, path: &str, body: Bytes) -> anyhow::Result<(StatusCode, Bytes)> {
        tokio::time::timeout(POST_TIMEOUT, self.post_now(path, body)).await.map_err(|_| {
            anyhow::anyhow!(
                "the upstreams role at {} did not answer within {}s",
                self.authority,
                POST_TIMEOUT.as_secs()
            )
        })?
    }

    async fn post_now(&self, path: &str, body: Bytes) -> anyhow::Result<(StatusCode, Bytes)> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .with_context(|| format!("connecting to the upstreams role at {}", self.authority))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let mut request = Request::post(path)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = sender.send_request(request.body(Full::new(body))?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
