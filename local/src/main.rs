//! The local server: the whole API on `127.0.0.1:$PORT` (default 3000), against the table named by
//! `TABLE_NAME` at `DYNAMODB_ENDPOINT`, which it creates if missing, with the reminders schedule
//! running every `REMINDERS_EVERY_SECONDS` (default 60; 0 turns it off) against DynamoDB Local.
//! With `SECRETS_MANAGER_ENDPOINT` and `ACCESS_TOKEN_SIGNING_KEY_SECRET` set (as `make run` sets
//! them), the development signing key is put in that secret of the stand-in if it is missing, and
//! the users router reads it from there as the deployed function reads its key. Against DynamoDB
//! Local it also runs the dispatch function on the table's stream, as the event source mapping
//! does on AWS (`local::stream`), sending email to `SES_ENDPOINT` when `EMAIL_FROM` is set, and
//! makes the webhook attempts due again every 5 seconds, as the dispatch function's schedule
//! does there every minute.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How often the reminders run locally; `None` when turned off.
fn reminders_interval() -> Result<Option<Duration>, String> {
    match std::env::var("REMINDERS_EVERY_SECONDS") {
        Err(_) => Ok(Some(Duration::from_secs(60))),
        Ok(raw) => match raw.parse::<u64>() {
            Ok(0) => Ok(None),
            Ok(seconds) if seconds <= 86_400 => Ok(Some(Duration::from_secs(seconds))),
            _ => Err(format!("REMINDERS_EVERY_SECONDS must be a number of seconds up to 86400, not {raw:?}")),
        },
    }
}

#[tokio::main]
async fn main() {
    shared::telemetry::init();
    let config = shared::Config::from_env_or_exit();
    let port = match std::env::var("PORT") {
        Err(_) => 3000,
        Ok(raw) => raw.parse::<u16>().unwrap_or_else(|_| {
            eprintln!("PORT must be a port number, not {raw:?}");
            std::process::exit(2);
        }),
    };
    let schedule = match reminders_interval() {
        // Only against DynamoDB Local: a table on AWS has its own schedule.
        Ok(every) => every.filter(|_| config.dynamodb_endpoint.is_some()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let state = shared::AppState::new(&config).await;
    if config.dynamodb_endpoint.is_some()
        && let Err(e) = state.store.ensure_table().await
    {
        eprintln!("could not create the table {:?}: {e}", config.table_name);
        std::process::exit(1);
    }
    if let Err(e) = local::seed_signing_key(&config).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
    if let Some(endpoint) = &config.dynamodb_endpoint {
        let dispatcher = std::sync::Arc::new(dispatch::Dispatcher::new(&config).await);
        let (endpoint, table) = (endpoint.clone(), config.table_name.clone());
        tokio::spawn(local::stream::run(endpoint, table, dispatcher.clone(), Duration::from_millis(200)));
        tokio::spawn(local::run_webhook_retries(dispatcher, Duration::from_secs(5)));
    }
    if let Some(every) = schedule {
        tokio::spawn(local::run_schedule(state.store.clone(), every));
    }
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {address}: {e}");
            std::process::exit(1);
        }
    };
    println!("Event Management API on http://{address} (table {})", config.table_name);
    let served = local::serve(listener, state, local::admission::LOCAL_SERVER, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    if let Err(e) = served {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
