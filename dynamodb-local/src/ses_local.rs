//! The SES stand-in of the tests and the bench: the npm package `aws-ses-v2-local` (pinned in
//! `package-lock.json`), on a free loopback port, stopped when this process exits (see
//! `launcher`). It answers SES v2's `SendEmail` as SES does and keeps every email, which
//! [`SesLocal::emails`] reads back (`GET /store`).

use serde_json::Value;

use crate::launcher::{Guard, free_port, workspace_root};

/// A running stand-in.
pub struct SesLocal {
    pub endpoint: String,
    _guard: Guard,
}

impl SesLocal {
    /// Starts it and waits until it listens (a Node.js start, under a second).
    pub fn start() -> Result<Self, String> {
        let server = workspace_root().join("node_modules/.bin/aws-ses-v2-local");
        if !server.exists() {
            return Err(format!(
                "the SES stand-in is not installed at {}: run `make test`, which installs it",
                server.display()
            ));
        }
        let port = free_port();
        let port_text = port.to_string();
        let guard = Guard::start(
            "aws-ses-v2-local (it needs Node.js)",
            r#""$1" --host 127.0.0.1 --port "$2""#,
            &[server.as_os_str(), port_text.as_ref()],
            port,
        )?;
        Ok(SesLocal { endpoint: format!("http://127.0.0.1:{port}"), _guard: guard })
    }

    /// Every email sent so far, as the stand-in keeps them (`from`, `destination.to`, `subject`,
    /// `body.text`, `body.html`, `attachments`, `headers`, ...).
    pub async fn emails(&self) -> Vec<Value> {
        let store: Value = reqwest::get(format!("{}/store", self.endpoint))
            .await
            .expect("the SES stand-in answers")
            .json()
            .await
            .expect("the SES stand-in's store is JSON");
        store["emails"].as_array().cloned().unwrap_or_default()
    }
}
