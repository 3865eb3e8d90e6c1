//! The one pagination shape: `?limit=&cursor=` in, `{"results": [...], "next_cursor": ...}` out.
//! The page types are the store's ([`crate::store::page`]); reading and writing them is done here.

use axum::Json;
use axum::response::{IntoResponse, Response};

use super::problem::ApiError;
use super::query::QueryMap;
use crate::domain::Limit;
use crate::signing::SigningKey;
use crate::store::cursor;
pub use crate::store::page::{Page, PageRequest};
use crate::views::Listed;

impl PageRequest {
    /// Reads `limit` and `cursor`. `scope` names the list; a cursor made for another list, or
    /// altered in any way, is a 400.
    pub fn parse(query: &QueryMap, key: &SigningKey, scope: &str) -> Result<Self, ApiError> {
        let limit = match query.get("limit") {
            None => Limit::default(),
            Some(raw) => Limit::parse(raw).map_err(|m| ApiError::validation("limit", m))?,
        };
        let start = match query.get("cursor") {
            None => None,
            Some(raw) => Some(cursor::decode(raw, scope, key).ok_or_else(|| {
                ApiError::InvalidCursor("the cursor is not one this list issued".to_owned())
            })?),
        };
        Ok(PageRequest { limit, start })
    }
}

impl<T> Page<T> {
    /// The items, and the cursor of the next page sealed for `scope`.
    pub fn seal(self, key: &SigningKey, scope: &str) -> (Vec<T>, Option<String>) {
        let next_cursor = self.next.as_ref().map(|start| cursor::encode(start, scope, key));
        (self.results, next_cursor)
    }
}

impl<T: Listed> Page<T> {
    /// The response body: the item's page type, with the cursor sealed for `scope`.
    pub fn respond(self, key: &SigningKey, scope: &str) -> Response {
        let (results, next_cursor) = self.seal(key, scope);
        Json(T::page(results, next_cursor)).into_response()
    }
}
