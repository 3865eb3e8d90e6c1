//! API tests: the whole API over HTTP against DynamoDB Local, one fresh table per test.

mod auth;
mod events;
mod faults;
mod plumbing;
mod registrations;
mod routes;
mod upcoming;
mod users;
