//! Everything the functions of the Event Management API share.
//!
//! The layers read top to bottom, the way a request travels; a module imports only from the
//! layers below its own (the `layers` test below keeps it so):
//! - [`http`]: problem+json errors, the strict JSON body reader (with its size limit), query
//!   parameters and pagination, the caller extractors, and the router's finishing layers
//!   (fallback, 405, CORS, request accounting);
//! - [`state`]: [`AppState`], built once per process from [`Config`];
//! - [`auth`]: password hashing, access tokens and calendar-feed tokens;
//! - [`views`], [`mail`], [`calendar`], [`qr`] and [`export`]: what responses, emails, iCalendar
//!   feeds, ticket images and the attendee CSV show of stored records;
//! - [`store`]: the only code that knows DynamoDB (keys, items, conditions, cursors);
//! - [`records`]: the records the service keeps (users, events, registrations, ...), plain data
//!   that the store reads and writes and everything above it works with;
//! - [`domain`]: validated values and rules with no I/O;
//! - [`signing`], [`webhook_signature`], [`telemetry`] and [`config`]: keyed signatures, webhook
//!   signatures, logging set-up and settings, which import nothing of the crate.

pub mod auth;
pub mod calendar;
pub mod config;
pub mod domain;
pub mod export;
pub mod http;
pub mod mail;
pub mod qr;
pub mod records;
pub mod signing;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod views;
pub mod webhook_signature;

pub use config::Config;
pub use state::AppState;

#[cfg(test)]
mod layers {
    use std::path::Path;

    /// The crate's top-level modules, from the top layer down.
    const ORDER: &[&str] = &[
        "http",
        "state",
        "auth",
        "views",
        "mail",
        "calendar",
        "qr",
        "export",
        "store",
        "records",
        "domain",
        "signing",
        "webhook_signature",
        "telemetry",
        "config",
    ];

    fn layer_of(module: &str) -> usize {
        ORDER.iter().position(|m| *m == module).unwrap_or_else(|| panic!("`{module}` has no layer in ORDER"))
    }

    /// Every `crate::<module>` a source file names outside comments.
    fn imports(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let name: String =
                    line[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                // The crate root re-exports these two.
                let module = match name.as_str() {
                    "AppState" => "state".to_owned(),
                    "Config" => "config".to_owned(),
                    _ => name,
                };
                found.push(module);
            }
        }
        found
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("reading src") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_import_points_down() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut sources = Vec::new();
        files(&src, &mut sources);
        let mut upward = Vec::new();
        for path in sources {
            let relative = path.strip_prefix(&src).expect("under src");
            let module = relative.components().next().expect("a path").as_os_str().to_string_lossy();
            let module = module.trim_end_matches(".rs");
            if module == "lib" {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("reading a source file");
            for imported in imports(&source) {
                if imported != module && layer_of(&imported) < layer_of(module) {
                    upward.push(format!("{} imports crate::{imported}", relative.display()));
                }
            }
        }
        assert!(upward.is_empty(), "imports pointing up a layer:\n{}", upward.join("\n"));
    }

    /// The store's internals a function must not use: they are public only with the
    /// `internals` feature, which the workspace's tests and benchmarks turn on for every crate
    /// they are built with, so only a function built alone would notice.
    const STORE_INTERNALS: &[&str] = &["store::items", "store::keys", "store::tx", "store::conditions"];

    #[test]
    fn no_function_reaches_into_the_store() {
        let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
        let mut sources = Vec::new();
        files(&functions, &mut sources);
        assert!(sources.len() > 6, "the functions' sources are found");
        let mut reaching = Vec::new();
        for path in sources {
            let source = std::fs::read_to_string(&path).expect("reading a source file");
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                if let Some(internal) = STORE_INTERNALS.iter().find(|internal| line.contains(*internal)) {
                    reaching.push(format!("{} uses {internal}", path.display()));
                }
            }
        }
        assert!(reaching.is_empty(), "functions using the store's internals:\n{}", reaching.join("\n"));
    }

    #[test]
    fn imports_are_read_outside_comments() {
        let found =
            imports("use crate::store::Store;\n// see crate::http\nlet x = crate::domain::Id::new();");
        assert_eq!(found, ["store", "domain"]);
    }
}
