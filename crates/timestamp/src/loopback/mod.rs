//! A Time-Stamping Authority on 127.0.0.1 for tests: a CA and a TSA
//! certificate made with `openssl` in a folder, and a one-thread HTTP
//! server on an ephemeral port that answers each query by running
//! `openssl ts -reply`. It can also misbehave on request ([`Mode`]), as a
//! hostile or broken TSA would.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use x509_tsp::TimeStampReq;

use pki::{make_pki, openssl};

mod pki;

/// How the TSA answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A correct, signed response.
    Sign,
    /// The given HTTP status and no token.
    HttpStatus(u16),
    /// A PKIStatus `rejection` response.
    Reject,
    /// Bytes that are not DER.
    Garbage,
    /// A body of 4 MiB.
    Huge,
    /// A correct response cut in half.
    Truncated,
    /// A correct response to a query with another nonce.
    WrongNonce,
    /// A correct response over another digest.
    WrongDigest,
}

/// The TSA's key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256.
    EcP256,
    /// RSA 2048.
    Rsa2048,
}

/// A running loopback TSA. Dropping it stops the server.
#[derive(Debug)]
pub struct LoopbackTsa {
    dir: PathBuf,
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    served: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackTsa {
    /// Makes a CA and a TSA certificate (EKU timeStamping, critical) in
    /// `dir` and starts serving on 127.0.0.1 at a free port.
    pub fn start(dir: &Path, key: KeyKind) -> io::Result<Self> {
        make_pki(dir, key)?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(Mode::Sign));
        let served = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let server = Server { dir: dir.to_owned(), mode: mode.clone(), served: served.clone() };
        let stop_flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A client that hangs up early is its own problem.
                    let _ = server.answer(stream);
                }
            }
        });
        Ok(Self { dir: dir.to_owned(), addr, mode, served, stop, thread: Some(thread) })
    }

    /// The URL to configure as `tsa_url`.
    pub fn url(&self) -> String {
        format!("http://{}/tsr", self.addr)
    }

    /// The CA certificate (PEM) the TSA's certificate chains to.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The TSA's own certificate (PEM).
    pub fn tsa_cert(&self) -> PathBuf {
        self.dir.join("tsa.pem")
    }

    /// Changes how later queries are answered.
    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }

    /// How many queries were answered with a signed token so far.
    pub fn tokens_issued(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for LoopbackTsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens (the port was free a moment ago).
pub fn unreachable_url() -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(format!("http://{}/tsr", listener.local_addr()?))
}

struct Server {
    dir: PathBuf,
    mode: Arc<Mutex<Mode>>,
    served: Arc<AtomicUsize>,
}

impl Server {
    fn answer(&self, stream: TcpStream) -> io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let query = read_request(&mut reader)?;
        let mode = self.mode.lock().map(|m| *m).unwrap_or(Mode::Sign);
        let (status, body) = match mode {
            Mode::HttpStatus(code) => (code, b"TSA unavailable".to_vec()),
            // status rejection (2), failInfo badRequest (bit 2).
            Mode::Reject => (200, vec![0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x05, 0x20]),
            Mode::Garbage => (200, b"this is not DER at all".to_vec()),
            Mode::Huge => (200, vec![0x30; 4 << 20]),
            Mode::Truncated => {
                let full = self.sign(&query)?;
                (200, full[..full.len() / 2].to_vec())
            }
            Mode::WrongNonce | Mode::WrongDigest => (200, self.sign(&tamper(&query, mode)?)?),
            Mode::Sign => (200, self.sign(&query)?),
        };
        let mut out = stream;
        write!(
            out,
            "HTTP/1.1 {status} X\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(&body)?;
        out.flush()
    }

    fn sign(&self, query: &[u8]) -> io::Result<Vec<u8>> {
        let (q, r) = (self.dir.join("query.tsq"), self.dir.join("reply.tsr"));
        std::fs::write(&q, query)?;
        let d = &self.dir;
        openssl(
            d,
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                "query.tsq",
                "-signer",
                "tsa.pem",
                "-inkey",
                "tsa.key",
            ],
            &["-out", "reply.tsr"],
        )?;
        self.served.fetch_add(1, Ordering::SeqCst);
        std::fs::read(r)
    }
}

/// Reads one HTTP request and returns its body.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.len() > 8192 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad request"));
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "length"))?;
            }
        }
    }
    let mut body = vec![0; length.min(1 << 16)];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// The query with its nonce or digest changed.
fn tamper(query: &[u8], mode: Mode) -> io::Result<Vec<u8>> {
    let bad = |e: der::Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
    let mut req = TimeStampReq::from_der(query).map_err(bad)?;
    if mode == Mode::WrongNonce {
        req.nonce = Some(Int::new(&[0x12, 0x34]).map_err(bad)?);
    } else {
        req.message_imprint.hashed_message = OctetString::new(vec![0xee; 32]).map_err(bad)?;
    }
    req.to_der().map_err(bad)
}
