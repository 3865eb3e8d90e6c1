//! The registration invariants (kept in the `dynamodb-local` crate, which the bench shares),
//! asserted against what is stored, not against what the API said.

use serde_json::Value;

pub use ::dynamodb_local::invariants::Stored;

use crate::TestApp;

impl TestApp {
    /// Reads the event's whole partition, consistently.
    pub async fn stored(&self, event_id: &str) -> Stored {
        let stored = Stored::read(&self.state.store, event_id).await.expect("reading the event partition");
        assert_eq!(stored.duplicates, 0, "a user is registered twice: {stored:?}");
        stored
    }

    /// Asserts every registration invariant the API promises for one event, and returns what is stored.
    pub async fn assert_invariants(&self, event_id: &str) -> Stored {
        let stored = self.stored(event_id).await;
        for (invariant, holds) in stored.invariants() {
            assert!(holds, "violated: {invariant}; stored: {stored:?}");
        }
        stored
    }

    /// Walks `GET /events/{id}/registrations` to the end.
    pub async fn all_registrations(&self, event_id: &str, token: &str, limit: usize) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = format!("/events/{event_id}/registrations?limit={limit}");
        loop {
            let reply = self.get(&path, Some(token)).await;
            let body = reply.ok(200);
            all.extend(body["results"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/events/{event_id}/registrations?limit={limit}&cursor={cursor}")
                }
                None => return all,
            }
        }
    }
}
