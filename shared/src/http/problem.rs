//! RFC 9457 problem details: the one error shape of the API.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::event::FieldErrors;
use crate::store::StoreError;

/// Where the problem types live; each type is this plus a slug.
pub const PROBLEM_BASE: &str = "https://events-api.example.com/problems/";

/// Every error a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidCursor(String),
    #[error("{detail}")]
    Unauthorized { detail: String, invalid_token: bool },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict { slug: &'static str, detail: String },
    /// A conflict whose problem carries members beyond the standard ones (RFC 9457 section 3.2),
    /// such as when and by whom a ticket was already checked in.
    #[error("{detail}")]
    ConflictWith { slug: &'static str, detail: String, members: serde_json::Map<String, serde_json::Value> },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts by one account or client address: try again in `retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error("this Idempotency-Key was used for another request; use a new key for a new request")]
    KeyReused,
    #[error("storage is unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

/// An RFC 9457 problem details document, `application/problem+json`: the shape of every error.
/// A problem may carry members of its own beside these (`already-checked-in` says when and by
/// whom: `checked_in_at`, `checked_in_by`).
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "type": "https://events-api.example.com/problems/validation-error",
    "title": "Bad Request",
    "status": 400,
    "detail": "invalid fields: capacity",
    "errors": {"capacity": ["must be a whole number from 1 to 100000"]}
})))]
pub struct Problem<'a> {
    /// `https://events-api.example.com/problems/<slug>`; the slug names the problem.
    #[serde(rename = "type")]
    #[schema(format = "uri", pattern = r"^https://events-api\.example\.com/problems/[a-z-]+$")]
    kind: String,
    /// The reason phrase of `status`.
    title: &'a str,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What went wrong.
    detail: String,
    /// Validation failures only: one entry per offending field, with its messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>, nullable = false)]
    errors: Option<&'a FieldErrors>,
    /// A problem's own members, named in its description.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    members: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(detail: &str) -> Self {
        ApiError::Forbidden(detail.to_owned())
    }

    pub fn conflict(slug: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { slug, detail: detail.into() }
    }

    pub fn unauthorized(detail: &str) -> Self {
        ApiError::Unauthorized { detail: detail.to_owned(), invalid_token: false }
    }

    /// `what` may be tried again in `retry_after` seconds (at least one).
    pub fn too_many(what: &str, retry_after: u64) -> Self {
        let retry_after = retry_after.max(1);
        let unit = if retry_after == 1 { "second" } else { "seconds" };
        ApiError::TooManyRequests {
            detail: format!("too many {what}; try again in {retry_after} {unit}"),
            retry_after,
        }
    }

    pub fn invalid_token() -> Self {
        ApiError::Unauthorized {
            detail: "the access token is missing its user, expired or invalid".to_owned(),
            invalid_token: true,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) | ApiError::InvalidCursor(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::ConflictWith { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation-error",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::InvalidCursor(_) => "invalid-cursor",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict { slug, .. } | ApiError::ConflictWith { slug, .. } => slug,
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::KeyReused => "idempotency-key-reused",
            ApiError::Unavailable => "service-unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
                format!("invalid fields: {}", fields.join(", "))
            }
            ApiError::Unavailable => "storage is unavailable; retry shortly".to_owned(),
            // Never leak internals to the client; they are logged instead.
            ApiError::Internal(_) => "an unexpected error occurred".to_owned(),
            other => other.to_string(),
        }
    }
}

/// A problem+json response for any status, for the layers that answer before a handler runs.
pub fn problem_response(status: StatusCode, slug: &str, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = Problem {
        kind: format!("{PROBLEM_BASE}{slug}"),
        title,
        status: status.as_u16(),
        detail: detail.to_owned(),
        errors: None,
        members: None,
    };
    with_problem_type(status, Json(body).into_response())
}

fn with_problem_type(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(reason) = &self {
            tracing::error!(reason = %reason, "internal error");
        }
        let errors = match &self {
            ApiError::Validation(errors) => Some(errors),
            _ => None,
        };
        let members = match &self {
            ApiError::ConflictWith { members, .. } => Some(members),
            _ => None,
        };
        let body = Problem {
            kind: format!("{PROBLEM_BASE}{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            errors,
            members,
        };
        let mut response = with_problem_type(status, Json(body).into_response());
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { invalid_token: true, .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            ApiError::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(reason = %reason, "storage unavailable");
                ApiError::Unavailable
            }
            StoreError::Internal(reason) => ApiError::Internal(reason),
            // Handlers that take a key replay the first answer; any other is a conflict.
            StoreError::Repeated => {
                ApiError::conflict("request-repeated", "an identical request was answered first")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response) -> serde_json::Value {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn validation_lists_each_field() {
        let r = ApiError::validation("title", "must not be blank").into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json");
        let b = body(r).await;
        assert_eq!(b["type"], format!("{PROBLEM_BASE}validation-error"));
        assert_eq!(b["status"], 400);
        assert_eq!(b["errors"]["title"][0], "must not be blank");
    }

    #[tokio::test]
    async fn unauthorized_and_unavailable_carry_their_headers() {
        let r = ApiError::invalid_token().into_response();
        assert!(r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
        let r = ApiError::Unavailable.into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_reason() {
        let r = ApiError::Internal("secret table detail".into()).into_response();
        let b = body(r).await;
        assert!(!b.to_string().contains("secret table detail"));
        assert!(b.get("errors").is_none());
    }
}
