//! A webhook receiver for tests: an HTTP server on 127.0.0.1 that records every request and checks
//! its signature with the `standardwebhooks` crate (the specification's own Rust library, not the
//! code that signs), answering 204, or a failure status while told to fail.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    pub timestamp: i64,
    /// Whether `webhook-signature` verified under the endpoint's secret.
    pub signature_valid: bool,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    received: Vec<Received>,
    /// The status to answer with, instead of 204, for the next `failures` requests.
    failures: usize,
    failing_status: u16,
}

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner { failing_status: 503, ..Inner::default() }));
        let app = Router::new().route("/hooks", post(receive)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("binding the receiver");
        let url = format!("http://{}/hooks", listener.local_addr().expect("receiver address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    /// The endpoint's secret, to verify signatures with (as a receiver keeps it when it is shown).
    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = Some(secret.to_owned());
    }

    /// Answers the next `count` requests with `status`.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut inner = self.inner.lock().unwrap();
        inner.failures = count;
        inner.failing_status = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The bodies received of event type `kind`.
    pub fn of_type(&self, kind: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.body["type"] == kind).collect()
    }
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    let signature_valid = inner.secret.as_deref().is_some_and(|secret| {
        standardwebhooks::Webhook::new(secret).is_ok_and(|hook| hook.verify(&body, &headers).is_ok())
    });
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    inner.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature_valid,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if inner.failures > 0 {
        inner.failures -= 1;
        return StatusCode::from_u16(inner.failing_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    }
    StatusCode::NO_CONTENT
}
