//! Attempt limits: how often one subject (an account, a client address) may try something before
//! it has to wait, and how long.
//!
//! A subject has a few attempts free within a window; each attempt beyond them waits twice as
//! long as the one before, up to a ceiling. This slows guessing to a crawl (an account's guesses
//! a day are bounded whatever the number of addresses they come from) while a person who mistypes
//! a password a few times waits a second or two at most. Nothing ever locks a subject out for
//! longer than the ceiling.

/// A limit on one kind of attempt by one subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed back to back within a window.
    pub free: u32,
    /// The wait, in seconds, before the first attempt beyond the free ones; each further attempt
    /// doubles it.
    pub first_wait: u64,
    /// The longest wait, in seconds.
    pub max_wait: u64,
    /// Seconds after its first attempt at which a tally is forgotten and the free attempts are
    /// back.
    pub window: u64,
}

/// The limits of the API, each per subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Logins to one account (keyed by the name tried, whether or not it exists). A success
    /// clears it.
    pub login_per_account: Limit,
    /// Logins from one client address. A success gives its attempt back, so a busy network's
    /// real logins do not add up; its failed guesses across many accounts do.
    pub login_per_address: Limit,
    /// Sign-ups from one client address.
    pub sign_up_per_address: Limit,
    /// Refreshes from one client address.
    pub refresh_per_address: Limit,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

impl Default for Limits {
    /// Five tries at a password, then 1 s, 2 s, 4 s, … up to a quarter of an hour between
    /// guesses: about a hundred guesses a day at one account however many addresses they come
    /// from, while whoever mistypes a password a few times waits seconds. Addresses get far more
    /// (300 failed logins an hour), since one may be a whole office or carrier behind one NAT.
    fn default() -> Self {
        Limits {
            login_per_account: Limit { free: 5, first_wait: 1, max_wait: 15 * MINUTE, window: DAY },
            login_per_address: Limit { free: 300, first_wait: 1, max_wait: 15 * MINUTE, window: HOUR },
            sign_up_per_address: Limit { free: 1000, first_wait: 1, max_wait: 15 * MINUTE, window: HOUR },
            refresh_per_address: Limit { free: 1000, first_wait: 1, max_wait: MINUTE, window: 10 * MINUTE },
        }
    }
}

/// The attempts one subject made in its current window (times in Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub attempts: u32,
    pub first_at: i64,
    pub last_at: i64,
}

impl Limit {
    /// The tally that still counts at `now`: `None` once its window has passed.
    pub fn current(&self, tally: Option<Tally>, now: i64) -> Option<Tally> {
        tally.filter(|t| now < t.first_at.saturating_add(self.window as i64))
    }

    /// Seconds to wait before the next attempt, if it may not be made at `now`.
    pub fn wait(&self, tally: Option<Tally>, now: i64) -> Option<u64> {
        let tally = self.current(tally, now)?;
        let beyond = tally.attempts.checked_sub(self.free)?;
        let wait =
            self.first_wait.saturating_mul(1u64.checked_shl(beyond).unwrap_or(u64::MAX)).min(self.max_wait);
        let allowed_at = tally.last_at.saturating_add(wait as i64);
        (now < allowed_at).then(|| (allowed_at - now) as u64)
    }

    /// The tally after one more attempt at `now`.
    pub fn charge(&self, tally: Option<Tally>, now: i64) -> Tally {
        match self.current(tally, now) {
            Some(t) => Tally { attempts: t.attempts.saturating_add(1), first_at: t.first_at, last_at: now },
            None => Tally { attempts: 1, first_at: now, last_at: now },
        }
    }

    /// The most attempts one subject can make in `seconds`, trying each time the moment it may:
    /// what this limit concedes to a patient attacker.
    pub fn attempts_within(&self, seconds: u64) -> u64 {
        let (mut now, mut tally, mut made) = (0i64, None, 0u64);
        let end = seconds as i64;
        while now < end {
            match self.wait(tally, now) {
                Some(wait) => now = now.saturating_add(wait as i64),
                None => {
                    tally = Some(self.charge(tally, now));
                    made += 1;
                }
            }
        }
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit { free: 3, first_wait: 2, max_wait: 60, window: 3600 };

    fn after(attempts: u32, at: i64) -> Option<Tally> {
        Some(Tally { attempts, first_at: 0, last_at: at })
    }

    #[test]
    fn free_attempts_then_doubling_waits_up_to_the_ceiling() {
        assert_eq!(LIMIT.wait(None, 0), None);
        assert_eq!(LIMIT.wait(after(2, 10), 10), None);
        assert_eq!(LIMIT.wait(after(3, 10), 10), Some(2));
        assert_eq!(LIMIT.wait(after(3, 10), 11), Some(1));
        assert_eq!(LIMIT.wait(after(3, 10), 12), None);
        assert_eq!(LIMIT.wait(after(4, 10), 10), Some(4));
        assert_eq!(LIMIT.wait(after(5, 10), 10), Some(8));
        assert_eq!(LIMIT.wait(after(9, 10), 10), Some(60));
        assert_eq!(LIMIT.wait(after(u32::MAX, 10), 10), Some(60));
    }

    #[test]
    fn a_tally_is_forgotten_when_its_window_ends() {
        assert_eq!(LIMIT.wait(after(9, 3590), 3599), Some(51));
        assert_eq!(LIMIT.wait(after(9, 3590), 3600), None);
        let fresh = LIMIT.charge(after(9, 3590), 3600);
        assert_eq!(fresh, Tally { attempts: 1, first_at: 3600, last_at: 3600 });
    }

    #[test]
    fn charging_counts_and_keeps_the_window_start() {
        let first = LIMIT.charge(None, 5);
        assert_eq!(first, Tally { attempts: 1, first_at: 5, last_at: 5 });
        assert_eq!(LIMIT.charge(Some(first), 9), Tally { attempts: 2, first_at: 5, last_at: 9 });
    }

    #[test]
    fn a_patient_attacker_gets_the_free_attempts_and_one_per_ceiling() {
        // 3 free at once, then waits of 2, 4, 8, 16 and 32 s, then one a minute.
        assert_eq!(LIMIT.attempts_within(62), 7);
        assert_eq!(LIMIT.attempts_within(63), 8);
        assert_eq!(LIMIT.attempts_within(3600), 7 + (3600 - 62 - 1) / 60 + 1);
        // The next window gives the free attempts back.
        assert_eq!(LIMIT.attempts_within(7200), 2 * LIMIT.attempts_within(3600));
    }
}
