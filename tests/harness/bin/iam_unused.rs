//! After `make test`: the grants in `template.yaml` that no DynamoDB or Secrets Manager call of
//! the run needed.
//!
//! The fidelity proxy appends every (function, action, resource) a test's call needed to the file
//! named by `IAM_CALLS_FILE`; this reads it back and fails when a function's policy grants an
//! action or an index that none of its calls used, so the policies stay exactly what the code
//! calls. (A call a policy does not grant already failed the test that made it.)

use std::collections::BTreeSet;
use std::process::ExitCode;

use api_tests::fidelity::iam::{Need, Policies, Resource};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: iam-unused <calls file written by the test run (IAM_CALLS_FILE)>");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!(
                "iam-unused: cannot read {path}: {e} (was the test suite run with IAM_CALLS_FILE set?)"
            );
            return ExitCode::from(2);
        }
    };
    let used: BTreeSet<(String, Need)> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (function, action, resource) = (fields.next()?, fields.next()?, fields.next()?);
            Some((
                function.to_owned(),
                Need { action: action.to_owned(), resource: Resource::parse(resource) },
            ))
        })
        .collect();
    let indexes: Vec<&str> = shared::store::table::INDEXES.iter().map(|index| index.name).collect();
    let policies = Policies::from_template();
    let unused = policies.unused(&used, &indexes);
    let granted: usize = policies.functions.values().map(Vec::len).sum();
    if unused.is_empty() {
        println!(
            "IAM: each of the {granted} DynamoDB and Secrets Manager grants in template.yaml was needed by a call of the test run"
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "IAM: template.yaml grants what no call of the test run needed (remove it, or test the path that needs it):"
    );
    for (function, grant) in unused {
        eprintln!("  {function}: {grant}");
    }
    ExitCode::FAILURE
}
