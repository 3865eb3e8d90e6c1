//! The emails the dispatch function sends, composed from the templates in `templates/mail/`
//! (a plain-text part and an HTML part; askama escapes every value in the HTML one). Each email
//! carries a one-click unsubscribe link (RFC 8058: `List-Unsubscribe` with
//! `List-Unsubscribe-Post`), and those about an event that still takes place carry it as an
//! `.ics` attachment.

use askama::Template;

use crate::calendar::event_calendar;
use crate::domain::Instant;
use crate::records::EventRecord;
use crate::store::ses::{EmailAttachment, OutgoingEmail};

/// What happened, that a person is told by email.
pub enum Notice<'a> {
    /// Their registration took a seat.
    Confirmed(&'a EventRecord),
    /// Their registration joined the waitlist.
    Waitlisted(&'a EventRecord),
    /// A seat came free and is theirs.
    Promoted(&'a EventRecord),
    /// The event starts within a day.
    Reminder(&'a EventRecord),
    /// The event's time or place changed; `what` says how.
    Changed(&'a EventRecord, &'a str),
    /// The event will not take place; `what` says which (the event itself is gone).
    Cancelled(&'a str),
}

/// Who the email is for, and the links it carries.
pub struct Recipient<'a> {
    pub username: &'a str,
    pub email: &'a str,
    /// The one-click unsubscribe address.
    pub unsubscribe_url: &'a str,
}

struct EventLines {
    title: String,
    when: String,
    location: String,
    url: String,
}

/// What both parts of an email show.
struct Message<'a> {
    subject: &'a str,
    username: &'a str,
    paragraphs: &'a [String],
    event: Option<&'a EventLines>,
    attached_calendar: bool,
    unsubscribe_url: &'a str,
}

/// The plain-text part.
#[derive(Template)]
#[template(path = "mail/message.txt", escape = "none")]
struct TextPart<'a> {
    message: &'a Message<'a>,
}

/// The HTML part, escaped.
#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    message: &'a Message<'a>,
}

/// The event's start in its own time zone, as a person reads it.
fn when(event: &EventRecord) -> String {
    let format = "%A %-d %B %Y, %H:%M";
    match event.timezone.parse::<chrono_tz::Tz>() {
        Ok(zone) => {
            format!("{} ({})", event.starts_at.utc().with_timezone(&zone).format(format), event.timezone)
        }
        Err(_) => format!("{} (UTC)", event.starts_at.utc().format(format)),
    }
}

/// `text` on one line (every run of whitespace or control characters one space) and at most
/// `limit` characters: what people wrote, made fit for a header such as the subject.
fn one_line(text: &str, limit: usize) -> String {
    let words: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let line = words.join(" ");
    match line.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

impl<'a> Notice<'a> {
    /// The event the email is about, if it still takes place.
    fn event(&self) -> Option<&'a EventRecord> {
        match *self {
            Notice::Confirmed(event)
            | Notice::Waitlisted(event)
            | Notice::Promoted(event)
            | Notice::Reminder(event)
            | Notice::Changed(event, _) => Some(event),
            Notice::Cancelled(_) => None,
        }
    }

    fn subject(&self) -> String {
        match self {
            Notice::Confirmed(event) => format!("You're registered: {}", event.title),
            Notice::Waitlisted(event) => format!("You're on the waitlist: {}", event.title),
            Notice::Promoted(event) => format!("A seat came free: you're registered for {}", event.title),
            Notice::Reminder(event) => format!("Reminder: {} starts soon", event.title),
            Notice::Changed(event, _) => format!("Changed: {}", event.title),
            Notice::Cancelled(_) => "An event you registered for is cancelled".to_owned(),
        }
    }

    /// What the email says, before the event's details.
    fn paragraphs(&self) -> Vec<String> {
        let fixed: &[&str] = match self {
            Notice::Confirmed(_) => &["Your registration is confirmed: you have a seat."],
            Notice::Waitlisted(_) => &[
                "The event is full, so you are on its waitlist.",
                "If a seat comes free, it is yours in the order people joined, and we will email you.",
            ],
            Notice::Promoted(_) => &["A seat came free and it is now yours: your registration is confirmed."],
            Notice::Reminder(_) => {
                &["This is a reminder that an event you registered for starts within a day."]
            }
            Notice::Changed(_, what) => &[what, "The details below are the event as it is now."],
            Notice::Cancelled(what) => &[what, "It was cancelled by its organizer."],
        };
        fixed.iter().map(|line| (*line).to_owned()).collect()
    }
}

/// The email telling `to` of `notice`; links point at `api_url`.
pub fn compose(
    notice: &Notice,
    to: &Recipient,
    api_url: &str,
    now: Instant,
) -> Result<OutgoingEmail, askama::Error> {
    let (subject, paragraphs, event) = (notice.subject(), notice.paragraphs(), notice.event());
    let subject = one_line(&subject, 150);
    let lines = event.map(|event| EventLines {
        title: event.title.clone(),
        when: when(event),
        location: event.location.clone(),
        url: format!("{api_url}/events/{}", event.id),
    });
    let message = Message {
        subject: &subject,
        username: to.username,
        paragraphs: &paragraphs,
        event: lines.as_ref(),
        attached_calendar: event.is_some(),
        unsubscribe_url: to.unsubscribe_url,
    };
    let text = TextPart { message: &message }.render()?;
    let html = HtmlPart { message: &message }.render()?;
    let attachments = event
        .map(|event| EmailAttachment {
            file_name: "event.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            bytes: event_calendar(event, api_url, now).into_bytes(),
        })
        .into_iter()
        .collect();
    Ok(OutgoingEmail {
        to: to.email.to_owned(),
        subject,
        text,
        html,
        headers: vec![
            ("List-Unsubscribe".into(), format!("<{}>", to.unsubscribe_url)),
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
        ],
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line_of_bounded_length() {
        assert_eq!(
            one_line("Rust\r\nBcc: everyone@example.com\tnight", 100),
            "Rust Bcc: everyone@example.com night"
        );
        assert_eq!(one_line("  a  \u{7}b ", 100), "a b");
        let long = "é".repeat(300);
        assert_eq!(one_line(&long, 150).chars().count(), 151);
    }
}
