//! The control API of `chaos run --control ADDR`: look at a run and steer it while it goes on.
//!
//! | request | does |
//! |---|---|
//! | `GET /status` | phase, elapsed time, whether halted |
//! | `GET /upstreams` | each upstream, the faults of the phase in force and its live faults |
//! | `POST /upstreams/{name}/faults[?id=NAME]` | adds a live fault (body: one fault in the scenario's YAML or JSON syntax); 201 |
//! | `DELETE /upstreams/{name}/faults/{id}` | removes it; 204 |
//! | `POST /phase/skip` | ends the phase in force now, later phases move earlier; 202 |
//! | `POST /stop` (body optional: `{"reason": "…"}`) | emergency stop: every fault removed at once, the run ends halted (exit 4); 202 |
//! | `GET /proxies`, `GET/POST /proxies/{name}/toxics`, `DELETE /proxies/{name}/toxics/{toxic}` | toxiproxy's shape ([`super::toxiproxy`]) |
//!
//! With a token set, every request must carry `Authorization: Bearer <token>` (401 otherwise).
//! Whatever the token, what a web page could send is refused first ([`super::browser_guard`]):
//! a foreign `Host` or `Origin` (403), a `POST` whose body is not said to be JSON or YAML (415).
//! Events that change the run (skip, stop) go to the runner, which acts on them in its phase loop.

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http::{Method, StatusCode};
use hyper::{body::Incoming, Request, Response};
use serde_json::{json, Value};
use tokio::{net::TcpListener, sync::mpsc};

use super::{
    browser_guard::BrowserGuard,
    http::{authorized, error, json, read_body, unauthorized, Body},
    live_faults::{LiveError, LiveFault, LiveFaults},
    state::RunState,
    toxiproxy::Toxic,
};
use crate::net::{Abort, ServerHandle};

/// The largest request body the control API reads.
const MAX_BODY: usize = 64 * 1024;
/// The longest stop reason kept.
const MAX_REASON: usize = 200;

/// What the control API asks the runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlEvent {
    /// End the phase in force now.
    SkipPhase,
    /// Emergency stop, with who asked and why.
    Stop { by: String },
}

/// Everything the control API works on.
#[derive(Debug)]
pub struct Control {
    pub state: Arc<RunState>,
    pub live: Arc<LiveFaults>,
    /// The interposers' addresses, in the plan's order (toxiproxy's `listen`).
    pub interposers: Vec<SocketAddr>,
    pub events: mpsc::UnboundedSender<ControlEvent>,
    pub token: Option<String>,
}

/// Serves the control API on `listener` until the handle is shut down.
pub fn spawn(listener: TcpListener, control: Control) -> std::io::Result<ServerHandle> {
    let control = Arc::new(control);
    let guard = BrowserGuard::new(listener.local_addr()?);
    crate::net::spawn(listener, crate::net::ConnectionLimits::default(), move |request: Request<Incoming>| {
        let control = Arc::clone(&control);
        async move { Ok::<_, Abort>(control.answer(guard, request).await) }
    })
}

impl Control {
    async fn answer(&self, guard: BrowserGuard, request: Request<Incoming>) -> Response<Body> {
        if let Some(refused) = guard.refusal(request.method(), request.headers()) {
            return refused;
        }
        if !authorized(request.headers(), self.token.as_deref()) {
            return unauthorized();
        }
        let (parts, body) = request.into_parts();
        let body = match read_body(body, MAX_BODY).await {
            Ok(body) => body,
            Err(too_large) => return too_large,
        };
        let segments: Vec<&str> = parts.uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let query_id = query_value(parts.uri.query(), "id");
        match (&parts.method, segments.as_slice()) {
            (&Method::GET, ["status"]) => json(StatusCode::OK, &self.status()),
            (&Method::GET, ["upstreams"]) => json(StatusCode::OK, &self.upstreams()),
            (&Method::POST, ["upstreams", name, "faults"]) => self.add_native(name, query_id, &body),
            (&Method::DELETE, ["upstreams", name, "faults", id]) => self.remove(name, id, false),
            (&Method::POST, ["phase", "skip"]) => self.skip(),
            (&Method::POST, ["stop"]) => self.stop(&body),
            (&Method::GET, ["proxies"]) => json(StatusCode::OK, &self.proxies()),
            (&Method::GET, ["proxies", name]) => match self.proxy(name) {
                Ok(proxy) => json(StatusCode::OK, &proxy),
                Err(refused) => live_error(&refused),
            },
            (&Method::GET, ["proxies", name, "toxics"]) => match self.live.list(name) {
                Ok(faults) => json(StatusCode::OK, &toxics(&faults)),
                Err(refused) => live_error(&refused),
            },
            (&Method::POST, ["proxies", name, "toxics"]) => self.add_toxic(name, &body),
            (&Method::DELETE, ["proxies", name, "toxics", id]) => self.remove(name, id, true),
            (_, ["status" | "upstreams" | "proxies" | "stop" | "phase", ..]) => error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not allowed on {}", parts.method, parts.uri.path()),
            ),
            _ => error(StatusCode::NOT_FOUND, format!("no such endpoint: {}", parts.uri.path())),
        }
    }

    fn status(&self) -> Value {
        let plan = self.state.plan();
        let elapsed = self.state.clock.elapsed();
        let phase = plan.phase_at(elapsed);
        json!({
            "scenario": plan.name,
            "phase": plan.phases.get(phase).map(|p| p.name.as_str()),
            "phase_index": phase,
            "phase_remaining_s": plan.phases.get(phase).map(|p| p.end().saturating_sub(elapsed).as_secs_f64()),
            "elapsed_s": elapsed.as_secs_f64(),
            "halted": self.state.halted(),
        })
    }

    fn upstreams(&self) -> Value {
        let plan = self.state.plan();
        let phase = self.state.phase();
        let upstreams: Vec<Value> = plan
            .upstreams
            .iter()
            .enumerate()
            .map(|(index, upstream)| {
                let phase_faults: Vec<String> = plan.phases.get(phase).map_or(Vec::new(), |p| {
                    p.faults
                        .get(index)
                        .map_or(Vec::new(), |rules| rules.iter().map(|r| r.action.label()).collect())
                });
                let live = self.live.list(&upstream.name).unwrap_or_default();
                json!({
                    "name": upstream.name,
                    "family": upstream.family.to_string(),
                    "listen": self.interposers.get(index).map(ToString::to_string),
                    "phase": plan.phases.get(phase).map(|p| p.name.as_str()),
                    "phase_faults": phase_faults,
                    "live_faults": live.iter().map(native).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "upstreams": upstreams })
    }

    fn add_native(&self, name: &str, id: Option<String>, body: &Bytes) -> Response<Body> {
        let Ok(text) = std::str::from_utf8(body) else {
            return error(StatusCode::BAD_REQUEST, "the body must be one fault in UTF-8 YAML or JSON");
        };
        match self.add(name, id, text, Value::String(text.trim().to_owned()), false) {
            Ok(fault) => json(StatusCode::CREATED, &native(&fault)),
            Err(response) => *response,
        }
    }

    fn add_toxic(&self, name: &str, body: &Bytes) -> Response<Body> {
        let toxic: Toxic = match serde_json::from_slice(body) {
            Ok(toxic) => toxic,
            Err(refused) => return error(StatusCode::BAD_REQUEST, format!("not a toxic: {refused}")),
        };
        let text = match toxic.fault_text() {
            Ok(text) => text,
            Err(refused) => return error(StatusCode::BAD_REQUEST, refused),
        };
        match self.add(name, Some(toxic.name()), &text, toxic.shown(), true) {
            Ok(fault) => json(StatusCode::OK, &fault.shown),
            Err(response) => *response,
        }
    }

    fn add(
        &self,
        name: &str,
        id: Option<String>,
        text: &str,
        shown: Value,
        toxic: bool,
    ) -> Result<LiveFault, Box<Response<Body>>> {
        let family = self.live.family(name).map_err(|refused| Box::new(live_error(&refused)))?;
        let rule = crate::scenario::parse_fault(text, family)
            .map_err(|e| Box::new(error(StatusCode::BAD_REQUEST, e)))?;
        let fault =
            self.live.add(name, id, rule, shown, toxic).map_err(|refused| Box::new(live_error(&refused)))?;
        tracing::warn!(upstream = name, fault = %fault.id, action = %fault.label, "live fault added");
        Ok(fault)
    }

    fn remove(&self, name: &str, id: &str, toxic: bool) -> Response<Body> {
        match self.live.remove(name, id) {
            Ok(fault) => {
                tracing::warn!(upstream = name, fault = %fault.id, toxic, "live fault removed");
                let mut response = Response::new(http_body_util::Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Err(refused) => live_error(&refused),
        }
    }

    fn skip(&self) -> Response<Body> {
        let plan = self.state.plan();
        let phase = self.state.phase();
        if self.state.halted() {
            return error(StatusCode::CONFLICT, "the run has stopped");
        }
        let Some(next) = plan.phases.get(phase + 1) else {
            return error(
                StatusCode::CONFLICT,
                "the last phase is in force: there is no next phase (POST /stop ends the run)",
            );
        };
        let _ = self.events.send(ControlEvent::SkipPhase);
        json(StatusCode::ACCEPTED, &json!({ "skipping": plan.phases[phase].name, "next": next.name }))
    }

    fn stop(&self, body: &Bytes) -> Response<Body> {
        let reason = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_owned))
            .map(|reason| reason.chars().filter(|c| !c.is_control()).take(MAX_REASON).collect::<String>());
        let by = match reason {
            Some(reason) if !reason.is_empty() => format!("control API: {reason}"),
            _ => "control API".to_owned(),
        };
        let _ = self.events.send(ControlEvent::Stop { by: by.clone() });
        json(StatusCode::ACCEPTED, &json!({ "stopping": true, "by": by }))
    }

    fn proxies(&self) -> Value {
        let proxies = self
            .live
            .upstreams()
            .into_iter()
            .filter_map(|(name, _)| Some((name.clone(), self.proxy(&name).ok()?)))
            .collect::<serde_json::Map<_, _>>();
        Value::Object(proxies)
    }

    fn proxy(&self, name: &str) -> Result<Value, LiveError> {
        let faults = self.live.list(name)?;
        let index = self.live.upstreams().iter().position(|(n, _)| n == name).unwrap_or(0);
        let plan = self.state.plan();
        Ok(json!({
            "name": name,
            "listen": self.interposers.get(index).map(ToString::to_string),
            "upstream": plan.upstreams.get(index).map(|u| format!("mock:{}", u.family)),
            "enabled": true,
            "toxics": toxics(&faults),
        }))
    }
}

/// A live fault as the native API shows it.
fn native(fault: &LiveFault) -> Value {
    json!({ "id": fault.id, "action": fault.label, "fault": fault.shown, "toxic": fault.toxic })
}

/// The live faults that came as toxics, as toxiproxy shows them.
fn toxics(faults: &[LiveFault]) -> Value {
    Value::Array(faults.iter().filter(|f| f.toxic).map(|f| f.shown.clone()).collect())
}

fn live_error(refused: &LiveError) -> Response<Body> {
    let status = match refused {
        LiveError::NoSuchUpstream(_) | LiveError::NoSuchFault(_) => StatusCode::NOT_FOUND,
        LiveError::Exists(_) | LiveError::Closed(_) => StatusCode::CONFLICT,
    };
    error(status, refused)
}

/// The value of `key` in a query string (no percent-decoding: ids are plain names).
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
}
