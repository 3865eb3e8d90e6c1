//! The strict JSON body reader: `application/json` only (415 otherwise), at most
//! [`MAX_BODY_BYTES`] (413), well-formed and a JSON object (400). Which fields an object may hold
//! is checked by [`super::Fields`].

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use serde_json::{Map, Value};

use super::problem::ApiError;

/// The largest body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request body that is a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON, sent with Content-Type: application/json".to_owned(),
            ));
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES })?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// The body of a PUT or a PATCH on one resource, read as its method says: a PUT replaces every
/// writable field (one it leaves out is refused or takes its default), a PATCH changes only the
/// fields it names. The routes that take both answer both from one handler.
#[derive(Debug)]
pub enum Edit {
    Replace(Map<String, Value>),
    Patch(Map<String, Value>),
}

impl<S: Send + Sync> FromRequest<S> for Edit {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let replace = req.method() == Method::PUT;
        let JsonObject(body) = JsonObject::from_request(req, state).await?;
        Ok(if replace { Edit::Replace(body) } else { Edit::Patch(body) })
    }
}

/// The body of a request that takes none: nothing at all, or an empty JSON object. A field is
/// unknown (400), so that no client believes it set something (`{"status": "confirmed"}` on a
/// registration); other content is a 415 or a 400 like any body.
#[derive(Debug)]
pub struct EmptyBody;

impl<S: Send + Sync> FromRequest<S> for EmptyBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(EmptyBody);
        }
        if !is_json(&content_type) {
            return Err(ApiError::UnsupportedMediaType(
                "a body, if any, must be JSON, sent with Content-Type: application/json".to_owned(),
            ));
        }
        super::Fields::new(parse_object(&bytes)?, &[]).finish()?;
        Ok(EmptyBody)
    }
}

/// Parses bytes as one JSON object. serde_json refuses nesting deeper than 128 levels, so a
/// deeply nested body is a 400, not a stack overflow.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("the body must be a JSON object".to_owned())),
        Err(e) => Err(ApiError::BadRequest(format!("the body is not valid JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json(""));
    }

    #[test]
    fn parses_only_objects() {
        assert!(parse_object(br#"{"a":1}"#).is_ok());
        assert!(matches!(parse_object(b"[1]"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_object(b"{"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_object(b""), Err(ApiError::BadRequest(_))));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(parse_object(deep.as_bytes()), Err(ApiError::BadRequest(_))));
    }

    async fn edit_sent_with(method: Method, body: &'static str) -> Result<Edit, ApiError> {
        let request = Request::builder()
            .method(method)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .expect("a request");
        Edit::from_request(request, &()).await
    }

    #[tokio::test]
    async fn a_put_replaces_and_a_patch_changes_what_it_names() {
        let Ok(Edit::Replace(fields)) = edit_sent_with(Method::PUT, r#"{"title":"A"}"#).await else {
            panic!("a PUT is a replacement");
        };
        assert_eq!(fields.get("title"), Some(&Value::from("A")));
        let Ok(Edit::Patch(fields)) = edit_sent_with(Method::PATCH, r#"{"title":"B"}"#).await else {
            panic!("a PATCH is a patch");
        };
        assert_eq!(fields.get("title"), Some(&Value::from("B")));
        // Either is read by the strict reader: not an object is a 400.
        assert!(matches!(edit_sent_with(Method::PATCH, "[]").await, Err(ApiError::BadRequest(_))));
    }
}
