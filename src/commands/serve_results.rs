//! `chaos run --role upstreams --keep-serving`: once a split run's results are written, its
//! files are served on the desk's address until SIGTERM or Ctrl-C, so that a pod that wrote
//! them stays up (a Deployment does not restart it into a second run) and they can be fetched
//! through the Service (`kubectl port-forward`, then `curl`), from an image with no shell.
//!
//! `GET /split/results/{results.json,report.html,junit.xml,summary.md}`, with the control
//! token when one is set; nothing else in the folder is reachable.

use std::{net::SocketAddr, path::PathBuf};

use http::{Method, StatusCode};
use hyper::{body::Incoming, Request, Response};

use crate::{
    net::Abort,
    ops::http::{authorized, error, respond, unauthorized, Body},
};

/// The files served, with their content types.
const FILES: [(&str, &str); 4] = [
    ("results.json", "application/json"),
    ("report.html", "text/html; charset=utf-8"),
    ("junit.xml", "application/xml"),
    ("summary.md", "text/markdown; charset=utf-8"),
];

/// Serves the run's `folder` on `addr` until `stop` resolves.
pub async fn serve_results(
    addr: SocketAddr,
    folder: PathBuf,
    token: Option<String>,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let server = crate::net::spawn(listener, crate::net::ConnectionLimits::default(), move |request| {
        let answer = answer(&folder, token.as_deref(), &request);
        async move { Ok::<_, Abort>(answer) }
    })?;
    println!("serving the results at http://{}/split/results/report.html until stopped", server.addr);
    stop.await;
    server.shutdown().await;
    Ok(())
}

fn answer(folder: &std::path::Path, token: Option<&str>, request: &Request<Incoming>) -> Response<Body> {
    if !authorized(request.headers(), token) {
        return unauthorized();
    }
    let path = request.uri().path();
    let file =
        path.strip_prefix("/split/results/").and_then(|name| FILES.iter().find(|(file, _)| *file == name));
    match (request.method(), file) {
        (&Method::GET, Some((name, content_type))) => match std::fs::read(folder.join(name)) {
            Ok(bytes) => respond(StatusCode::OK, content_type, bytes),
            Err(problem) => error(StatusCode::NOT_FOUND, format!("{name}: {problem}")),
        },
        (_, Some(_)) => error(StatusCode::METHOD_NOT_ALLOWED, "only GET"),
        (_, None) => error(StatusCode::NOT_FOUND, format!("no such file: {path}")),
    }
}
