//! A TCP proxy in front of DynamoDB Local that a test can cut, stall and restore, to see what the
//! API does while its storage is unreachable or hanging, and that it recovers afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::AbortHandle;

const OPEN: u8 = 0;
const CUT: u8 = 1;
const STALLED: u8 = 2;

pub struct Proxy {
    pub endpoint: String,
    mode: Arc<AtomicU8>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `target` (`http://host:port`).
    pub async fn start(target: &str) -> Proxy {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let mode = Arc::new(AtomicU8::new(OPEN));
        let live: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accept_mode, accept_live) = (mode.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let mode = accept_mode.load(Ordering::SeqCst);
                let task = tokio::spawn(async move {
                    match mode {
                        CUT => drop(inbound),
                        STALLED => {
                            // Accept and never answer, until aborted.
                            std::future::pending::<()>().await;
                            drop(inbound);
                        }
                        _ => {
                            if let Ok(mut outbound) = TcpStream::connect(&target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            }
                        }
                    }
                });
                accept_live.lock().await.push(task.abort_handle());
            }
        });
        Proxy { endpoint, mode, live }
    }

    async fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        for connection in self.live.lock().await.drain(..) {
            connection.abort();
        }
    }

    /// Refuses every connection, and drops the open ones.
    pub async fn cut(&self) {
        self.set(CUT).await;
    }

    /// Accepts connections and never answers on them.
    pub async fn stall(&self) {
        self.set(STALLED).await;
    }

    /// Forwards again.
    pub async fn restore(&self) {
        self.set(OPEN).await;
    }
}
