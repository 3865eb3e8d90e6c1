//! Everything the functions of the Event Management API share.
//!
//! The layers read top to bottom, the way a request travels:
//! - [`http`]: problem+json errors, the strict JSON body reader, pagination and the router finishing
//!   touches (fallback, 405, CORS, body limit);
//! - [`auth`]: password hashing, access and refresh tokens, and the caller extractor;
//! - [`domain`]: validated values and rules with no I/O;
//! - [`store`]: the only code that knows DynamoDB (keys, items, conditions, cursors).
//!
//! [`AppState`] ties them together; it is built once per process from [`Config`].

pub mod auth;
pub mod calendar;
pub mod config;
pub mod domain;
pub mod http;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod views;

pub use config::Config;
pub use state::AppState;
