//! The bodies of feedback, the team and check-ins.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::access::TeamRole;
use crate::domain::text;
use crate::http::fields::{Fields, checked, integer, raw_string};
use crate::http::problem::ApiError;

/// The longest feedback comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Body of `POST /events/{id}/feedback`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"rating": 5, "comment": "Great talks"})))]
pub struct NewFeedback {
    #[schema(value_type = i64, minimum = 1, maximum = 5)]
    pub rating: u8,
    #[schema(schema_with = comment_schema)]
    pub comment: Option<String>,
}

impl NewFeedback {
    pub const FIELDS: &[&str] = &["rating", "comment"];

    pub fn read(body: Map<String, Value>) -> Result<NewFeedback, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let rating = fields.required("rating", integer(rating));
        let comment = fields.optional("comment", crate::http::fields::text(comment)).value().flatten();
        fields.finish()?;
        Ok(NewFeedback { rating: checked(rating)?, comment })
    }
}

fn rating(n: i64) -> Result<u8, String> {
    if (1..=5).contains(&n) { Ok(n as u8) } else { Err("must be a whole number from 1 to 5".into()) }
}

fn comment_schema() -> utoipa::openapi::schema::Object {
    super::values::nullable_text(MAX_COMMENT_CHARS, "Up to 2000 characters; empty or `null` means none.")
}

fn comment(raw: &str) -> Result<Option<String>, String> {
    text::bounded(raw, 0, MAX_COMMENT_CHARS).map(|c| Some(c).filter(|c| !c.is_empty()))
}

/// Body of `PUT /events/{id}/team/{username}`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"role": "door"})))]
pub struct TeamRoleBody {
    /// `cohost` runs the event with the organizer (all but deleting it and managing the team);
    /// `door` checks people in and reads the attendee list.
    pub role: TeamRole,
}

impl TeamRoleBody {
    pub const FIELDS: &[&str] = &["role"];

    pub fn read(body: Map<String, Value>) -> Result<TeamRoleBody, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let role = fields.required("role", crate::http::fields::text(TeamRole::parse));
        fields.finish()?;
        Ok(TeamRoleBody { role: checked(role)? })
    }
}

/// Body of `POST /events/{id}/checkins`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"code": "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"})))]
pub struct CheckInBody {
    /// The ticket's code, as its QR holds it (any case; spaces around it are ignored). A string
    /// that is no ticket's code of this event is a 404.
    pub code: String,
}

impl CheckInBody {
    pub const FIELDS: &[&str] = &["code"];

    pub fn read(body: Map<String, Value>) -> Result<CheckInBody, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let code = fields.required("code", raw_string);
        fields.finish()?;
        Ok(CheckInBody { code: checked(code)? })
    }
}
