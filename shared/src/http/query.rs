//! Query-string parameters. Each may appear once; a repeated one is a 400, since silently picking
//! one of two values hides client bugs. Parameters an endpoint does not use are ignored.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::problem::ApiError;

/// The decoded query string.
#[derive(Debug, Default)]
pub struct QueryMap(HashMap<String, String>);

impl QueryMap {
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| ApiError::BadRequest("the query string is malformed".to_owned()))?;
        let mut map = HashMap::with_capacity(pairs.len());
        for (key, value) in pairs {
            if map.contains_key(&key) {
                return Err(ApiError::validation(&key, "must be given at most once"));
            }
            map.insert(key, value);
        }
        Ok(QueryMap(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        QueryMap::parse(parts.uri.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses_repeats() {
        let q = QueryMap::parse(Some("title=caf%C3%A9+bar&limit=5")).unwrap();
        assert_eq!(q.get("title"), Some("café bar"));
        assert_eq!(q.get("limit"), Some("5"));
        assert_eq!(q.get("cursor"), None);
        assert!(QueryMap::parse(Some("limit=1&limit=2")).is_err());
        assert!(QueryMap::parse(None).is_ok());
    }
}
