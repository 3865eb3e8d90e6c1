//! The dispatch function: the one road for side effects. It reads the table's stream (an event
//! source mapping on AWS; locally `local::stream` reads DynamoDB Local's stream the same way) and
//! does what each change leaves to do (see `shared::store::changes`): emails through SES, an
//! edit's follow-up, an event deletion's clean-up.
//!
//! Every effect is idempotent, so a record delivered twice does nothing twice: an email is sent
//! only by whoever claims its delivery record first (`shared::store::outbox`), whose id comes
//! from what caused it; the follow-ups are idempotent steps. A record that fails for a reason
//! that passes (storage or SES unreachable, throttled) is reported as the batch's first failure
//! (`ReportBatchItemFailures`), and the stream hands it, and every record after it in its shard,
//! to a later invocation: nothing is skipped, and order within an item's shard is kept. What can
//! never succeed (an email SES refuses, a record that cannot be read) is logged, counted and
//! set aside, so that it does not hold up the records behind it for the stream's 24 hours.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord as StreamRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::auth::Tokens;
use shared::config::Config;
use shared::domain::{Id, Instant};
use shared::mail::{Notice, Recipient, compose};
use shared::store::changes::Change;
use shared::store::items::{EventRecord, NotificationKind, RegistrationStatus};
use shared::store::outbox::Claim;
use shared::store::ses::{Mailer, SendError};
use shared::store::{Store, StoreError, unix_millis_now};
use shared::telemetry::metrics;

/// The logical id of this function in `template.yaml`.
pub const FUNCTION: &str = "DispatchFunction";

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

/// What a dispatch needs: the table, the keys that sign unsubscribe links, and SES.
pub struct Dispatcher {
    store: Store,
    tokens: Arc<Tokens>,
    email: Option<Email>,
}

impl Dispatcher {
    /// Built from the settings (no network traffic, as for every function's Init).
    pub async fn new(config: &Config) -> Self {
        let state = shared::AppState::new(config).await;
        let email = config.email.as_ref().map(|settings| Email {
            mailer: Mailer::new(settings.from.clone(), settings.ses_endpoint.clone()),
            api_url: settings.public_api_url.clone(),
        });
        Dispatcher { store: state.store, tokens: state.tokens, email }
    }

    /// Does what each record of `event` leaves to do, in order, and stops at the first that
    /// fails: it is reported, and it and the records after it come again.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for record in event.records {
            if let Err(e) = self.apply(&record).await {
                let id = record.change.sequence_number.clone();
                tracing::warn!(error = %e, sequence_number = ?id, "a change will be retried");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
                break;
            }
        }
        response
    }

    async fn apply(&self, record: &StreamRecord) -> Result<(), DispatchError> {
        let image = (!record.change.new_image.is_empty()).then(|| record.change.new_image.clone().into());
        let change = match Change::of(&record.event_name, image) {
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
                self.store.finish_edit(&pending).await?;
                Ok(())
            }
            Change::DeletionBegun(pending) => {
                self.store.resume_event_deletion(&pending).await?;
                Ok(())
            }
            Change::Nothing => Ok(()),
        }
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
