//! A short memory of the month directory (`BUCKETS`) that upcoming pages read.
//!
//! The directory changes only when an event lands in a month (or a category's month) that had
//! none, yet every page would otherwise read it: one Query more per page, run beside the first
//! month's Query but still competing with it. So this process keeps what it last read of each
//! directory range for one second. A directory entry written through this process makes it
//! forget every listing at once (a generation counter keeps a read that raced such a write from
//! storing the old answer); a new month written by another process shows up in pages here within
//! the second, which is of the order of the index's own propagation delay.
//!
//! It also remembers which directory entries this process has written. Entries are never
//! removed, so an event write whose month's entries this process already wrote leaves them out:
//! otherwise every event write on the platform would also write the one `BUCKETS` partition,
//! and that partition's 1,000 write units a second would cap event creation for everyone.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant as Clock};

use super::keys::Key;

/// Months of the directory in one range, and whether more follow beyond the 50 read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub months: Vec<String>,
    pub more: bool,
}

const LIFETIME: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 256;

/// How many written entries a process remembers (about a dozen per month a year ahead).
const MAX_WRITTEN: usize = 4096;

#[derive(Default)]
struct State {
    generation: u64,
    entries: HashMap<(String, String), (Listing, Clock)>,
    written: HashSet<Key>,
}

/// Listings by (from, to) range, kept for [`LIFETIME`].
#[derive(Default)]
pub struct DirectoryCache {
    state: Mutex<State>,
}

/// What a lookup found: the listing, or the generation to store a fresh read under.
pub enum Lookup {
    Hit(Listing),
    Miss { generation: u64 },
}

impl DirectoryCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, from: &str, to: &str) -> Lookup {
        let state = self.state();
        match state.entries.get(&(from.to_owned(), to.to_owned())) {
            Some((listing, at)) if at.elapsed() < LIFETIME => Lookup::Hit(listing.clone()),
            _ => Lookup::Miss { generation: state.generation },
        }
    }

    /// Keeps a listing read from DynamoDB, unless a write through this process came in between.
    pub fn remember(&self, generation: u64, from: &str, to: &str, listing: &Listing) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.entries.retain(|_, (_, at)| at.elapsed() < LIFETIME);
            if state.entries.len() >= MAX_ENTRIES {
                state.entries.clear();
            }
        }
        state.entries.insert((from.to_owned(), to.to_owned()), (listing.clone(), Clock::now()));
    }

    /// Of `entries`, those this process has not written yet.
    pub fn unwritten(&self, entries: impl IntoIterator<Item = Key>) -> Vec<Key> {
        let state = self.state();
        let mut fresh: Vec<Key> = entries.into_iter().filter(|key| !state.written.contains(key)).collect();
        fresh.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        fresh.dedup();
        fresh
    }

    /// Records that `entries` are in the table (a write of them succeeded), and forgets every
    /// listing kept, which may lack them.
    pub fn wrote(&self, entries: &[Key]) {
        if entries.is_empty() {
            return;
        }
        let mut state = self.state();
        if state.written.len() + entries.len() > MAX_WRITTEN {
            state.written.clear();
        }
        state.written.extend(entries.iter().cloned());
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(months: &[&str]) -> Listing {
        Listing { months: months.iter().map(|m| m.to_string()).collect(), more: false }
    }

    fn generation(lookup: Lookup) -> u64 {
        match lookup {
            Lookup::Miss { generation } => generation,
            Lookup::Hit(found) => panic!("unexpected hit: {found:?}"),
        }
    }

    #[test]
    fn a_remembered_range_is_a_hit_and_another_range_a_miss() {
        let cache = DirectoryCache::default();
        let g = generation(cache.get("ALL#2027-01", "ALL#9999-12"));
        cache.remember(g, "ALL#2027-01", "ALL#9999-12", &listing(&["2027-01", "2027-03"]));
        match cache.get("ALL#2027-01", "ALL#9999-12") {
            Lookup::Hit(found) => assert_eq!(found, listing(&["2027-01", "2027-03"])),
            Lookup::Miss { .. } => panic!("expected a hit"),
        }
        generation(cache.get("ALL#2027-02", "ALL#9999-12"));
    }

    #[test]
    fn entries_written_once_are_left_out_of_later_writes() {
        let cache = DirectoryCache::default();
        let entry = |month: &str| Key { pk: "BUCKETS".into(), sk: format!("ALL#{month}") };
        assert_eq!(cache.unwritten([entry("2027-01"), entry("2027-01")]), [entry("2027-01")]);
        let before = generation(cache.get("ALL#2027-01", "ALL#9999-12"));
        cache.wrote(&[entry("2027-01")]);
        assert_eq!(cache.unwritten([entry("2027-01"), entry("2027-02")]), [entry("2027-02")]);
        assert_ne!(
            generation(cache.get("ALL#2027-01", "ALL#9999-12")),
            before,
            "listings kept are forgotten"
        );
    }

    #[test]
    fn a_write_forgets_everything_and_a_read_that_raced_it_is_not_kept() {
        let cache = DirectoryCache::default();
        let before = generation(cache.get("ALL#2027-01", "ALL#9999-12"));
        cache.remember(before, "ALL#2027-01", "ALL#9999-12", &listing(&["2027-01"]));
        cache.wrote(&[Key { pk: "BUCKETS".into(), sk: "ALL#2027-02".into() }]);
        let after = generation(cache.get("ALL#2027-01", "ALL#9999-12"));
        assert_ne!(before, after);
        // A read that began before the write finishes after it: its answer may lack the new month.
        cache.remember(before, "ALL#2027-01", "ALL#9999-12", &listing(&["2027-01"]));
        generation(cache.get("ALL#2027-01", "ALL#9999-12"));
    }
}
