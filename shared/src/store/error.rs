//! How DynamoDB failures become answers. Anything that says "the storage is not reachable or is
//! throttling us" is [`StoreError::Unavailable`] (503, `Retry-After`); conditional-check failures
//! are handled by each operation, which knows what its conditions mean.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Unreachable, timed out, throttled, or failing on its side: worth retrying later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A request we built was refused, or an item did not have the shape we wrote: a bug.
    #[error("storage error: {0}")]
    Internal(String),
    /// A create sent with an idempotency key was not made: a request with the same key was
    /// answered first (see `store::idempotency`).
    #[error("a request with the same idempotency key was answered first")]
    Repeated,
}

const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    // Secrets Manager's name for a failure on its side.
    "InternalServiceError",
    "ServiceUnavailable",
    "LimitExceededException",
    "TransactionInProgressException",
    "TransactionConflictException",
    // The table is missing or still being created: storage is not there yet.
    "ResourceNotFoundException",
];

/// Classifies an SDK error that the operation did not handle itself.
pub fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)))
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown");
            let message = service.err().message().unwrap_or("");
            if TRANSIENT_CODES.contains(&code) {
                StoreError::Unavailable(format!("{code}: {message}"))
            } else {
                StoreError::Internal(format!("{code}: {message}"))
            }
        }
        _ => StoreError::Internal(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))),
    }
}

/// Why a transaction was cancelled, item by item, in the order the items were given.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub reasons: Vec<CancellationReason>,
}

impl Cancelled {
    /// Whether the condition of item `index` failed.
    pub fn condition_failed(&self, index: usize) -> bool {
        self.code(index) == Some("ConditionalCheckFailed")
    }

    /// The reason code of item `index` (`None` when it took no part in the failure).
    pub fn code(&self, index: usize) -> Option<&str> {
        self.reasons.get(index).and_then(|r| r.code()).filter(|code| *code != "None")
    }

    /// Whether another write raced this one: safe to retry the whole transaction.
    pub fn is_conflict(&self) -> bool {
        self.reasons.iter().any(|r| {
            matches!(
                r.code(),
                Some("TransactionConflict") | Some("ThrottlingError") | Some("ProvisionedThroughputExceeded")
            )
        }) && !self.reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
    }

    /// The item as it was, for item `index` whose condition failed (when the transaction asked for it).
    pub fn old_item(
        &self,
        index: usize,
    ) -> Option<&std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.reasons.get(index).and_then(|r| r.item())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    #[test]
    fn reads_reasons_by_index() {
        let c = Cancelled { reasons: vec![reason("None"), reason("ConditionalCheckFailed")] };
        assert!(!c.condition_failed(0));
        assert!(c.condition_failed(1));
        assert_eq!(c.code(0), None);
        assert!(!c.condition_failed(7));
        assert!(!c.is_conflict());
    }

    #[test]
    fn only_pure_conflicts_are_retryable() {
        let c = Cancelled { reasons: vec![reason("None"), reason("TransactionConflict")] };
        assert!(c.is_conflict());
        let mixed =
            Cancelled { reasons: vec![reason("ConditionalCheckFailed"), reason("TransactionConflict")] };
        assert!(!mixed.is_conflict());
    }
}
