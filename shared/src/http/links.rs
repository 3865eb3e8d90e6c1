//! Absolute links back to the API, and calendar responses.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::problem::ApiError;

/// The scheme and host the client reached the API at (API Gateway sets `X-Forwarded-Proto`), for
/// links that must be absolute, such as calendar-feed URLs.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let scheme = match header("x-forwarded-proto").and_then(|v| v.split(',').next()).map(str::trim) {
            Some("https") => "https",
            _ => "http",
        };
        let host = header("host").filter(|h| plausible_host(h)).unwrap_or("localhost");
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// A `text/calendar` response.
pub fn calendar_response(body: String, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked() {
        assert!(plausible_host("abc.execute-api.eu-west-1.amazonaws.com"));
        assert!(plausible_host("127.0.0.1:3000"));
        assert!(!plausible_host("evil.example/path"));
        assert!(!plausible_host("a b"));
        assert!(!plausible_host(""));
    }
}
