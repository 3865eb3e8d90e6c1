//! One DynamoDB Local for the whole test run, shared by every test (a JVM per test would cost
//! seconds each), started on first use and stopped when the run ends: the launcher stops it when
//! the test process exits, however it exits. `TEST_DYNAMODB_ENDPOINT` points the run at one
//! already running instead.

use std::sync::OnceLock;

use ::dynamodb_local::DynamoDbLocal;

static LOCAL: OnceLock<DynamoDbLocal> = OnceLock::new();

/// The endpoint of the run's DynamoDB Local, started on first use.
pub fn endpoint() -> String {
    let local = LOCAL.get_or_init(|| {
        DynamoDbLocal::start_or_use("TEST_DYNAMODB_ENDPOINT").unwrap_or_else(|e| panic!("{e}"))
    });
    local.endpoint.clone()
}
