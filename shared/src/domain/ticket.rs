//! Tickets and the door: the code a confirmed registration shows, and when check-in is open.
//!
//! A ticket's code is an HMAC (under a key only the functions hold) of a random 128-bit nonce
//! stored with the registration, cut to 160 bits and written in base32: unguessable, derived
//! from no id, and shown again on every request without being stored. The table keeps only the
//! nonce and the code's SHA-256 (to find the registration a scanned code belongs to): someone
//! who reads the whole table can neither recompute a code nor turn a hash back into one.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Instant;

/// Bytes of HMAC output a code keeps: 160 bits.
const CODE_BYTES: usize = 20;
/// Characters of a code: 160 bits at 5 per base32 character.
const CODE_CHARS: usize = CODE_BYTES * 8 / 5;

/// The random value a ticket's code is derived from, as stored (32 hex digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketNonce(String);

impl TicketNonce {
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        TicketNonce(hex(&bytes))
    }

    /// A nonce as stored.
    pub fn stored(raw: String) -> Self {
        TicketNonce(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the key signs to make the code.
    pub fn message(&self) -> Vec<u8> {
        [b"ticket/".as_slice(), self.0.as_bytes()].concat()
    }
}

/// A ticket's code: 32 characters of RFC 4648 base32, upper case.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketCode(String);

impl TicketCode {
    /// The code an HMAC tag makes.
    pub fn from_tag(tag: &[u8; 32]) -> Self {
        TicketCode(data_encoding::BASE32_NOPAD.encode(&tag[..CODE_BYTES]))
    }

    /// A code as scanned or typed: case and surrounding spaces do not matter. `None` when it
    /// cannot be a code (and so matches no ticket).
    pub fn parse(raw: &str) -> Option<Self> {
        let code = raw.trim().to_ascii_uppercase();
        let valid = code.len() == CODE_CHARS && data_encoding::BASE32_NOPAD.decode(code.as_bytes()).is_ok();
        valid.then_some(TicketCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the table keys the ticket by: the code's SHA-256, in hex.
    pub fn lookup(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for TicketCode {
    /// Codes are entry passes: they stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketCode(…)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long an event with no end is treated as lasting, for check-in.
pub const DEFAULT_EVENT_LENGTH_SECONDS: i64 = 12 * 3600;

/// When check-in is open for an event: from `opens_before_seconds` before its start until its
/// end, or until [`DEFAULT_EVENT_LENGTH_SECONDS`] after its start when it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInWindow {
    pub opens_at: Instant,
    pub closes_at: Instant,
}

impl CheckInWindow {
    pub fn of(starts_at: Instant, ends_at: Option<Instant>, opens_before_seconds: i64) -> Self {
        CheckInWindow {
            opens_at: starts_at.plus_seconds(-opens_before_seconds),
            closes_at: ends_at.unwrap_or_else(|| starts_at.plus_seconds(DEFAULT_EVENT_LENGTH_SECONDS)),
        }
    }

    /// Where `now` falls.
    pub fn at(&self, now: Instant) -> Door {
        if now < self.opens_at {
            Door::NotYetOpen
        } else if now >= self.closes_at {
            Door::Closed
        } else {
            Door::Open
        }
    }
}

/// Whether check-in is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    NotYetOpen,
    Open,
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_160_bits_of_base32_and_parses_back_in_any_case() {
        let code = TicketCode::from_tag(&[7u8; 32]);
        assert_eq!(code.as_str().len(), 32);
        assert_eq!(TicketCode::parse(&format!("  {}  ", code.as_str().to_lowercase())), Some(code.clone()));
        assert_eq!(code.lookup().len(), 64);
        for bad in ["", "abc", &code.as_str()[1..], &format!("{}A", code.as_str()), &"1".repeat(32)] {
            assert!(TicketCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn nonces_are_random_and_codes_stay_out_of_logs() {
        assert_ne!(TicketNonce::random(), TicketNonce::random());
        assert_eq!(TicketNonce::random().as_str().len(), 32);
        assert_eq!(format!("{:?}", TicketCode::from_tag(&[1u8; 32])), "TicketCode(…)");
    }

    #[test]
    fn the_door_opens_before_the_start_and_closes_at_the_end() {
        let start = Instant::from_unix(1_900_000_000).expect("an instant");
        let window = CheckInWindow::of(start, None, 7200);
        assert_eq!(window.at(start.plus_seconds(-7201)), Door::NotYetOpen);
        assert_eq!(window.at(start.plus_seconds(-7200)), Door::Open);
        assert_eq!(window.at(start.plus_seconds(12 * 3600 - 1)), Door::Open);
        assert_eq!(window.at(start.plus_seconds(12 * 3600)), Door::Closed);
        let ends = CheckInWindow::of(start, Some(start.plus_seconds(3600)), 0);
        assert_eq!(ends.at(start.plus_seconds(3600)), Door::Closed);
        assert_eq!(ends.at(start), Door::Open);
    }
}
