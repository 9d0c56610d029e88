//! A RabbitMQ node of a test's own, on free loopback ports, with its data
//! in a temporary folder: a test may restart it (or stop it) without
//! touching the shared broker on 5672 that other tests use.
//!
//! It runs `rabbitmq-server` (as root, Debian's wrapper runs it as the
//! `rabbitmq` user, which shares the Erlang cookie `rabbitmqctl` uses) with
//! `RABBITMQ_NODENAME`, `RABBITMQ_NODE_PORT`, `RABBITMQ_DIST_PORT`, its own
//! config file (the system one pins port 5672), no plugins, and its mnesia
//! and log folders in the temporary folder. Stopped with `rabbitmqctl -n
//! NODE stop` on drop.
//!
//! [`close_connections_named`] cuts connections on the shared broker.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::free_port;

/// A private RabbitMQ node, stopped on drop.
pub struct RabbitNode {
    /// `NAME@localhost`, for `rabbitmqctl -n`.
    pub node: String,
    /// Its AMQP port on 127.0.0.1.
    pub port: u16,
    dist_port: u16,
    dir: tempfile::TempDir,
    server: Option<Child>,
}

impl RabbitNode {
    /// Starts a node and waits until it takes connections (about 5-20 s).
    pub fn start() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let node = format!("exhibit-test-{}-{}@localhost", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let dir = tempfile::tempdir().expect("a temporary folder for the node");
        // The server runs as the `rabbitmq` user.
        make_world_writable(dir.path());
        let (port, dist_port) = (free_port(), free_port());
        write_readable(dir.path().join("enabled_plugins"), "[].\n");
        write_readable(dir.path().join("rabbitmq.conf"), &format!("listeners.tcp.local = 127.0.0.1:{port}\n"));
        let mut rabbit = Self { node, port, dist_port, dir, server: None };
        rabbit.spawn();
        rabbit
    }

    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`.
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Stops the node (its queues and messages stay on disk) and waits for
    /// its process to end.
    pub fn stop(&mut self) {
        let pid_file = self.path("pid");
        let out = self.ctl(&["stop", &pid_file]);
        assert!(out.status.success(), "rabbitmqctl stop: {}", String::from_utf8_lossy(&out.stderr));
        if let Some(mut server) = self.server.take() {
            let _ = server.wait();
        }
    }

    /// Starts the stopped node again, on the same ports and data.
    pub fn start_again(&mut self) {
        assert!(self.server.is_none(), "the node is running");
        self.spawn();
    }

    /// Runs `rabbitmqctl -n NODE ARGS`.
    pub fn ctl(&self, args: &[&str]) -> std::process::Output {
        Command::new("rabbitmqctl")
            .args(["-q", "-n", &self.node])
            .args(args)
            .output()
            .expect("rabbitmqctl (apt-get install rabbitmq-server; scripts/setup-debian.sh does)")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    fn spawn(&mut self) {
        let server = Command::new("rabbitmq-server")
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_CONFIG_FILE", self.path("rabbitmq.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", self.path("enabled_plugins"))
            .env("RABBITMQ_MNESIA_BASE", self.path("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.path("log"))
            .env("RABBITMQ_PID_FILE", self.path("pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rabbitmq-server (apt-get install rabbitmq-server; scripts/setup-debian.sh does)");
        self.server = Some(server);
        self.wait_ready();
    }

    /// Polls until the AMQP port accepts, then until the node says it has
    /// booted (the listener opens before the last boot steps).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.server.as_mut().and_then(|s| s.try_wait().ok().flatten()) {
                panic!(
                    "rabbitmq-server {} ended ({status}) before it listened; logs in {}",
                    self.node,
                    self.path("log")
                );
            }
            assert!(Instant::now() < deadline, "RabbitMQ node {} did not listen within 180 s", self.node);
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = self.ctl(&["await_startup", "--timeout", "120"]);
        assert!(out.status.success(), "rabbitmqctl await_startup: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        if self.server.is_some() {
            let pid_file = self.path("pid");
            let _ = self.ctl(&["stop", &pid_file]);
            if let Some(mut server) = self.server.take() {
                let _ = server.kill();
                let _ = server.wait();
            }
        }
    }
}

/// Closes, from the broker's side, every connection of the shared broker
/// (the node plain `rabbitmqctl` talks to, on 127.0.0.1:5672) whose client
/// properties name `prefix`, as a worker's death, a broker restart or a
/// network cut would. `reason` is what the broker tells the client.
///
/// # Panics
/// When `rabbitmqctl` fails, or no such connection is open: a test that
/// cut nothing would prove nothing.
pub fn close_connections_named(prefix: &str, reason: &str) {
    let listing = rabbitmqctl(&["list_connections", "pid", "client_properties"]);
    let pids: Vec<&str> =
        listing.lines().filter(|l| l.contains(prefix)).filter_map(|l| l.split_whitespace().next()).collect();
    assert!(!pids.is_empty(), "no connection named {prefix} in:\n{listing}");
    for pid in pids {
        rabbitmqctl(&["close_connection", pid, reason]);
    }
}

/// Runs `rabbitmqctl -q ARGS` against the shared broker; its stdout.
fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .expect("rabbitmqctl (RabbitMQ on 127.0.0.1:5672 must be running; scripts/setup-debian.sh installs it)");
    assert!(out.status.success(), "rabbitmqctl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn make_world_writable(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod the node's folder");
}

fn write_readable(path: PathBuf, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(&path, text).expect("write the node's config");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod the node's config");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slow (two node boots, 20-60 s): the chaos test uses it anyway.
    #[test]
    #[ignore = "boots a RabbitMQ node twice; run with --ignored"]
    fn a_private_node_starts_stops_and_starts_again_on_its_port() {
        let mut node = RabbitNode::start();
        assert!(TcpStream::connect(("127.0.0.1", node.port)).is_ok());
        node.stop();
        assert!(TcpStream::connect(("127.0.0.1", node.port)).is_err(), "stopped");
        node.start_again();
        assert!(TcpStream::connect(("127.0.0.1", node.port)).is_ok());
        let out = node.ctl(&["list_queues"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
