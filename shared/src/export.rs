//! The attendee list as CSV (RFC 4180): a header row, then one row per registration, each line
//! ended by CRLF, every cell quoted when it holds a comma, a quote or a line break.
//!
//! A spreadsheet that opens the file runs a cell beginning with `=`, `+`, `-` or `@` (or a tab or
//! carriage return before one) as a formula, and attendees choose their own usernames and email
//! addresses: such a cell is written with a leading `'`, which spreadsheets show as text (the
//! OWASP advice on CSV injection).

use crate::records::RegistrationStatus;
use crate::store::registrations::Placed;

/// The header row.
pub const HEADER: &str = "username,email,status,waitlist_position,registered_at,checked_in_at\r\n";

/// The row of one registration, whose user's email is `email` (empty when the account is gone).
pub fn row(placed: &Placed, email: &str) -> String {
    let registration = &placed.registration;
    let status = match registration.status {
        RegistrationStatus::Confirmed => "confirmed",
        RegistrationStatus::Waitlisted => "waitlisted",
    };
    let cells = [
        registration.username.clone(),
        email.to_owned(),
        status.to_owned(),
        placed.waitlist_position.map(|p| p.to_string()).unwrap_or_default(),
        registration.created_at.to_string(),
        registration.ticket.checked_in_at.map(|at| at.to_string()).unwrap_or_default(),
    ];
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// One cell: neutralized if a spreadsheet would run it, then quoted if it must be.
pub fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_when_they_must_be() {
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralized() {
        assert_eq!(cell("=1+2"), "'=1+2");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-bob"), "'-bob");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\r=x"), "\"'\r=x\"");
        assert_eq!(cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(cell("a=b"), "a=b", "only a leading character matters");
    }
}
