//! How many requests the local server works on at once.
//!
//! On AWS, each function instance works on one request at a time, and Lambda adds instances as
//! requests come; each DynamoDB call takes milliseconds. Locally, one process serves every
//! function against DynamoDB Local, which serves a few hundred calls a second on a small machine.
//! Taking every request as it arrives then only shares those calls among more requests: each
//! round trip waits behind every other request's, so a request that needs several (one whose
//! planned seat went to someone else first, say) waits several times as long as one that needs
//! one, and the slowest answers grow with the number of requests in flight. Working on a few at
//! a time, in order of arrival, serves the same number a second with a bounded wait for each.
//!
//! Measured with the rush benchmark (5,000 registrations for 1,000 seats, 200 in flight, 2
//! cores, DynamoDB's conflicts modelled): every request at once, the slowest answer 6.9 s; 32 at
//! a time, 2.7 s, at the same throughput within noise (see `bench/RESULTS.md`).
//!
//! The wait for a turn is part of the request's deadline ([`shared::store::deadline`]): a request
//! that cannot start in time is answered 503 with `Retry-After`, as a storage too busy to answer.
//! A request keeps its turn until its body is sent: a streamed body (the attendee export) still
//! reads DynamoDB after its status line.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::http::ApiError;
use shared::store::deadline;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many requests a server works on at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Every request as it arrives. The API tests serve this way: it is the harshest schedule
    /// for what the tests prove about concurrency, every request racing every other.
    Unbounded,
    /// At most this many at once; the others wait their turn, first come first served.
    AtMost(usize),
}

/// The local server's admission: enough requests at work to keep DynamoDB Local busy on two
/// cores, few enough that none waits behind hundreds of others for each round trip. 16 and 32
/// served the rush alike (130 to 144 created/s, slowest answer 2.2 to 3.3 s); 32 leaves turns
/// for slower requests (a password hash, an export) beside a rush.
pub const LOCAL_SERVER: Admission = Admission::AtMost(32);

/// `routes`, admitted as `admission` says. Apply before the deadline layer (inside it), so the
/// wait for a turn counts against the request's deadline.
pub fn admitting<S: Clone + Send + Sync + 'static>(routes: Router<S>, admission: Admission) -> Router<S> {
    let Admission::AtMost(at_once) = admission else { return routes };
    // Tokio's semaphore is fair: permits go to waiters in the order they asked.
    let turns = Arc::new(Semaphore::new(at_once.max(1)));
    routes.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        let turns = turns.clone();
        async move { in_turn(turns, request, next).await }
    }))
}

/// Runs `request` once a turn is free, or answers 503 if the deadline passes first. The turn is
/// given back once the response's body is sent (or dropped).
async fn in_turn(turns: Arc<Semaphore>, request: Request, next: Next) -> Response {
    match deadline::bounded("waiting for a turn", turns.acquire_owned()).await {
        Ok(Ok(turn)) => next.run(request).await.map(|body| Body::new(HoldingTurn { body, _turn: turn })),
        // The semaphore is never closed; answer as unavailable rather than panic if it were.
        Ok(Err(_closed)) => ApiError::Unavailable.into_response(),
        Err(too_late) => ApiError::from(too_late).into_response(),
    }
}

/// A response body that holds its request's turn until it is sent or dropped. Its size is the
/// body's, so a response keeps its `Content-Length`.
struct HoldingTurn {
    body: Body,
    _turn: OwnedSemaphorePermit,
}

impl HttpBody for HoldingTurn {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// What the handlers saw: how many worked at once, at most, and in which order they began.
    struct Seen {
        working: AtomicUsize,
        most: AtomicUsize,
        began: Mutex<Vec<String>>,
        /// Handlers wait for a permit here before finishing, so a test decides when they do.
        finish: Semaphore,
    }

    impl Seen {
        fn new() -> Arc<Seen> {
            Arc::new(Seen {
                working: AtomicUsize::new(0),
                most: AtomicUsize::new(0),
                began: Mutex::new(Vec::new()),
                finish: Semaphore::new(0),
            })
        }
    }

    fn app(seen: Arc<Seen>, admission: Admission, budget: Duration) -> Router {
        app_with(seen, admission, budget, Router::new())
    }

    /// [`app`] with `more` routes, admitted alike.
    fn app_with(seen: Arc<Seen>, admission: Admission, budget: Duration, more: Router) -> Router {
        let handler = move |request: Request| {
            let seen = seen.clone();
            async move {
                let now = seen.working.fetch_add(1, Ordering::SeqCst) + 1;
                seen.most.fetch_max(now, Ordering::SeqCst);
                let name = request.headers().get("x-name").and_then(|v| v.to_str().ok()).unwrap_or("");
                seen.began.lock().unwrap().push(name.to_owned());
                seen.finish.acquire().await.unwrap().forget();
                seen.working.fetch_sub(1, Ordering::SeqCst);
                "done"
            }
        };
        admitting(Router::new().route("/", get(handler)).merge(more), admission).layer(
            axum::middleware::from_fn(move |request: Request, next: Next| {
                deadline::within(budget, next.run(request))
            }),
        )
    }

    fn call(app: &Router, name: &str) -> tokio::task::JoinHandle<Response> {
        let request = Request::builder().uri("/").header("x-name", name).body(Body::empty()).unwrap();
        let app = app.clone();
        tokio::spawn(async move { app.oneshot(request).await.unwrap() })
    }

    /// Lets every spawned task run until it waits (the tests run on one thread).
    async fn settle() {
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn works_on_at_most_so_many_at_once_and_answers_every_one() {
        let seen = Seen::new();
        let app = app(seen.clone(), Admission::AtMost(2), Duration::from_secs(60));
        let calls: Vec<_> = (0..5).map(|i| call(&app, &i.to_string())).collect();
        settle().await;
        assert_eq!(seen.working.load(Ordering::SeqCst), 2, "two at work, three waiting");
        seen.finish.add_permits(5);
        for call in calls {
            assert_eq!(call.await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(seen.most.load(Ordering::SeqCst), 2);
        assert_eq!(seen.began.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn unbounded_takes_every_request_at_once() {
        let seen = Seen::new();
        let app = app(seen.clone(), Admission::Unbounded, Duration::from_secs(60));
        let calls: Vec<_> = (0..5).map(|i| call(&app, &i.to_string())).collect();
        settle().await;
        assert_eq!(seen.working.load(Ordering::SeqCst), 5);
        seen.finish.add_permits(5);
        for call in calls {
            assert_eq!(call.await.unwrap().status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn waiting_requests_get_their_turn_in_order_of_arrival() {
        let seen = Seen::new();
        let app = app(seen.clone(), Admission::AtMost(1), Duration::from_secs(60));
        let mut calls = Vec::new();
        for name in ["first", "second", "third", "fourth"] {
            calls.push(call(&app, name));
            settle().await;
        }
        seen.finish.add_permits(4);
        for call in calls {
            assert_eq!(call.await.unwrap().status(), StatusCode::OK);
        }
        assert_eq!(*seen.began.lock().unwrap(), ["first", "second", "third", "fourth"]);
        assert_eq!(seen.most.load(Ordering::SeqCst), 1, "one at a time");
    }

    #[tokio::test]
    async fn a_streamed_body_keeps_its_turn_until_it_is_sent() {
        use http_body_util::BodyExt;

        let seen = Seen::new();
        let streaming = {
            let seen = seen.clone();
            move || async move {
                let rest = futures::stream::once(async move {
                    seen.finish.acquire().await.unwrap().forget();
                    Ok::<_, std::convert::Infallible>(Bytes::from_static(b"the rest"))
                });
                Body::from_stream(rest)
            }
        };
        let streams = Router::new().route("/stream", get(streaming));
        let app = app_with(seen.clone(), Admission::AtMost(1), Duration::from_secs(60), streams);
        let request = Request::builder().uri("/stream").body(Body::empty()).unwrap();
        let streamed = app.clone().oneshot(request).await.unwrap();
        assert_eq!(streamed.status(), StatusCode::OK, "the status line is out, the body is not");
        let waiting = call(&app, "waiting");
        settle().await;
        assert!(seen.began.lock().unwrap().is_empty(), "the next request waits for the body");
        seen.finish.add_permits(2);
        let body = streamed.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"the rest");
        assert_eq!(waiting.await.unwrap().status(), StatusCode::OK);
        assert_eq!(*seen.began.lock().unwrap(), ["waiting"]);
    }

    #[tokio::test]
    async fn a_response_keeps_its_length() {
        let app = admitting(Router::new().route("/", get(|| async { "twelve bytes" })), Admission::AtMost(1));
        let response = app.oneshot(Request::builder().uri("/").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(axum::body::HttpBody::size_hint(response.body()).exact(), Some(12));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_whose_deadline_passes_while_waiting_is_told_to_retry_and_never_runs() {
        let seen = Seen::new();
        let app = app(seen.clone(), Admission::AtMost(1), Duration::from_millis(500));
        let holding = call(&app, "holding");
        settle().await;
        let refused = call(&app, "refused").await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        assert_eq!(refused.headers()[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(*seen.began.lock().unwrap(), ["holding"], "the refused request never ran");
        seen.finish.add_permits(2);
        assert_eq!(holding.await.unwrap().status(), StatusCode::OK);
        assert_eq!(call(&app, "later").await.unwrap().status(), StatusCode::OK, "the turn was given back");
    }
}
