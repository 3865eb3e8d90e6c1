//! What a list asks the store for and gets back: a page size and where the previous page stopped,
//! and a page of records with where the next one starts. Reading them from a request and writing
//! them into a response is the HTTP layer's (`http::pagination`).

use super::cursor::StartKey;
use crate::domain::Limit;

/// A validated page request: the size, and where the previous page stopped.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: Limit,
    pub start: Option<StartKey>,
}

/// One page of results from the store, with where the next one starts.
#[derive(Debug)]
pub struct Page<T> {
    pub results: Vec<T>,
    pub next: Option<StartKey>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { results: self.results.into_iter().map(f).collect(), next: self.next }
    }
}
