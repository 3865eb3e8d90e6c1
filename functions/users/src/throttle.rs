//! Counting logins, sign-ups and refreshes against their limits (see
//! `shared::domain::throttle`), and answering 429 with `Retry-After` past them.

use shared::AppState;
use shared::domain::Instant;
use shared::domain::throttle::Limit;
use shared::http::{ApiError, ClientAddress};
use shared::store::throttle::{Attempt, Count, Subject};

/// Counts one attempt of `subject`, or refuses it with how long to wait.
pub async fn admit(
    state: &AppState,
    subject: Subject<'_>,
    limit: &Limit,
    what: &str,
) -> Result<Count, ApiError> {
    match state.store.count_attempt(subject, limit, Instant::now()).await? {
        Attempt::Counted(count) => Ok(count),
        Attempt::Wait(seconds) => Err(ApiError::too_many(what, seconds)),
    }
}

/// The two tallies one login counts against: the account named (when the name is one an
/// account could have) and the client address.
pub struct LoginTallies<'a> {
    account: Option<Subject<'a>>,
    address: Subject<'a>,
}

/// A login's counts, to give back or clear once the password is checked.
pub struct LoginCounts {
    address: Count,
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
    pub async fn count(&self, state: &AppState) -> Result<LoginCounts, ApiError> {
        let limits = &state.limits;
        let by_account = async {
            match self.account {
                Some(account) => {
                    admit(state, account, &limits.login_per_account, "failed logins to this account")
                        .await
                        .map(Some)
                }
                None => Ok(None),
            }
        };
        let by_address =
            admit(state, self.address, &limits.login_per_address, "failed logins from this address");
        match tokio::join!(by_account, by_address) {
            (Ok(_), Ok(address)) => Ok(LoginCounts { address }),
            (Err(refused), Ok(address)) => {
                state.store.uncount_attempt(self.address, &address).await?;
                Err(refused)
            }
            (Ok(account), Err(refused)) => {
                if let (Some(subject), Some(count)) = (self.account, account) {
                    state.store.uncount_attempt(subject, &count).await?;
                }
                Err(refused)
            }
            (Err(refused), Err(_)) => Err(refused),
        }
    }

    /// The password was right: the account's failures are forgotten and the address gets this
    /// attempt back (only this one, so logging in to one's own account between guesses at
    /// others does not wipe the address's tally).
    pub async fn succeeded(&self, state: &AppState, counts: LoginCounts) -> Result<(), ApiError> {
        let forget = async {
            match self.account {
                Some(account) => state.store.forget_attempts(account).await,
                None => Ok(()),
            }
        };
        let (forgotten, given_back) =
            tokio::join!(forget, state.store.uncount_attempt(self.address, &counts.address));
        forgotten?;
        given_back?;
        Ok(())
    }
}
