//! This document and its reference page, served by the users function (`api-docs`).

// Never constructed: the type exists for its `IntoParams` derive.
#![allow(dead_code)]

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, OpenApi, PartialSchema, ToSchema};

use crate::responses::NotFound;

#[derive(OpenApi)]
#[openapi(paths(get_openapi, get_docs, get_docs_asset))]
pub struct Api;

/// The name of a file of the reference page.
pub struct AssetName;

impl PartialSchema for AssetName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(crate::page::ASSETS.iter().map(|a| a.name)))
            .into()
    }
}

impl ToSchema for AssetName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DocsAsset")
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
struct Asset {
    /// A file the page loads.
    #[param(inline)]
    asset: AssetName,
}

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "docs",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the whole API.",
            content_type = "application/json", body = serde_json::Value),
    ),
)]
fn get_openapi() {}

/// The API reference page
///
/// Swagger UI on this document; it loads nothing from other origins.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "docs",
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
    ),
)]
fn get_docs() {}

/// A file of the reference page
#[utoipa::path(
    get,
    path = "/docs/{asset}",
    tag = "docs",
    params(Asset),
    responses(
        (status = 200, description = "The file.", content(
            ("text/javascript"), ("text/css"), ("text/plain"), ("image/png"),
        )),
        NotFound,
    ),
)]
fn get_docs_asset() {}
