//! The HTTP client of webhook deliveries, and the checks that keep it off private networks.
//!
//! Every name is resolved on every delivery by [`GuardedResolver`], and only the addresses the
//! target policy allows are handed to the connector: the connection goes to an address that was
//! checked, whatever the name resolves to a moment later (DNS rebinding). A URL naming an IP
//! address is checked before the request, as it is never resolved. Redirects are not followed
//! (a redirect could lead anywhere), and no proxy is used.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use shared::config::TargetPolicy;
use shared::domain::webhook::WebhookUrl;

/// The longest one attempt may take, connection included: a receiver is expected to answer at
/// once and do its work later.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The headers of one signed message.
pub struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
}

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The endpoint answered with this status.
    Status(u16),
    /// No answer: why.
    Failed(String),
}

/// Names resolved to fixed addresses instead of through DNS (for tests, which cannot change the
/// machine's DNS): the same checks apply to them.
pub type NameOverrides = HashMap<String, Vec<IpAddr>>;

/// Resolves a name and keeps the addresses the policy allows; none left is an error.
#[derive(Clone)]
struct GuardedResolver {
    policy: TargetPolicy,
    overrides: Arc<NameOverrides>,
}

/// A target refused after resolution.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private, loopback or link-local addresses")]
struct Refused(String);

type Resolving = Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl GuardedResolver {
    async fn resolve(self, host: String) -> Result<std::vec::IntoIter<SocketAddr>, std::io::Error> {
        let found: Vec<SocketAddr> = match self.overrides.get(&host) {
            Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
            None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
        };
        let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| self.policy.allows(a.ip())).collect();
        if allowed.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, Refused(host)));
        }
        Ok(allowed.into_iter())
    }
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(self.clone().resolve(name.as_str().to_owned()))
    }
}

/// Posts signed messages to endpoints.
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    policy: TargetPolicy,
}

impl Sender {
    pub fn new(policy: TargetPolicy, overrides: NameOverrides) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http =
            HttpConnector::new_with_resolver(GuardedResolver { policy, overrides: Arc::new(overrides) });
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Sender { client: Client::builder(TokioExecutor::new()).build(https), policy }
    }

    /// Posts `body` to `url` with the Standard Webhooks headers of `signed`.
    pub async fn post(&self, url: &str, signed: &Signed<'_>, body: &str) -> Answer {
        // Checked again: the policy may be stricter than when the endpoint was made, and an IP
        // address in the URL never passes through the resolver.
        if let Err(why) = WebhookUrl::parse(url, self.policy) {
            return Answer::Failed(format!("the URL is refused: it {why}"));
        }
        let request = http::Request::post(url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("events-api-webhooks/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", signed.id)
            .header("webhook-timestamp", signed.timestamp.to_string())
            .header("webhook-signature", signed.signature)
            .body(Full::new(Bytes::from(body.to_owned())));
        let request = match request {
            Ok(request) => request,
            Err(e) => return Answer::Failed(format!("the request cannot be made: {e}")),
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.client.request(request)).await {
            Err(_) => Answer::Failed(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
            Ok(Err(e)) => Answer::Failed(describe(&e)),
            // The body is not read: only the status counts, and dropping it closes the stream.
            Ok(Ok(response)) => Answer::Status(response.status().as_u16()),
        }
    }
}

/// An error as the log shows it: the refusal of a private address when that was it, else the
/// innermost cause (DNS failure, refused connection, TLS), which says what went wrong.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current: &(dyn std::error::Error + 'static) = error;
    loop {
        if let Some(refused) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|e| e.downcast_ref::<Refused>())
        {
            return refused.to_string();
        }
        match current.source() {
            Some(inner) => current = inner,
            None => break,
        }
    }
    let text = current.to_string();
    let text = if text.is_empty() { error.to_string() } else { text };
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(name: &str, ips: &[&str]) -> Arc<NameOverrides> {
        Arc::new(NameOverrides::from([(name.to_owned(), ips.iter().map(|ip| ip.parse().unwrap()).collect())]))
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_on_aws_and_allowed_locally() {
        let names = overrides("hooks.example.com", &["127.0.0.1"]);
        let guarded = GuardedResolver { policy: TargetPolicy::PublicHttps, overrides: names.clone() };
        let error = guarded.resolve("hooks.example.com".to_owned()).await.expect_err("refused");
        let described = describe(&error);
        assert!(described.contains("private, loopback or link-local"), "{described}");
        let local = GuardedResolver { policy: TargetPolicy::Any, overrides: names };
        let addresses: Vec<_> = local.resolve("hooks.example.com".to_owned()).await.unwrap().collect();
        assert_eq!(addresses, vec!["127.0.0.1:0".parse().unwrap()]);
    }

    #[tokio::test]
    async fn of_a_name_only_its_public_addresses_are_used() {
        let names = overrides("mixed.example.com", &["10.0.0.7", "93.184.215.14"]);
        let guarded = GuardedResolver { policy: TargetPolicy::PublicHttps, overrides: names };
        let addresses: Vec<_> = guarded.resolve("mixed.example.com".to_owned()).await.unwrap().collect();
        assert_eq!(addresses, vec!["93.184.215.14:0".parse().unwrap()]);
    }

    #[tokio::test]
    async fn an_ip_address_in_the_url_is_refused_before_any_request() {
        let sender = Sender::new(TargetPolicy::PublicHttps, NameOverrides::new());
        let signed = Signed { id: "msg_1", timestamp: 0, signature: "v1,x" };
        let answer = sender.post("https://169.254.169.254/latest/meta-data", &signed, "{}").await;
        assert!(matches!(&answer, Answer::Failed(why) if why.contains("refused")), "{answer:?}");
    }
}
