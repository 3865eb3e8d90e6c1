//! API tests: the whole API over HTTP against DynamoDB Local, one fresh table per test.

mod auth;
mod calendar;
mod door;
mod email;
mod events;
mod faults;
mod feedback;
mod fidelity;
mod idempotency;
mod logs;
mod notifications;
mod openapi;
mod pagination;
mod plumbing;
mod registrations;
mod routes;
mod series;
mod sessions;
mod signing_key;
mod team;
mod throttling;
mod upcoming;
mod users;
mod visibility;
mod webhooks;
