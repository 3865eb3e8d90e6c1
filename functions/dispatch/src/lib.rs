//! The dispatch function: the one road for side effects. It reads the table's stream (an event
//! source mapping on AWS; locally `local::stream` reads DynamoDB Local's stream the same way) and
//! does what each change leaves to do (see `shared::store::changes`): emails through SES,
//! webhooks to organizers' endpoints (see [`webhooks`]), an edit's follow-up, an event
//! deletion's clean-up. On a schedule, it also makes the webhook attempts that are due again.
//!
//! Every effect is idempotent, so a record delivered twice does nothing twice: an email is sent
//! only by whoever claims its delivery record first (`shared::store::outbox`), whose id comes
//! from what caused it; the follow-ups are idempotent steps. A record that fails for a reason
//! that passes (storage or SES unreachable, throttled) is reported as the batch's first failure
//! (`ReportBatchItemFailures`), and the stream hands it, and every record after it in its shard,
//! to a later invocation: nothing is skipped, and order within an item's shard is kept. What can
//! never succeed (an email SES refuses, a record that cannot be read) is logged, counted and
//! set aside, so that it does not hold up the records behind it for the stream's 24 hours.

pub mod webhooks;

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord as StreamRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::{Value, json};
use shared::auth::Tokens;
use shared::config::Config;
use shared::domain::webhook::WebhookEvent;
use shared::domain::{Id, Instant};
use shared::mail::{Notice, Recipient, compose};
use shared::records::DeliveryRecord;
use shared::records::{
    EventRecord, FeedbackRecord, NotificationKind, RegistrationRecord, RegistrationStatus,
};
use shared::store::changes::Change;
use shared::store::event_deletion::PendingEventDeletion;
use shared::store::event_edits::PendingEdit;
use shared::store::outbox::Claim;
use shared::store::ses::{Mailer, SendError};
use shared::store::{Store, StoreError, unix_millis_now};
use shared::telemetry::metrics;
use shared::views::EventView;
use webhooks::sender::NameOverrides;
use webhooks::{Message, RetryRun, Webhooks};

/// The logical id of this function in `template.yaml`.
pub const FUNCTION: &str = "DispatchFunction";

/// The time an invocation has (the function's `Timeout` in `template.yaml`).
pub const INVOCATION_TIME: std::time::Duration = std::time::Duration::from_secs(30);
/// Kept back from an invocation's time, to answer in.
const ANSWER_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// Why a record could not be finished now; it is retried.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("another sender is sending delivery {0}")]
    InFlight(String),
    #[error(transparent)]
    Send(SendError),
}

/// Email through SES, when configured.
struct Email {
    mailer: Mailer,
    api_url: String,
}

/// What a dispatch needs: the table, the keys that sign unsubscribe links, SES, and the webhook
/// sender.
pub struct Dispatcher {
    store: Store,
    tokens: Arc<Tokens>,
    email: Option<Email>,
    webhooks: Webhooks,
}

impl Dispatcher {
    /// Built from the settings (no network traffic, as for every function's Init).
    pub async fn new(config: &Config) -> Self {
        let state = shared::AppState::new(config).await;
        let email = config.email.as_ref().map(|settings| Email {
            mailer: Mailer::new(settings.from.clone(), settings.ses_endpoint.clone()),
            api_url: settings.public_api_url.clone(),
        });
        let webhooks = Webhooks::new(config.webhook_targets, NameOverrides::new());
        Dispatcher { store: state.store, tokens: state.tokens, email, webhooks }
    }

    /// The same dispatcher, resolving the names in `overrides` to their addresses rather than
    /// through DNS (tests cannot change the machine's DNS); the target policy applies as ever.
    pub fn with_name_overrides(mut self, overrides: NameOverrides) -> Self {
        self.webhooks = self.webhooks.with_name_overrides(overrides);
        self
    }

    /// [`Dispatcher::handle_within`] the time an invocation has.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        self.handle_within(event, INVOCATION_TIME).await
    }

    /// Does what each record of `event` leaves to do, in order, and stops at the first that
    /// fails: it is reported, and it and the records after it come again. The first attempts of
    /// the webhook deliveries the batch recorded are made last, all at once, those there is time
    /// for within `time_left`: a slow endpoint holds up nothing else, and a failed attempt (or
    /// one not made) is retried on its own schedule.
    pub async fn handle_within(&self, event: Event, time_left: std::time::Duration) -> DynamoDbEventResponse {
        let stop_at = std::time::Instant::now() + time_left.saturating_sub(ANSWER_TIME);
        let mut response = DynamoDbEventResponse::default();
        let mut first_attempts = Vec::new();
        for record in event.records {
            if let Err(e) = Box::pin(self.apply(&record, &mut first_attempts)).await {
                let id = record.change.sequence_number.clone();
                tracing::warn!(error = %e, sequence_number = ?id, "a change will be retried");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
                break;
            }
        }
        // Boxed: the attempts' future is deep, and nests inside every caller's.
        Box::pin(self.webhooks.attempt_all(&self.store, first_attempts, stop_at)).await;
        response
    }

    /// One invocation: a batch of the table's stream (the event source mapping), or anything
    /// else, which is the schedule's call (an EventBridge scheduled event) to make the webhook
    /// attempts due, within the `time_left` of the invocation (less a margin to answer in).
    pub async fn invoke(&self, payload: Value, time_left: std::time::Duration) -> Result<Value, StoreError> {
        if payload.get("Records").is_some() {
            let event: Event = serde_json::from_value(payload)
                .map_err(|e| StoreError::Internal(format!("a stream batch that cannot be read: {e}")))?;
            let response = self.handle_within(event, time_left).await;
            return serde_json::to_value(response).map_err(|e| StoreError::Internal(e.to_string()));
        }
        let budget = time_left.saturating_sub(ANSWER_TIME);
        let run = self.retry_webhooks(unix_millis_now(), budget).await?;
        tracing::info!(attempted = run.attempted, delivered = run.delivered, "webhook retries made");
        Ok(json!({"attempted": run.attempted, "delivered": run.delivered}))
    }

    /// Makes every webhook attempt due by `now_ms`, for at most `budget` (the scheduled run).
    pub async fn retry_webhooks(
        &self,
        now_ms: u64,
        budget: std::time::Duration,
    ) -> Result<RetryRun, StoreError> {
        Box::pin(self.webhooks.retry_due(&self.store, now_ms, budget)).await
    }

    async fn apply(
        &self,
        record: &StreamRecord,
        first_attempts: &mut Vec<DeliveryRecord>,
    ) -> Result<(), DispatchError> {
        let changed_ms = u64::try_from(record.change.approximate_creation_date_time.timestamp_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .unwrap_or_else(unix_millis_now);
        let change = match Change::of_stream_record(record) {
            Ok(change) => change,
            Err(e) => {
                // Retrying cannot make it readable.
                tracing::error!(error = %e, sequence_number = ?record.change.sequence_number, "a change that cannot be read is set aside");
                metrics::count(metrics::CHANGES_UNREADABLE, 1);
                return Ok(());
            }
        };
        match change {
            Change::Registered(registration) => {
                let occurred_ms = registration.created_at.unix_millis();
                self.tell_of_registration(&registration, WebhookEvent::RegistrationCreated, occurred_ms)
                    .await?;
                let id = format!("registered-{}-{}", registration.event_id, registration.seq);
                // Told only of the registration as it still is: not one cancelled since, and not
                // a waitlist place already turned into a seat (the promotion has its own email).
                let current =
                    self.store.find_registration(registration.event_id, registration.user_id).await?;
                let unchanged =
                    current.is_some_and(|r| r.seq == registration.seq && r.status == registration.status);
                if !unchanged {
                    return Ok(());
                }
                let Some(event) = self.event_to_tell_of(registration.event_id).await? else { return Ok(()) };
                let notice = match registration.status {
                    RegistrationStatus::Confirmed => Notice::Confirmed(&event),
                    RegistrationStatus::Waitlisted => Notice::Waitlisted(&event),
                };
                self.email(registration.user_id, &id, notice).await
            }
            Change::Notified { user, notification } => {
                if notification.kind == NotificationKind::Promoted {
                    self.tell_of_promotion(
                        user,
                        notification.event_id,
                        notification.id,
                        notification.created_at,
                    )
                    .await?;
                }
                let id = format!("notice-{}", notification.id);
                let message = notification.message.as_str();
                if notification.kind == NotificationKind::EventDeleted {
                    return self.email(user, &id, Notice::Cancelled(message)).await;
                }
                let Some(event) = self.event_to_tell_of(notification.event_id).await? else { return Ok(()) };
                let notice = match notification.kind {
                    NotificationKind::Reminder => Notice::Reminder(&event),
                    NotificationKind::Promoted => Notice::Promoted(&event),
                    _ => Notice::Changed(&event, message),
                };
                self.email(user, &id, notice).await
            }
            Change::EditSaved(pending) => {
                self.tell_of_edit(&pending).await?;
                self.store.finish_edit(&pending).await?;
                Ok(())
            }
            Change::DeletionBegun(pending) => {
                self.tell_of_deletion(&pending).await?;
                self.store.resume_event_deletion(&pending).await?;
                Ok(())
            }
            Change::FeedbackPosted(feedback) => Ok(self.tell_of_feedback(&feedback).await?),
            Change::Unregistered(registration) => Ok(self
                .tell_of_registration(&registration, WebhookEvent::RegistrationCancelled, changed_ms)
                .await?),
            Change::WebhookRecorded(delivery) => {
                first_attempts.push(delivery);
                Ok(())
            }
            Change::Nothing => Ok(()),
        }
    }

    /// The event a webhook tells of, while it takes place (the deletion of an event tells of
    /// itself, not of each registration it takes).
    async fn live_event(&self, id: Id) -> Result<Option<EventRecord>, StoreError> {
        Ok(self.store.find_event(id).await?.filter(|event| !event.deleting))
    }

    async fn tell(
        &self,
        kind: WebhookEvent,
        organizer: Id,
        occurred_ms: u64,
        cause: &[&[u8]],
        data: Value,
    ) -> Result<(), StoreError> {
        let message = Message {
            kind,
            organizer,
            occurred_ms,
            cause: cause.iter().map(|part| part.to_vec()).collect(),
            data,
        };
        self.webhooks.tell(&self.store, message).await
    }

    async fn tell_of_registration(
        &self,
        registration: &RegistrationRecord,
        kind: WebhookEvent,
        occurred_ms: u64,
    ) -> Result<(), StoreError> {
        let Some(event) = self.live_event(registration.event_id).await? else { return Ok(()) };
        let data = json!({
            "event": event_summary(&event),
            "registration": {
                "user": {"id": registration.user_id, "username": registration.username},
                "status": registration.status,
                "created_at": registration.created_at,
            },
        });
        let cause = [registration.event_id.to_bytes(), registration.user_id.to_bytes()];
        self.tell(
            kind,
            event.organizer_id,
            occurred_ms,
            &[&cause[0], &cause[1], registration.seq.as_bytes()],
            data,
        )
        .await
    }

    async fn tell_of_promotion(
        &self,
        user: Id,
        event: Id,
        notice: Id,
        at: Instant,
    ) -> Result<(), StoreError> {
        let Some(event) = self.live_event(event).await? else { return Ok(()) };
        let username = match self.store.find_registration(event.id, user).await? {
            Some(registration) => Some(registration.username),
            None => self.store.find_user(user).await?.map(|user| user.username),
        };
        let data = json!({
            "event": event_summary(&event),
            "registration": {"user": {"id": user, "username": username}, "status": RegistrationStatus::Confirmed},
        });
        self.tell(
            WebhookEvent::RegistrationPromoted,
            event.organizer_id,
            at.unix_millis(),
            &[&notice.to_bytes()],
            data,
        )
        .await
    }

    async fn tell_of_edit(&self, pending: &PendingEdit) -> Result<(), StoreError> {
        let Some(event) = self.live_event(pending.event_id).await? else { return Ok(()) };
        let cause = [pending.event_id.to_bytes().to_vec(), pending.version.to_be_bytes().to_vec()];
        let data = json!({"event": EventView::from(event.clone()), "version": pending.version});
        self.tell(
            WebhookEvent::EventChanged,
            event.organizer_id,
            pending.edited_ms,
            &[&cause[0], &cause[1]],
            data,
        )
        .await
    }

    async fn tell_of_deletion(&self, pending: &PendingEventDeletion) -> Result<(), StoreError> {
        let Some(organizer) = pending.organizer_id else { return Ok(()) };
        let data = json!({"event": {"id": pending.event_id, "title": pending.title, "starts_at": pending.starts_at}});
        let cause = pending.event_id.to_bytes();
        self.tell(WebhookEvent::EventCancelled, organizer, pending.began_at.unix_millis(), &[&cause], data)
            .await
    }

    async fn tell_of_feedback(&self, feedback: &FeedbackRecord) -> Result<(), StoreError> {
        let Some(event) = self.live_event(feedback.event_id).await? else { return Ok(()) };
        let data = json!({
            "event": event_summary(&event),
            "feedback": {
                "id": feedback.id,
                "user": {"id": feedback.user_id, "username": feedback.username},
                "rating": feedback.rating,
                "comment": feedback.comment,
                "created_at": feedback.created_at,
            },
        });
        self.tell(
            WebhookEvent::FeedbackPosted,
            event.organizer_id,
            feedback.created_at.unix_millis(),
            &[&feedback.id.to_bytes()],
            data,
        )
        .await
    }

    /// The event an email would be about, if email is on and it still takes place (a deleted
    /// event's registrants are told of its cancellation instead).
    async fn event_to_tell_of(&self, event: Id) -> Result<Option<EventRecord>, DispatchError> {
        if self.email.is_none() {
            return Ok(None);
        }
        Ok(self.store.find_event(event).await?)
    }

    /// Sends `user` the email of `notice`, exactly once for `delivery`, unless they turned email
    /// off or are gone.
    async fn email(&self, user: Id, delivery: &str, notice: Notice<'_>) -> Result<(), DispatchError> {
        let Some(email) = &self.email else { return Ok(()) };
        let Some(user) = self.store.find_user(user).await? else { return Ok(()) };
        if !user.email_notifications {
            return Ok(());
        }
        let claimed_at = match self.store.claim_delivery(delivery, unix_millis_now()).await? {
            Claim::Ours(at) => at,
            Claim::Settled => return Ok(()),
            Claim::InFlight => return Err(DispatchError::InFlight(delivery.to_owned())),
        };
        let unsubscribe_url =
            format!("{}/email/unsubscribe/{}", email.api_url, self.tokens.unsubscribe_token(user.id));
        let recipient =
            Recipient { username: &user.username, email: &user.email, unsubscribe_url: &unsubscribe_url };
        let outgoing = match compose(&notice, &recipient, &email.api_url, Instant::now()) {
            Ok(outgoing) => outgoing,
            Err(e) => return self.set_aside(delivery, claimed_at, &format!("composing it: {e}")).await,
        };
        match email.mailer.send(&outgoing).await {
            Ok(message_id) => {
                metrics::count(metrics::EMAILS_SENT, 1);
                self.mark_sent(delivery, claimed_at, &message_id).await;
                Ok(())
            }
            Err(SendError::Refused(reason)) => self.set_aside(delivery, claimed_at, &reason).await,
            Err(e @ (SendError::NotSent(_) | SendError::Busy(_) | SendError::Build(_))) => {
                self.store.give_back(delivery, claimed_at).await?;
                Err(DispatchError::Send(e))
            }
            // SES may have taken it: the claim stands, and only once it is stale is the email
            // sent again (see `shared::store::outbox`).
            Err(e @ SendError::Unknown(_)) => Err(DispatchError::Send(e)),
        }
    }

    /// Marks a sent email's delivery. The email is out, so a failure here fails nothing: it is
    /// tried three times, then logged (a redelivered record would find the claim stale and send
    /// again, the one duplicate left).
    async fn mark_sent(&self, delivery: &str, claimed_at: u64, message_id: &str) {
        for attempt in 1..=3 {
            match self.store.delivered(delivery, claimed_at, message_id).await {
                Ok(()) => return,
                Err(e) if attempt == 3 => {
                    tracing::warn!(error = %e, delivery, "a sent email is not marked sent")
                }
                Err(_) => {}
            }
        }
    }

    /// An email that can never be sent (SES refuses it): recorded as undeliverable, logged and
    /// counted, and the records behind it go on.
    async fn set_aside(&self, delivery: &str, claimed_at: u64, reason: &str) -> Result<(), DispatchError> {
        tracing::error!(delivery, reason, "an email cannot be delivered");
        metrics::count(metrics::EMAILS_UNDELIVERABLE, 1);
        self.store.undeliverable(delivery, claimed_at, reason).await?;
        Ok(())
    }
}

/// How a webhook names the event a registration or feedback belongs to.
fn event_summary(event: &EventRecord) -> Value {
    json!({"id": event.id, "title": event.title, "starts_at": event.starts_at})
}
