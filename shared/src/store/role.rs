//! Which function a DynamoDB call is made for, when several functions share one process.
//!
//! On AWS each function is its own process with its own IAM role, so there is nothing to say. The
//! local server and the API tests serve every function's router in one process with one client:
//! there, each router's work runs inside [`acting_as`], and the client (only when it talks to a
//! local endpoint) names the function in the `x-local-function` header of every request, so a
//! stand-in in front of DynamoDB Local can apply that function's policy from `template.yaml` as
//! IAM would (see `dynamodb-local/src/fidelity`).

use std::future::Future;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

/// The header that names the acting function.
pub const HEADER: &str = "x-local-function";

tokio::task_local! {
    static ACTING: &'static str;
}

/// Runs `work` as `function` (a logical id of `template.yaml`, such as `UsersFunction`).
pub async fn acting_as<F: Future>(function: &'static str, work: F) -> F::Output {
    ACTING.scope(function, work).await
}

/// The function the current task acts as, if one was named.
pub fn acting() -> Option<&'static str> {
    ACTING.try_with(|f| *f).ok()
}

/// Adds [`HEADER`] to each request made while acting as a function. Installed only for a local
/// endpoint: requests to AWS never carry it.
#[derive(Debug)]
pub(crate) struct RoleHeader;

impl Intercept for RoleHeader {
    fn name(&self) -> &'static str {
        "LocalFunctionRole"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(function) = acting() {
            context.request_mut().headers_mut().insert(HEADER, function);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_function_only_inside_its_scope() {
        assert_eq!(acting(), None);
        assert_eq!(acting_as("UsersFunction", async { acting() }).await, Some("UsersFunction"));
        assert_eq!(acting(), None);
    }
}
