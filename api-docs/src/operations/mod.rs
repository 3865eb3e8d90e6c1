//! Every operation of the API, grouped by the function that serves it. The functions here only
//! carry `#[utoipa::path]` documentation; the handlers are in `functions/*/src`, and
//! `tests/api/openapi.rs` checks that the two agree route for route.

// The documented functions are never called, and the response types are never constructed.
#![allow(dead_code)]

pub mod docs;
pub mod events;
pub mod register;
pub mod upcoming;
pub mod users;
pub mod webhooks;
