//! What a password hash costs, and the memory size of the users function that follows from it.
//! Lambda gives a function CPU in proportion to its memory, a whole vCPU at 1,769 MB (AWS: "Lambda
//! allocates CPU power in proportion to the amount of memory configured"), and Argon2id with one
//! lane is single-threaded: a log-in's hash takes this machine's time divided by that share.

use std::time::Instant as Clock;

use crate::report::{Report, heading};

/// Memory at which a function gets one whole vCPU.
const FULL_VCPU_MB: f64 = 1769.0;
/// The sizes weighed.
const SIZES_MB: [u32; 4] = [256, 512, 1024, 1769];
/// Hashes timed.
const SAMPLES: usize = 20;

pub fn bench(report: &mut Report) {
    heading(
        "Password hashing (Argon2id, the production parameters: 19 MiB, 2 passes, 1 lane)",
        "   Median of 20 hashes on one core of this machine, then what that takes at each Lambda memory size.",
    );
    let mut times: Vec<f64> = (0..SAMPLES)
        .map(|i| {
            let started = Clock::now();
            std::hint::black_box(shared::auth::password::hash(&format!("a passphrase to time {i}")));
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[SAMPLES / 2];
    println!("   one hash here: {median:.1} ms (min {:.1}, max {:.1})", times[0], times[SAMPLES - 1]);
    let mut at_sizes = Vec::new();
    for mb in SIZES_MB {
        let share = (f64::from(mb) / FULL_VCPU_MB).min(1.0);
        let on_lambda = median / share;
        println!("   at {mb} MB ({:.0}% of a vCPU): about {on_lambda:.0} ms per log-in", share * 100.0);
        at_sizes.push(format!("{mb} MB {on_lambda:.0} ms"));
    }
    report.add("hashing", "one Argon2id hash on this machine", format!("{median:.1} ms"));
    report.add("hashing", "a log-in's hash on Lambda, by memory", at_sizes.join(", "));
}
