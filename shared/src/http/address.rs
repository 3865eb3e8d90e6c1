//! The client address a request came from, for limits kept per address.
//!
//! On AWS it is API Gateway's `requestContext.http.sourceIp`: the address of the TCP connection
//! API Gateway accepted, which a client cannot choose, unlike an `X-Forwarded-For` header it
//! sends itself (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>).
//! Locally it is the peer of the connection (the server is started with connect info). Nothing a
//! client sends in the request is read.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

/// Who a per-address limit counts: an IPv4 address, or the /64 network of an IPv6 one (one
/// subscriber is routinely given a whole /64, so single IPv6 addresses would cost an attacker
/// nothing to change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(String);

impl ClientAddress {
    /// The address as counted; `unknown` when the request carried none (a misconfigured
    /// integration), so such requests share one limit rather than escaping it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientAddress(v4.to_string()),
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                ClientAddress(format!("{a:x}:{b:x}:{c:x}:{d:x}::/64"))
            }
        }
    }

    fn unknown() -> Self {
        ClientAddress("unknown".to_owned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.get::<RequestContext>() {
            let parsed = context.http.source_ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok());
            return Ok(parsed.map(ClientAddress::of).unwrap_or_else(ClientAddress::unknown));
        }
        Ok(match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => ClientAddress::of(peer.ip()),
            None => ClientAddress::unknown(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn address_of(request: Request<()>) -> String {
        let (mut parts, ()) = request.into_parts();
        ClientAddress::from_request_parts(&mut parts, &()).await.unwrap().0
    }

    fn api_gateway(source_ip: &str) -> RequestContext {
        let mut context = lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some(source_ip.to_owned());
        RequestContext::ApiGatewayV2(context)
    }

    #[tokio::test]
    async fn api_gateway_source_ip_wins_over_anything_the_client_sends() {
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9")
            .extension(api_gateway("198.51.100.7"))
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 443))))
            .body(())
            .unwrap();
        assert_eq!(address_of(request).await, "198.51.100.7");
    }

    #[tokio::test]
    async fn ipv6_counts_by_its_slash_64_and_mapped_ipv4_as_ipv4() {
        let v6 = Request::builder().extension(api_gateway("2001:db8:a:b:1:2:3:4")).body(()).unwrap();
        assert_eq!(address_of(v6).await, "2001:db8:a:b::/64");
        let mapped = Request::builder().extension(api_gateway("::ffff:192.0.2.1")).body(()).unwrap();
        assert_eq!(address_of(mapped).await, "192.0.2.1");
    }

    #[tokio::test]
    async fn the_peer_locally_and_unknown_without_either() {
        let local =
            Request::builder().extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 2], 5000)))).body(());
        assert_eq!(address_of(local.unwrap()).await, "127.0.0.2");
        assert_eq!(address_of(Request::new(())).await, "unknown");
        let garbled = Request::builder().extension(api_gateway("not an address")).body(()).unwrap();
        assert_eq!(address_of(garbled).await, "unknown");
    }
}
