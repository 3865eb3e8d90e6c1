//! The HTTPS client the DynamoDB SDK talks through, and which certificate authorities it trusts.
//!
//! The SDK's default client reads the system's whole certificate store when the client is built:
//! on a cold start that is a file of a few hundred certificates to read and parse (or, with
//! `SSL_CERT_DIR` set, a hundred-odd files), before the first request can be served. DynamoDB's
//! endpoints present certificates from Amazon Trust Services, whose four roots (and the Starfield
//! root that cross-signs them) are compiled in here, so building the client touches no file and
//! parses five certificates. An `https://` endpoint override (`DYNAMODB_ENDPOINT`, or the SDK's
//! own `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`) may be anything (a private endpoint with
//! its own certificate): it gets the system's store, as the SDK would.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder, HttpClientError};

/// Amazon Root CA 1 to 4 and Starfield Services Root Certificate Authority - G2, as PEM.
const AMAZON_TRUST_SERVICES: &str = include_str!("amazon-trust-services.pem");

/// Whom the client trusts for a given endpoint (`None`: the AWS endpoint of the region).
fn trust_store(endpoint: Option<&str>) -> TrustStore {
    match endpoint {
        Some(url) if url.starts_with("https://") => TrustStore::default(),
        _ => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES.as_bytes()),
    }
}

/// The HTTP client for the SDK: built the way the SDK builds its default one (rustls with the
/// same crypto, each client's connector settings and sleep, proxies from `HTTPS_PROXY` and
/// `NO_PROXY`), except for whom it trusts: what [`trust_store`] says. Plain `http://` endpoints
/// (DynamoDB Local) use neither the trust store nor a proxy.
pub(super) fn http_client(endpoint: Option<&str>) -> Result<SharedHttpClient, HttpClientError> {
    let context = TlsContext::builder().with_trust_store(trust_store(endpoint)).build()?;
    let local = endpoint.is_some_and(|url| url.starts_with("http://"));
    Ok(Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(if local {
            ProxyConfig::disabled()
        } else {
            ProxyConfig::from_env()
        }));
        connector.build()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn the_compiled_in_roots_are_five_parsable_certificates() {
        let certificates = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("every certificate parses");
        assert_eq!(certificates.len(), 5);
        for certificate in &certificates {
            webpki::anchor_from_trusted_cert(certificate).expect("usable as a trust anchor");
        }
    }

    #[test]
    fn an_https_endpoint_is_trusted_through_the_system_store_and_aws_through_the_compiled_roots() {
        let system = format!("{:?}", trust_store(Some("https://dynamodb.internal.example")));
        let compiled = format!("{:?}", trust_store(None));
        let local = format!("{:?}", trust_store(Some("http://127.0.0.1:8000")));
        assert!(system.contains("enable_native_roots: true"), "{system}");
        assert!(compiled.contains("enable_native_roots: false"), "{compiled}");
        assert_eq!(local, compiled);
    }
}
