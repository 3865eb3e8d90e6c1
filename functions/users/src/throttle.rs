//! Counting logins, sign-ups and refreshes against their limits (see
//! `shared::domain::throttle`), and answering 429 with `Retry-After` past them.

use shared::AppState;
use shared::domain::Instant;
use shared::domain::throttle::Limit;
use shared::http::{ApiError, ClientAddress};
use shared::store::throttle::{Attempt, Subject};

/// Counts one attempt of `subject`, or refuses it with how long to wait.
pub async fn admit(
    state: &AppState,
    subject: Subject<'_>,
    limit: &Limit,
    what: &str,
) -> Result<(), ApiError> {
    match state.store.count_attempt(subject, limit, Instant::now()).await? {
        Attempt::Counted => Ok(()),
        Attempt::Wait(seconds) => Err(ApiError::too_many(what, seconds)),
    }
}

/// The two tallies one login counts against: the account named (when the name is one an
/// account could have) and the client address.
pub struct LoginTallies<'a> {
    account: Option<Subject<'a>>,
    address: Subject<'a>,
}

impl<'a> LoginTallies<'a> {
    /// `account` is the case-folded username tried.
    pub fn new(account: Option<&'a str>, address: &'a ClientAddress) -> Self {
        LoginTallies {
            account: account.map(|who| Subject { what: "login-account", who }),
            address: Subject { what: "login-address", who: address.as_str() },
        }
    }

    /// Counts the login against both, at once. When one refuses it, the other gives its count
    /// back: the password was not tried.
    pub async fn count(&self, state: &AppState) -> Result<(), ApiError> {
        let limits = &state.limits;
        let by_account = async {
            match self.account {
                Some(account) => {
                    admit(state, account, &limits.login_per_account, "failed logins to this account").await
                }
                None => Ok(()),
            }
        };
        let by_address =
            admit(state, self.address, &limits.login_per_address, "failed logins from this address");
        match tokio::join!(by_account, by_address) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(refused), Ok(())) => {
                state.store.uncount_attempt(self.address, &limits.login_per_address, Instant::now()).await?;
                Err(refused)
            }
            (Ok(()), Err(refused)) => {
                if let Some(account) = self.account {
                    state.store.uncount_attempt(account, &limits.login_per_account, Instant::now()).await?;
                }
                Err(refused)
            }
            (Err(refused), Err(_)) => Err(refused),
        }
    }

    /// The password was right: the account's failures are forgotten and the address gets this
    /// attempt back (only this one, so logging in to one's own account between guesses at
    /// others does not wipe the address's tally).
    pub async fn succeeded(&self, state: &AppState) -> Result<(), ApiError> {
        let forget = async {
            match self.account {
                Some(account) => state.store.forget_attempts(account).await,
                None => Ok(()),
            }
        };
        let given_back =
            state.store.uncount_attempt(self.address, &state.limits.login_per_address, Instant::now());
        let (forgotten, given_back) = tokio::join!(forget, given_back);
        forgotten?;
        given_back?;
        Ok(())
    }
}
