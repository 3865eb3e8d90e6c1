//! Amazon SES (API v2), through which the dispatch function sends email. Locally the same client
//! talks to the SES stand-in (the npm package `aws-ses-v2-local`) at `SES_ENDPOINT`. The client is
//! built on first use.

use std::time::Duration;

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Attachment, Body, Content, Destination, EmailContent, Message, MessageHeader};
use tokio::sync::OnceCell;

use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};

use super::error::StoreError;
use super::{aws, role};

/// One email, ready to send.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers (`List-Unsubscribe`, ...).
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<EmailAttachment>,
}

#[derive(Clone, Debug)]
pub struct EmailAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// How long one send may take, retries included: an email with its attachment is larger than a
/// DynamoDB call, and a send cut short by a timeout may still have been accepted (which is why it
/// is not given back; see `dispatch`).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an email was not sent, as far as the sender can tell.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// SES never got the request (no connection): nothing was sent; try again.
    #[error("SES was not reached: {0}")]
    NotSent(String),
    /// SES answered that it is busy or failing: nothing was sent; try again.
    #[error("SES is throttling or failing: {0}")]
    Busy(String),
    /// SES refused this email (a rejected address or content, an identity not allowed to send):
    /// sending it again would be refused again.
    #[error("SES refused the email: {0}")]
    Refused(String),
    /// No answer in time, or one that could not be read: SES may have accepted it.
    #[error("SES's answer is unknown: {0}")]
    Unknown(String),
    #[error(transparent)]
    Build(#[from] StoreError),
}

/// SES's codes for trouble on its side or too many sends, worth retrying.
const BUSY_CODES: &[&str] = &[
    "TooManyRequestsException",
    "LimitExceededException",
    "InternalFailure",
    "ServiceUnavailable",
    "Throttling",
];

fn send_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> SendError {
    let text = format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(&e));
    match &e {
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => SendError::NotSent(text),
        SdkError::ServiceError(service) if BUSY_CODES.contains(&service.err().code().unwrap_or_default()) => {
            SendError::Busy(text)
        }
        SdkError::ServiceError(_) => SendError::Refused(text),
        _ => SendError::Unknown(text),
    }
}

/// An SES client sending from one address.
pub struct Mailer {
    from: String,
    endpoint: Option<String>,
    client: OnceCell<Client>,
}

impl Mailer {
    pub fn new(from: String, endpoint: Option<String>) -> Self {
        Mailer { from, endpoint, client: OnceCell::new() }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let shared = aws::client_config(self.endpoint.as_deref(), SEND_TIMEOUT).await;
                let mut config = aws_sdk_sesv2::config::Builder::from(&shared);
                if self.endpoint.is_some() {
                    config = config.interceptor(role::RoleHeader);
                }
                Client::from_conf(config.build())
            })
            .await
    }

    /// Sends `email`; answers SES's message id.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let content = |text: &str| {
            Content::builder()
                .data(text)
                .charset("UTF-8")
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))
        };
        let mut message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build());
        for (name, value) in &email.headers {
            message = message.headers(
                MessageHeader::builder()
                    .name(name)
                    .value(value)
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            );
        }
        for attachment in &email.attachments {
            message = message.attachments(
                Attachment::builder()
                    .file_name(&attachment.file_name)
                    .content_type(&attachment.content_type)
                    .raw_content(Blob::new(attachment.bytes.clone()))
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            );
        }
        let sent = self
            .client()
            .await
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .send()
            .await
            .map_err(send_error)?;
        Ok(sent.message_id.unwrap_or_default())
    }
}
