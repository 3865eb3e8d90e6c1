//! The finishing layers every router gets, in Lambda and locally alike: a problem+json 404 for
//! unknown routes, problem+json for the 405 axum answers on a known path with the wrong method
//! (its `Allow` header kept), a panic guard, CORS, the request log, and each request's deadline.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next, map_response};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};

use super::problem::problem_response;
use lambda_http::request::RequestContext;

use crate::AppState;
use crate::domain::Id;
use crate::store::deadline;
use crate::store::usage::{Usage, measure};
use crate::telemetry::metrics::{self, Unit};

/// The paths a function serves, each with its methods (as in `template.yaml` and the `Allow` header).
pub type RouteList = &'static [(&'static str, &'static [&'static str])];

/// Gives a function's routes their state, the fallback and the layers. Call once, on the
/// complete router.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    let budget = state.request_deadline;
    routes
        .with_state(state)
        .route_layer(middleware::from_fn(remember_route))
        .fallback(unknown_route)
        .layer(map_response(problem_for_bare_errors))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            deadline::within(budget, next.run(request))
        }))
        .layer(middleware::from_fn(log_request))
        .layer(CatchPanicLayer::custom(|_| {
            problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "an unexpected error occurred",
            )
        }))
        .layer(cors())
}

/// The route template a request matched (`/events/{id}`), never the raw path: paths carry ids
/// and, for calendar feeds, a credential.
#[derive(Clone)]
struct Route(MatchedPath);

async fn remember_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// The request's id: on AWS, API Gateway's (the `requestId` of its access log line, so the two
/// logs join); locally, the client's `X-Request-Id` if it is a plausible one, else a fresh one.
fn request_id(request: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.extensions().get::<RequestContext>()
        && let Some(id) = &context.request_id
    {
        return id.clone();
    }
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map_or_else(|| Id::new().to_string(), str::to_owned)
}

/// One structured line per request: id, method, route, status, latency and what it cost
/// DynamoDB; and one metric line (see [`metrics`]) with what the request counted. Nothing from
/// headers or bodies is logged, so no password or token can leak here.
async fn log_request(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let id = request_id(&request);
    // The invocation's id on AWS, which X-Ray's trace of it carries.
    let invocation = request.extensions().get::<lambda_http::Context>().map(|c| c.request_id.clone());
    let method = request.method().clone();
    let ((mut response, usage), counts) = metrics::counting(measure(next.run(request))).await;
    let route = response.extensions().get::<Route>().map_or("(unmatched)", |r| r.0.as_str()).to_owned();
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = %id,
        lambda_request_id = invocation.as_deref(),
        method = %method,
        route = %route,
        status,
        latency_ms,
        dynamodb_round_trips = usage.round_trips,
        dynamodb_capacity_units = usage.capacity_units,
        "request"
    );
    emit_metrics(&route, latency_ms, usage, &counts);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}

/// The request's metrics, by function and route: latency, DynamoDB round trips and capacity units,
/// and whatever the request counted.
fn emit_metrics(route: &str, latency_ms: f64, usage: Usage, counts: &metrics::Counts) {
    let function = metrics::function_name();
    let mut values = vec![
        ("LatencyMs", latency_ms, Unit::Milliseconds),
        ("DynamoDBRoundTrips", f64::from(usage.round_trips), Unit::Count),
        ("DynamoDBCapacityUnits", usage.capacity_units, Unit::Count),
    ];
    values.extend(counts.iter().map(|(name, value)| (*name, *value, Unit::Count)));
    let now = chrono::Utc::now().timestamp_millis();
    metrics::emit(&metrics::line(&[("Function", &function), ("Route", route)], &values, now));
}

async fn unknown_route() -> Response {
    problem_response(StatusCode::NOT_FOUND, "not-found", "no such route")
}

/// Rewrites error responses that carry no body of ours (axum's own 405) as problems.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    if status == StatusCode::METHOD_NOT_ALLOWED && !response.headers().contains_key(header::CONTENT_TYPE) {
        let allow = response.headers().get(header::ALLOW).cloned();
        let detail = match allow.as_ref().and_then(|v| v.to_str().ok()) {
            Some(methods) => format!("this route accepts {methods}"),
            None => "this route does not accept that method".to_owned(),
        };
        let mut problem = problem_response(status, "method-not-allowed", &detail);
        if let Some(allow) = allow {
            problem.headers_mut().insert(header::ALLOW, allow);
        }
        return problem;
    }
    // The only plain-text 400 axum produces here is a path segment that is not valid UTF-8 once
    // decoded: such a segment names nothing, so it is an unknown resource.
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if status == StatusCode::BAD_REQUEST && plain_text {
        return problem_response(StatusCode::NOT_FOUND, "not-found", "no such resource");
    }
    response.into_response()
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::LINK,
            HeaderName::from_static("www-authenticate"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: Option<&str>, api_gateway: Option<&str>) -> Request {
        let mut request = Request::new(axum::body::Body::empty());
        if let Some(value) = header {
            request.headers_mut().insert("x-request-id", HeaderValue::from_str(value).expect("a header"));
        }
        if let Some(id) = api_gateway {
            let mut context =
                lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
            context.request_id = Some(id.to_owned());
            request.extensions_mut().insert(RequestContext::ApiGatewayV2(context));
        }
        request
    }

    #[test]
    fn the_request_id_is_api_gateways_then_the_clients_then_a_new_one() {
        assert_eq!(request_id(&request(Some("client-1"), Some("zG3DnIXkdOys2g=="))), "zG3DnIXkdOys2g==");
        assert_eq!(request_id(&request(Some("client-1"), None)), "client-1");
        let fresh = request_id(&request(Some("not plausible!"), None));
        assert!(Id::parse(&fresh).is_some(), "{fresh}");
        assert_ne!(request_id(&request(None, None)), request_id(&request(None, None)));
    }
}
