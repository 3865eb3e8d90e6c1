//! The body that registers a webhook endpoint.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::config::TargetPolicy;
use crate::domain::webhook::{WebhookEvent, WebhookUrl, parse_event_list};
use crate::http::fields::{Fields, checked, text};
use crate::http::problem::ApiError;

/// Body of `POST /users/me/webhooks`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"url": "https://hooks.example.com/events", "events": ["registration.created", "event.changed"]})))]
pub struct CreateWebhook {
    /// Where deliveries are posted. On AWS: `https://`, to a public host (no IP address or name
    /// of a loopback, private or link-local network, checked again after DNS on every delivery),
    /// with no user name, password or `#fragment`. Locally (`make run`), `http://` and loopback
    /// are allowed.
    #[schema(value_type = String, format = "uri", max_length = 2048, pattern = "^https?://")]
    pub url: WebhookUrl,
    /// The event types to deliver: at least one, each once.
    #[schema(min_items = 1, max_items = 6)]
    pub events: Vec<WebhookEvent>,
}

impl CreateWebhook {
    pub const FIELDS: &[&str] = &["url", "events"];

    /// Reads the body, with the URL held to `policy` (where deliveries may go).
    pub fn read(body: Map<String, Value>, policy: TargetPolicy) -> Result<CreateWebhook, ApiError> {
        let mut fields = Fields::new(body, Self::FIELDS);
        let url = fields.required("url", text(|raw| WebhookUrl::parse(raw, policy)));
        let events = fields.required("events", |v| strings(v).and_then(|names| parse_event_list(&names)));
        fields.finish()?;
        Ok(CreateWebhook { url: checked(url)?, events: checked(events)? })
    }
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else { return Err("must be an array of event types".to_owned()) };
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| "must be an array of event types".to_owned())
        })
        .collect()
}
