//! Crowds of users written straight to the store, each with an access token. Signing up through
//! the API hashes a password per user on purpose (it is slow by design), which would take most of
//! the time of a test that needs a crowd, and of a benchmark, and would measure nothing either
//! wants: the users are only the cast.

use futures::StreamExt;
use shared::AppState;
use shared::auth::Holder;
use shared::domain::{Id, Instant};
use shared::records::UserRecord;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A user of a crowd, with an access token.
#[derive(Clone, Debug)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub token: String,
}

/// `count` users named `{prefix}0`, `{prefix}1`, …, stored as sign-up would store them but with a
/// placeholder password hash (they never log in), and with access tokens issued by `state`.
pub async fn users(state: &AppState, prefix: &str, count: usize) -> Result<Vec<User>, Error> {
    let now = Instant::now();
    let make = (0..count).map(|i| async move {
        let username = format!("{prefix}{i}");
        let email = format!("{username}@example.com");
        let record = UserRecord::new(username.clone(), email, "$argon2id$not-a-real-hash".into(), now);
        let token = state
            .tokens
            .issue_access(Holder::from(&record), now)
            .await
            .ok_or("this process holds no access-token signing key")?;
        state.store.create_user(&record, None).await?.map_err(|taken| format!("{username}: {taken:?}"))?;
        Ok::<_, Error>(User { id: record.id, token, username })
    });
    futures::stream::iter(make).buffered(16).collect::<Vec<_>>().await.into_iter().collect()
}
