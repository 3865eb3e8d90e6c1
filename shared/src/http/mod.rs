//! HTTP plumbing shared by every router: problem+json errors, the strict JSON body reader, query
//! parameters and pagination, the caller extractors, and the finishing layers (fallback, 405,
//! CORS).

pub mod access;
pub mod address;
pub mod bodies;
pub mod body;
pub mod caller;
pub mod fields;
pub mod idempotency;
pub mod links;
pub mod pagination;
pub mod problem;
pub mod query;
pub mod respond;
pub mod router;

pub use address::ClientAddress;
pub use body::{Edit, EmptyBody, JsonObject};
pub use caller::{Caller, Claims};
pub use fields::Fields;
pub use idempotency::IdempotencyKey;
pub use pagination::{Page, PageRequest};
pub use problem::ApiError;
pub use query::QueryMap;
pub use router::finish;
