//! One Secrets Manager stand-in (moto's server) for the whole test run, shared by every test as
//! DynamoDB Local is (see `dynamodb_local`): each test app keeps its signing key in a secret of
//! its own. `TEST_SECRETS_MANAGER_ENDPOINT` points the run at one already running instead.

use std::sync::OnceLock;

use ::dynamodb_local::SecretsManagerLocal;

static LOCAL: OnceLock<Result<SecretsManagerLocal, String>> = OnceLock::new();

/// The endpoint of the run's stand-in, started on first use.
pub fn endpoint() -> String {
    if let Ok(endpoint) = std::env::var("TEST_SECRETS_MANAGER_ENDPOINT") {
        return endpoint;
    }
    match LOCAL.get_or_init(SecretsManagerLocal::start) {
        Ok(local) => local.endpoint.clone(),
        Err(e) => panic!("{e}"),
    }
}
