//! The settings the functions' other AWS clients (Secrets Manager, SES) share with DynamoDB's:
//! the HTTPS client with compiled-in roots (see [`super::trust`]), a 1 s connect timeout and the
//! caller's bound on each call; locally (`endpoint` set) fixed dummy credentials and region, so
//! nothing is looked up on the network, and the header that names the acting function (see
//! [`super::role`]).

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};

use super::trust;

/// The shared configuration, for a stand-in at `endpoint` or for AWS (`None`).
pub(crate) async fn client_config(endpoint: Option<&str>, timeout: Duration) -> aws_config::SdkConfig {
    let http = trust::http_client(endpoint).expect("a TLS context of compiled-in certificates builds");
    let timeouts =
        TimeoutConfig::builder().connect_timeout(Duration::from_secs(1)).operation_timeout(timeout).build();
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts);
    let loader = match endpoint {
        Some(endpoint) => loader
            .region(Region::from_static("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "static"))
            .endpoint_url(endpoint),
        None => loader,
    };
    loader.load().await
}
