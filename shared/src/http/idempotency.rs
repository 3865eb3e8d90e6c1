//! The `Idempotency-Key` request header: a client's name for one operation, so that the same
//! request sent again after a lost answer is recognised as the same operation
//! (<https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/>). Creates that
//! take it ([`Create`], [`Idempotent`]) answer a repeat with the first answer, and a key reused
//! for another request with 422; see `store::idempotency` for how the answer is kept with the
//! create.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::Instant;
use crate::http::caller::Verified;
use crate::http::{ApiError, Claims, JsonObject};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::idempotency::{Answer, Keyed, Prior, Remember};

/// Marks an answer given again for a repeated request.
pub const REPLAYED: &str = "idempotent-replayed";

pub const HEADER: &str = "idempotency-key";

/// A well-formed key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let visible = raw.bytes().all(|b| b.is_ascii_graphic());
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !visible {
            return Err(format!("must be 1 to {} visible ASCII characters", Self::MAX_LEN));
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn key_in(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let refused = |why: String| ApiError::BadRequest(format!("the Idempotency-Key header {why}"));
    let raw = value.to_str().map_err(|_| refused("must be visible ASCII".into()))?;
    IdempotencyKey::parse(raw).map(Some).map_err(refused)
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        key_in(&parts.headers)
    }
}

/// A create's request as its handler reads it: the JSON body (read as [`JsonObject`] reads it)
/// and its idempotency, for the method and path as sent, within the scope `Who` names (the
/// signed-in caller's by default). A request answered before gets its first answer here, and a
/// key used for another request its 422, before the handler runs: no create can forget to look.
pub struct Create<Who = SignedIn> {
    pub body: Map<String, Value>,
    pub idempotent: Idempotent,
    who: PhantomData<Who>,
}

/// Whose keys a create's `Idempotency-Key` is among.
pub trait KeyScope {
    /// Whether the key belongs to the verified caller (`user:<id>`) rather than to everyone.
    const SIGNED_IN: bool;
}

/// Keys belong to the caller whose access token the request carries: a create without one is
/// refused (401), whatever other extractors its handler takes.
pub struct SignedIn;

impl KeyScope for SignedIn {
    const SIGNED_IN: bool = true;
}

/// Keys belong to no one (`anonymous`): the sign-up, which has no caller yet.
pub struct Anonymous;

impl KeyScope for Anonymous {
    const SIGNED_IN: bool = false;
}

/// The scope of a create's key. The caller's id is the one [`super::Claims`] (or
/// [`super::Caller`]) left when the handler takes it, as every signed-in create does; the token is
/// verified here otherwise.
async fn scope_of<Who: KeyScope>(parts: &mut Parts, state: &AppState) -> Result<String, ApiError> {
    if !Who::SIGNED_IN {
        return Ok("anonymous".to_owned());
    }
    let caller = match parts.extensions.get::<Verified>() {
        Some(Verified(caller)) => *caller,
        None => Claims::from_request_parts(parts, state).await?.user_id,
    };
    Ok(format!("user:{caller}"))
}

impl<Who: KeyScope + Send> FromRequest<AppState> for Create<Who> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = key_in(req.headers()).map_err(IntoResponse::into_response)?;
        let (mut parts, body) = req.into_parts();
        let scope = scope_of::<Who>(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let route = format!("{} {}", parts.method, parts.uri.path());
        let req = Request::from_parts(parts, body);
        let JsonObject(body) =
            JsonObject::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let idempotent = Idempotent::new(state, key, scope, &route, &body);
        match idempotent.replay(state).await {
            Ok(None) => Ok(Create { body, idempotent, who: PhantomData }),
            Ok(Some(first)) => Err(first),
            Err(refused) => Err(refused.into_response()),
        }
    }
}

/// One create's idempotency: the key, if the request carried one, within its caller's scope,
/// and what the request was.
pub struct Idempotent(Option<Keyed>);

impl Idempotent {
    /// `scope` is whose keys these are (`user:<id>`, or `anonymous`: the same sign-up sent again
    /// is the same request from whatever address, as it holds a password only its sender knows);
    /// `route` is the method and path as sent, and `body` the request's JSON. The request's
    /// fingerprint is keyed with a server secret: a body may hold a password, and a plain hash of
    /// it in the table could be searched offline.
    fn new(
        state: &AppState,
        key: Option<IdempotencyKey>,
        scope: String,
        route: &str,
        body: &Map<String, Value>,
    ) -> Self {
        Idempotent(key.map(|key| {
            // Under the current secret, and the previous one while it rotates: a retry of a
            // request answered before the rotation is still the same request.
            let tags = state.tokens.idempotency_key.tags(fingerprint(route, body).as_bytes());
            let tags = tags.iter().map(|tag| hex(tag)).collect();
            Keyed::new(scope, key.as_str(), tags)
        }))
    }

    /// The answer to give without doing anything: the remembered one when this request was
    /// answered before, 422 when its key was used for another request.
    async fn replay(&self, state: &AppState) -> Result<Option<Response>, ApiError> {
        let Some(keyed) = &self.0 else {
            return Ok(None);
        };
        match state.store.prior_answer(keyed, Instant::now()).await? {
            Prior::Unseen => Ok(None),
            Prior::Same(answer) => Ok(Some(replayed(&answer))),
            Prior::Different => Err(ApiError::KeyReused),
        }
    }

    /// The write that remembers `answer` with the create, when there is a key.
    pub fn remember(&self, answer: &Answer, now: Instant) -> Result<Option<Remember>, ApiError> {
        Ok(self.0.as_ref().map(|keyed| keyed.remember(answer, now)).transpose()?)
    }

    /// The outcome of a create made with [`Idempotent::remember`]: when a request with the same
    /// key was answered first, that answer (as `Err`), to be given instead.
    pub async fn settle<T>(
        &self,
        state: &AppState,
        outcome: Result<T, StoreError>,
    ) -> Result<Result<T, Response>, ApiError> {
        match outcome {
            Err(StoreError::Repeated) => match self.replay(state).await? {
                Some(first) => Ok(Err(first)),
                None => Err(ApiError::Internal("a repeated request's answer is gone".into())),
            },
            other => Ok(Ok(other?)),
        }
    }
}

/// A 201 answer with `Location` and `body`, and any `extra` headers.
pub fn created<T: Serialize>(
    location: String,
    body: &T,
    extra: Vec<(String, String)>,
) -> Result<Answer, ApiError> {
    let body = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut headers = vec![(header::LOCATION.as_str().to_owned(), location)];
    headers.extend(extra);
    Ok(Answer { status: StatusCode::CREATED.as_u16(), headers, body })
}

/// The response that sends `answer`.
pub fn respond(answer: &Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    response
}

fn replayed(answer: &Answer) -> Response {
    let mut response = respond(answer);
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// A SHA-256 of the route and the body with its object keys in order: the same request however
/// its fields were ordered.
fn fingerprint(route: &str, body: &Map<String, Value>) -> String {
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update(b"\n");
    canonical(&Value::Object(body.clone()), &mut hash);
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn canonical(value: &Value, hash: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by_key(|(name, _)| *name);
            hash.update(b"{");
            for (name, value) in fields {
                hash.update(Value::String(name.clone()).to_string().as_bytes());
                hash.update(b":");
                canonical(value, hash);
                hash.update(b",");
            }
            hash.update(b"}");
        }
        Value::Array(items) => {
            hash.update(b"[");
            for item in items {
                canonical(item, hash);
                hash.update(b",");
            }
            hash.update(b"]");
        }
        scalar => hash.update(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_fingerprint_ignores_field_order_and_nothing_else() {
        let a = object(serde_json::json!({"title": "x", "nested": {"a": 1, "b": [1, 2]}}));
        let b = object(serde_json::json!({"nested": {"b": [1, 2], "a": 1}, "title": "x"}));
        assert_eq!(fingerprint("POST /events", &a), fingerprint("POST /events", &b));
        assert_ne!(fingerprint("POST /events", &a), fingerprint("POST /users", &a));
        let c = object(serde_json::json!({"title": "x", "nested": {"a": 1, "b": [2, 1]}}));
        assert_ne!(fingerprint("POST /events", &a), fingerprint("POST /events", &c));
        let d = object(serde_json::json!({"title": "x", "nested": {"a": "1", "b": [1, 2]}}));
        assert_ne!(fingerprint("POST /events", &a), fingerprint("POST /events", &d));
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("8e0c4a9e-5b4f-4f4e-9a51-0d1b6c1f2a3b").is_ok());
        assert_eq!(IdempotencyKey::parse(" k1 ").unwrap().as_str(), "k1");
        for bad in ["", "   ", "has space", "tab\there", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
