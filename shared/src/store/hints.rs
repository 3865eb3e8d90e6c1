//! What this process last saw of the seats of an event that people are registering for. With it
//! a registration is one transaction, one round trip, instead of a read and a write. A hint is
//! never trusted: the transaction's conditions include the hinted start and the shard's state,
//! and a stale hint only costs a retry with the shard as DynamoDB returns it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant as Clock};

use super::items::SeatShard;
use super::seats::Seats;
use crate::domain::Id;

/// A small, bounded, time-limited map of hints.
pub struct EventHints {
    entries: Mutex<HashMap<Id, (Seats, Clock)>>,
}

const MAX_ENTRIES: usize = 4096;
const LIFETIME: Duration = Duration::from_secs(60);

impl Default for EventHints {
    fn default() -> Self {
        EventHints { entries: Mutex::new(HashMap::new()) }
    }
}

impl EventHints {
    pub fn get(&self, event: Id) -> Option<Seats> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&event).filter(|(_, at)| at.elapsed() < LIFETIME).map(|(seats, _)| seats.clone())
    }

    pub fn remember(&self, event: Id, seats: &Seats) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < LIFETIME);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(event, (seats.clone(), Clock::now()));
    }

    /// Takes in a fresher reading of one shard (a refused transaction's view of it).
    pub fn update(&self, event: Id, fresh: SeatShard) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seats, _)) = entries.get_mut(&event) {
            seats.update(fresh);
        }
    }

    pub fn forget(&self, event: Id) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&event);
    }
}
