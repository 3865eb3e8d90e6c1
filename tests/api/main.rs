//! API tests: the whole API over HTTP against DynamoDB Local, one fresh table per test.

mod auth;
mod events;
mod faults;
mod plumbing;
mod routes;
mod users;
