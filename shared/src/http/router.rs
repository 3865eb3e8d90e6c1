//! The finishing layers every router gets, in Lambda and locally alike: a problem+json 404 for
//! unknown routes, problem+json for the 405 axum answers on a known path with the wrong method
//! (its `Allow` header kept), a panic guard, and CORS.

use axum::Router;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};

use super::problem::problem_response;

/// The paths a function serves, each with its methods (as in `template.yaml` and the `Allow` header).
pub type RouteList = &'static [(&'static str, &'static [&'static str])];

/// Adds the fallback and the layers to a function's routes. Call once, on the complete router.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(unknown_route)
        .layer(map_response(problem_for_bare_errors))
        .layer(CatchPanicLayer::custom(|_| {
            problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "an unexpected error occurred",
            )
        }))
        .layer(cors())
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
    response.into_response()
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::LOCATION, header::RETRY_AFTER, HeaderName::from_static("www-authenticate")])
        .max_age(std::time::Duration::from_secs(3600))
}
