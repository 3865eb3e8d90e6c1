//! What this process last saw of an event that people are registering for: its start and whether
//! it was full. With it a registration is one transaction, one round trip, instead of a read and a
//! write. A hint is never trusted: the transaction's conditions include the hinted start, and a
//! stale hint only costs a retry with the event as DynamoDB returns it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant as Clock};

use super::items::EventCounters;
use crate::domain::{Id, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventHint {
    pub starts_at: Instant,
    /// No seat free, or people already waiting: a newcomer joins the waitlist.
    pub full: bool,
}

impl EventHint {
    pub fn of(counters: &EventCounters) -> Self {
        EventHint {
            starts_at: counters.starts_at,
            full: counters.confirmed_count >= counters.capacity || counters.waitlist_count > 0,
        }
    }
}

/// A small, bounded, time-limited map of hints.
pub struct EventHints {
    entries: Mutex<HashMap<Id, (EventHint, Clock)>>,
}

const MAX_ENTRIES: usize = 4096;
const LIFETIME: Duration = Duration::from_secs(60);

impl Default for EventHints {
    fn default() -> Self {
        EventHints { entries: Mutex::new(HashMap::new()) }
    }
}

impl EventHints {
    pub fn get(&self, event: Id) -> Option<EventHint> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&event).filter(|(_, at)| at.elapsed() < LIFETIME).map(|(hint, _)| *hint)
    }

    pub fn remember(&self, event: Id, counters: &EventCounters) -> EventHint {
        let hint = EventHint::of(counters);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, at)| at.elapsed() < LIFETIME);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(event, (hint, Clock::now()));
        hint
    }

    pub fn forget(&self, event: Id) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&event);
    }
}
