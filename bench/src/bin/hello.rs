//! The yardstick for cold starts: an axum router with one route under `lambda_http::run`, nothing
//! else (no AWS SDK, no logging set-up), built with the same release profile as the functions.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;

async fn hello(Path(id): Path<String>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "id": id, "hello": "world" }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(Router::new().route("/events/{id}", get(hello))).await
}
