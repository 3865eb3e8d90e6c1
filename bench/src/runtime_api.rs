//! A small local fake of the Lambda Runtime API, enough for one cold start: the first
//! `GET /2018-06-01/runtime/invocation/next` receives the invocation, later polls wait until the
//! fake is stopped; `POST …/invocation/{id}/response`, `…/invocation/{id}/error` and
//! `…/runtime/init/error` are recorded with the moment they arrived.
//!
//! The headers are those `lambda_runtime` reads: `Lambda-Runtime-Aws-Request-Id` and
//! `Lambda-Runtime-Deadline-Ms` (both required), `Lambda-Runtime-Invoked-Function-Arn` and
//! `Lambda-Runtime-Trace-Id`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, watch};

/// What the function did, and when the fake saw it.
#[derive(Debug)]
pub enum Seen {
    Polled(Instant),
    Responded(Instant, Bytes),
    InvocationError(Bytes),
    InitError(Bytes),
}

struct Shared {
    pending: Mutex<Option<Bytes>>,
    request_id: String,
    function_arn: String,
    seen: mpsc::UnboundedSender<Seen>,
    stop: watch::Receiver<bool>,
}

pub struct FakeRuntimeApi {
    pub address: SocketAddr,
    pub seen: mpsc::UnboundedReceiver<Seen>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeRuntimeApi {
    /// Serves on a free loopback port, holding one invocation with `payload`.
    pub async fn start(function: &str, payload: Bytes) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Some(payload)),
            request_id: ulid::Ulid::new().to_string().to_lowercase(),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
            seen: seen_tx,
            stop: stop_rx.clone(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let mut shutdown = stop_rx;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await;
        });
        Ok(FakeRuntimeApi { address, seen, stop, server })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self) -> String {
        self.address.to_string()
    }

    /// Releases waiting polls and stops serving (at most 2 s).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(2), &mut server).await.is_err() {
            server.abort();
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let _ = shared.seen.send(Seen::Polled(Instant::now()));
    let payload = shared.pending.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(payload) = payload else {
        // Nothing more to invoke: hold the poll, as Lambda does, until the fake stops.
        let mut stop = shared.stop.clone();
        let _ = stop.wait_for(|stop| *stop).await;
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
    let mut response = (StatusCode::OK, payload).into_response();
    let headers = response.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).expect("header value");
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("lambda-runtime-aws-request-id", value(&shared.request_id));
    headers.insert("lambda-runtime-deadline-ms", value(&deadline.as_millis().to_string()));
    headers.insert("lambda-runtime-invoked-function-arn", value(&shared.function_arn));
    headers.insert(
        "lambda-runtime-trace-id",
        value(&format!(
            "Root=1-{:08x}-{}",
            deadline.as_secs(),
            &shared.request_id[..24.min(shared.request_id.len())]
        )),
    );
    response
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json")], r#"{"status":"OK"}"#).into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let at = Instant::now();
    if id != shared.request_id {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let _ = shared.seen.send(Seen::Responded(at, body));
    accepted()
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> Response {
    let _ = shared.seen.send(Seen::InvocationError(body));
    accepted()
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let _ = shared.seen.send(Seen::InitError(body));
    accepted()
}
