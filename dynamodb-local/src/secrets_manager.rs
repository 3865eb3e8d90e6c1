//! The Secrets Manager stand-in of the tests and the bench: moto's server (PyPI `moto`, pinned in
//! `requirements-dev.txt` and installed into `.venv` by `make test`), in memory on a free
//! loopback port, stopped when this process exits as DynamoDB Local is (see `launcher`). The
//! functions' own Secrets Manager client talks to it, as it talks to AWS when deployed.

use crate::launcher::{Guard, free_port, workspace_root};

/// A running stand-in.
pub struct SecretsManagerLocal {
    pub endpoint: String,
    _guard: Guard,
}

impl SecretsManagerLocal {
    /// Starts moto's server and waits until it listens. Blocks for a second or two.
    pub fn start() -> Result<Self, String> {
        let server = workspace_root().join(".venv/bin/moto_server");
        if !server.exists() {
            return Err(format!(
                "the Secrets Manager stand-in is not installed at {}: run `make test` or `make bench`, which install it",
                server.display()
            ));
        }
        let port = free_port();
        let port_text = port.to_string();
        let guard = Guard::start(
            "moto_server",
            r#""$1" -H 127.0.0.1 -p "$2""#,
            &[server.as_os_str(), port_text.as_ref()],
            port,
        )?;
        Ok(SecretsManagerLocal { endpoint: format!("http://127.0.0.1:{port}"), _guard: guard })
    }
}
