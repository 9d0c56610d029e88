//! A stub S3 server that answers every request `200 OK`: it "accepts"
//! every PUT, conditional or not, as a server that ignores `If-None-Match`
//! does. It keeps each request line, so a test can see what was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

/// The stub, serving on a loopback port until the process ends.
#[derive(Debug, Clone)]
pub struct AcceptEverything {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl AcceptEverything {
    /// Starts the stub on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("a bound port").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || answer_ok(stream, &seen));
            }
        });
        Self { endpoint: format!("http://127.0.0.1:{port}"), requests }
    }

    /// The request lines received so far (`PUT /bucket/key?... HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

fn answer_ok(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let Ok(clone) = stream.try_clone() else { return };
    let (mut reader, mut writer) = (BufReader::new(clone), stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if first {
                seen.lock().unwrap_or_else(PoisonError::into_inner).push(line.trim_end().to_owned());
                first = false;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = "HTTP/1.1 200 OK\r\nETag: \"stub\"\r\nContent-Length: 0\r\n\r\n";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
