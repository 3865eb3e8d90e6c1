//! What the end-to-end tests (`tests/`) and the bench (`bench/`) both do with DynamoDB Local:
//! start it, fill a table straight through the store, and read back what a table holds. Kept in
//! one place so that the bench measures the API against the same database, the same kind of users
//! and the same invariants the tests hold it to.
//!
//! Nothing here is for the functions themselves: only `tests/` and `bench/` depend on this crate.

pub mod crowd;
pub mod invariants;
mod launcher;

pub use launcher::DynamoDbLocal;
