//! What the end-to-end tests (`tests/`) and the bench (`bench/`) both do with DynamoDB Local and
//! the Secrets Manager stand-in: start them, put a fidelity proxy in front of them (what DynamoDB does that DynamoDB Local does
//! not), fill a table straight through the store, and read back what a table holds. Kept in
//! one place so that the bench measures the API against the same database, the same kind of users
//! and the same invariants the tests hold it to.
//!
//! Nothing here is for the functions themselves: only `tests/` and `bench/` depend on this crate.

pub mod crowd;
pub mod fidelity;
pub mod invariants;
mod launcher;
mod secrets_manager;
mod ses_local;

pub use launcher::DynamoDbLocal;
pub use secrets_manager::SecretsManagerLocal;
pub use ses_local::SesLocal;
