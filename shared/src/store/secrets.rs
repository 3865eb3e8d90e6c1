//! AWS Secrets Manager, where the users function reads the private key that signs access tokens
//! (`GetSecretValue`; the template creates the secret and grants that action to the users
//! function alone). Locally the same client talks to the stand-in that `make run` and the tests
//! start (moto's server), with `SECRETS_MANAGER_ENDPOINT` pointing at it.
//!
//! The client is built on first use, not at Init: a cold start that serves no log-in pays
//! nothing for it.

use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use tokio::sync::OnceCell;

use super::error::{StoreError, classify};
use super::{aws, role};

/// A Secrets Manager client, built when first needed.
pub struct Secrets {
    endpoint: Option<String>,
    timeout: Duration,
    client: OnceCell<Client>,
}

impl Secrets {
    /// Secrets Manager of the region (`endpoint` `None`), or a stand-in at `endpoint`; each call
    /// may take `timeout`, retries included.
    pub fn new(endpoint: Option<String>, timeout: Duration) -> Self {
        Secrets { endpoint, timeout, client: OnceCell::new() }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let shared = aws::client_config(self.endpoint.as_deref(), self.timeout).await;
                let mut config = aws_sdk_secretsmanager::config::Builder::from(&shared);
                if self.endpoint.is_some() {
                    config = config.interceptor(role::RoleHeader);
                }
                Client::from_conf(config.build())
            })
            .await
    }

    /// The current value of the secret `id` (a name or an ARN).
    pub async fn read(&self, id: &str) -> Result<String, StoreError> {
        let answer = self.client().await.get_secret_value().secret_id(id).send().await.map_err(classify)?;
        answer.secret_string.ok_or_else(|| StoreError::Internal(format!("the secret {id} holds no text")))
    }

    /// Creates the secret `id` holding `value` unless it exists (for a local run, which keeps its
    /// development key in the stand-in as AWS keeps the deployed one). An existing secret is left
    /// as it is.
    pub async fn create_unless_present(&self, id: &str, value: &str) -> Result<(), StoreError> {
        let created = self.client().await.create_secret().name(id).secret_string(value).send().await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}
