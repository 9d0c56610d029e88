//! Servers for tests, each on free loopback ports and stopped on drop: the
//! S3 servers moto (from the Python tools venv) and s3s-fs (from `cargo
//! install`), both installed by `scripts/setup-debian.sh`; a RabbitMQ node
//! of a test's own ([`RabbitNode`]) and a way to cut connections on the
//! shared one ([`close_connections_named`]); and a proxy that takes a server away
//! for a while ([`OutageProxy`]).

mod accept_all;
mod outage;
mod rabbit;

pub use accept_all::AcceptEverything;
pub use outage::OutageProxy;
pub use rabbit::{RabbitNode, close_connections_named};

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process listening on `port` of 127.0.0.1, killed on drop.
pub struct LoopbackServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl LoopbackServer {
    /// moto's S3 server: enforces conditional create and Object Lock, but
    /// not checksums.
    pub fn moto() -> Self {
        let tools = std::env::var("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|_| "/opt/exhibit-python".to_owned());
        let port = free_port();
        let mut cmd = Command::new(format!("{tools}/bin/moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn(cmd, port, "moto_server (pip install 'moto[server]==5.2.5'; scripts/setup-debian.sh does)")
    }

    /// s3s-fs over `root`, with access and secret key `test`: checks every
    /// SHA-256 and MD5 it is sent, ignores Object Lock.
    pub fn s3s_fs(root: &Path) -> Self {
        let port = free_port();
        let mut cmd = Command::new("s3s-fs");
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", "test", "--secret-key", "test"])
            .arg(root);
        Self::spawn(
            cmd,
            port,
            "s3s-fs (cargo install s3s-fs --version 0.14.1 --features binary; scripts/setup-debian.sh does)",
        )
    }

    /// Its URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(mut cmd: Command, port: u16, what: &str) -> Self {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let server = Self { child, port };
        // Polls until the port accepts connections: the server says
        // nothing else when it is ready.
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{what} did not listen on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
