//! What the login limits concede to a patient attacker: guesses a day at one account from one
//! address and from a thousand, and failed logins one address can spread over many accounts.
//! Computed by playing the limits the server enforces (`Limits::default()`, the same code that
//! decides each login) over a simulated day, trying each time the moment both the account's and
//! one address's tallies allow; the API tests prove the server keeps to them under concurrency.

use shared::domain::throttle::{Limit, Limits, Tally};

use crate::report::{Report, heading};

const DAY: i64 = 86_400;

/// Guesses at one account in a day from `addresses` addresses, each guess made as soon as the
/// account and the least-waiting address allow it.
fn guesses_at_one_account(limits: &Limits, addresses: usize) -> u64 {
    let (account_limit, address_limit) = (&limits.login_per_account, &limits.login_per_address);
    let mut account: Option<Tally> = None;
    let mut by_address: Vec<Option<Tally>> = vec![None; addresses];
    let (mut now, mut made) = (0i64, 0u64);
    while now < DAY {
        let account_wait = account_limit.wait(account, now).unwrap_or(0) as i64;
        let (address, address_wait) = by_address
            .iter()
            .enumerate()
            .map(|(i, tally)| (i, address_limit.wait(*tally, now).unwrap_or(0) as i64))
            .min_by_key(|(_, wait)| *wait)
            .expect("at least one address");
        let wait = account_wait.max(address_wait);
        if wait > 0 {
            now += wait;
            continue;
        }
        account = Some(account_limit.charge(account, now));
        by_address[address] = Some(address_limit.charge(by_address[address], now));
        made += 1;
    }
    made
}

fn per_day(limit: &Limit) -> u64 {
    limit.attempts_within(DAY as u64)
}

pub fn bench(report: &mut Report) {
    heading(
        "Password guessing under the login limits",
        "Computed from the limits the server enforces (shared/src/domain/throttle.rs), over one day.",
    );
    let limits = Limits::default();
    let one = guesses_at_one_account(&limits, 1);
    let thousand = guesses_at_one_account(&limits, 1000);
    let spread = per_day(&limits.login_per_address);
    let sign_ups = limits.sign_up_per_address.attempts_within(DAY as u64);
    println!("   guesses a day at one account, from 1 address: {one}");
    println!("   guesses a day at one account, from 1,000 addresses: {thousand}");
    println!("   failed logins a day from 1 address, spread over any number of accounts: {spread}");
    println!("   sign-ups a day from 1 address: {sign_ups}");
    report.add("guessing", "guesses/day at one account, 1 address", one.to_string());
    report.add("guessing", "guesses/day at one account, 1,000 addresses", thousand.to_string());
    report.add("guessing", "failed logins/day from one address, any accounts", spread.to_string());
    report.add("guessing", "sign-ups/day from one address", sign_ups.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_addresses_do_not_buy_more_guesses_at_one_account() {
        let limits = Limits::default();
        let alone = per_day(&limits.login_per_account);
        assert_eq!(guesses_at_one_account(&limits, 1), alone);
        assert_eq!(guesses_at_one_account(&limits, 1000), alone);
        // An address's own limit binds when it is the stricter one.
        let strict_address =
            Limits { login_per_address: Limit { free: 1, ..limits.login_per_account }, ..limits };
        assert!(guesses_at_one_account(&strict_address, 1) < alone);
        assert_eq!(guesses_at_one_account(&strict_address, 1000), alone);
    }
}
