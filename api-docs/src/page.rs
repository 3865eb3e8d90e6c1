//! `GET /openapi.json`, and the Swagger UI reference page at `GET /docs` with its assets at
//! `GET /docs/<asset>`. Swagger UI comes from the npm package `swagger-ui-dist` (pinned in
//! package-lock.json) and is embedded at build time, so the page needs no network beyond this
//! API: it loads only same-origin assets (its Content-Security-Policy says so) and
//! `/openapi.json`, whose relative `servers` entry makes "Try it out" call this same origin.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shared::http::ApiError;

macro_rules! swagger_ui {
    ($file:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../node_modules/swagger-ui-dist/", $file))
    };
}

/// One file under `/docs/`.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every file the page loads, and Swagger UI's licence notice.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: swagger_ui!("swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        bytes: swagger_ui!("swagger-ui.css"),
    },
    Asset {
        name: "swagger-ui-bundle.js.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: swagger_ui!("swagger-ui-bundle.js.LICENSE.txt"),
    },
    Asset { name: "favicon-32x32.png", content_type: "image/png", bytes: swagger_ui!("favicon-32x32.png") },
    Asset { name: "favicon-16x16.png", content_type: "image/png", bytes: swagger_ui!("favicon-16x16.png") },
    Asset {
        name: "docs.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/docs.js"),
    },
];

/// The page. Asset URLs are relative (`docs/...` from `/docs`) and carry the Swagger UI version
/// (`SWAGGER_UI_VERSION`, read from the package by build.rs), so browsers may cache them long and
/// still fetch new ones after an upgrade.
const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Event Management API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css?v="#,
    env!("SWAGGER_UI_VERSION"),
    r#"">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
<noscript>This page needs JavaScript; the raw document is at <a href="openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js?v="#,
    env!("SWAGGER_UI_VERSION"),
    r#""></script>
<script src="docs/docs.js?v="#,
    env!("CARGO_PKG_VERSION"),
    r#""></script>
</body>
</html>
"#
);

/// Only this origin: no CDN, no validator, no fonts from elsewhere. Swagger UI sets inline
/// styles, hence `'unsafe-inline'` for styles (never for scripts).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The routes of the document and the page, for any router state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(page))
        .route("/docs/{asset}", get(asset))
}

fn with_headers(body: impl IntoResponse, headers: &[(HeaderName, &'static str)]) -> Response {
    let mut response = body.into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn openapi_json() -> Response {
    with_headers(
        crate::json(),
        &[(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")],
    )
}

async fn page() -> Response {
    with_headers(
        PAGE,
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
    )
}

/// The asset named by the last path segment, compared as sent (no decoding: names are plain).
async fn asset(uri: Uri) -> Result<Response, ApiError> {
    let name = uri.path().strip_prefix("/docs/").unwrap_or_default();
    let asset = ASSETS.iter().find(|a| a.name == name).ok_or_else(|| ApiError::not_found("asset"))?;
    Ok(with_headers(
        asset.bytes,
        &[
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    ))
}
