//! `eventsctl`: operator commands against the table named by `TABLE_NAME` (and, locally,
//! `DYNAMODB_ENDPOINT`). On AWS it uses the usual AWS credentials of the shell it runs in.
//!
//! ```text
//! eventsctl create-table
//! eventsctl promote <username>     make a user an admin
//! eventsctl demote <username>      make an admin a user again
//! eventsctl new-key <key id>       a new access-token key pair (needs no table)
//! eventsctl seed-signing-key       locally: the development key into the Secrets Manager stand-in
//! ```

use std::process::exit;
use std::time::Duration;

use shared::domain::Role;
use shared::store::Store;

const USAGE: &str = "usage: eventsctl create-table | promote <username> | demote <username> | new-key <key id> | seed-signing-key";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, kid] = args.as_slice()
        && command == "new-key"
    {
        new_key(kid);
        return;
    }
    if args == ["seed-signing-key"] {
        seed_signing_key().await;
        return;
    }
    let Ok(table) = std::env::var("TABLE_NAME") else {
        eprintln!("TABLE_NAME must name the DynamoDB table");
        exit(2);
    };
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    let store = Store::open(table, endpoint.as_deref(), Duration::from_secs(10)).await;
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["create-table"] => store.ensure_table().await.map(|()| "table ready".to_owned()),
        ["promote", username] => set_role(&store, username, Role::Admin).await,
        ["demote", username] => set_role(&store, username, Role::User).await,
        _ => {
            eprintln!("{USAGE}");
            exit(2);
        }
    };
    match outcome {
        Ok(message) => println!("{message}"),
        Err(e) => {
            eprintln!("{e}");
            exit(1);
        }
    }
}

async fn set_role(store: &Store, username: &str, role: Role) -> Result<String, shared::store::StoreError> {
    let Some(user) = store.find_user_by_username(username).await? else {
        eprintln!("no user named {username:?}");
        exit(1);
    };
    store.set_role(user.id, role).await?;
    Ok(format!("{} is now {}", user.username, if role.is_admin() { "an admin" } else { "a user" }))
}

/// Puts the development signing key in the local stand-in's secret (see
/// [`local::seed_signing_key`]), for the real function binaries run by `make lambda-check`.
async fn seed_signing_key() {
    let config = shared::Config::from_env_or_exit();
    match local::seed_signing_key(&config).await {
        Ok(true) => println!("signing key ready"),
        Ok(false) => {
            eprintln!(
                "seed-signing-key needs DYNAMODB_ENDPOINT, SECRETS_MANAGER_ENDPOINT and ACCESS_TOKEN_SIGNING_KEY_SECRET"
            );
            exit(2);
        }
        Err(e) => {
            eprintln!("{e}");
            exit(1);
        }
    }
}

/// Prints a new access-token key pair: the private key for `AccessTokenSigningKey`, the public
/// one to add to `AccessTokenPublicKeys`.
fn new_key(kid: &str) {
    let (private, public) = shared::auth::keys::generate(kid);
    if let Err(e) = shared::auth::keys::NamedKey::parse(&private.expose()) {
        eprintln!("{e}");
        exit(2);
    }
    println!("AccessTokenSigningKey={}", private.expose());
    println!("AccessTokenPublicKeys={}", public.expose());
}
