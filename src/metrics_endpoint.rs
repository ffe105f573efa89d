//! `--metrics-listener`: serves [`crate::metrics::snapshot`] on `/metrics`
//! to Prometheus, from one thread of its own.
//!
//! The HTTP is the least a scraper needs: read one request head, answer
//! `GET /metrics` (or `HEAD`) with the text format, anything else with 404
//! or 405, then close (`Connection: close`, so no keep-alive state). One
//! scrape at a time is plenty for a handful of scrapers; a client that
//! stalls is cut off by the read timeout. Nothing but this thread listens
//! on the port, and it never touches PostgreSQL: a scrape reads only what
//! the broker keeps in memory.

use crate::broker::Broker;
use crate::metrics;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest request head accepted; a scraper sends a few hundred bytes.
const MAX_HEAD_BYTES: usize = 8 * 1024;

/// How long a scraper may take to send its request or read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The running endpoint; [`MetricsEndpoint::stop`] ends its thread.
pub struct MetricsEndpoint {
    addr: SocketAddr,
    thread: JoinHandle<()>,
}

/// Serves `/metrics` on `listener` until the broker shuts down.
pub fn start(broker: Arc<Broker>, listener: TcpListener) -> std::io::Result<MetricsEndpoint> {
    let addr = listener.local_addr()?;
    let thread = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if broker.shutdown.is_requested() {
                    break;
                }
                match stream {
                    Ok(stream) => serve(&broker, stream),
                    Err(err) => {
                        log::warn!("metrics listener: accept failed: {err}");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        })?;
    Ok(MetricsEndpoint { addr, thread })
}

impl MetricsEndpoint {
    /// Waits for the thread to notice shutdown (it must already be
    /// requested), waking it from `accept`.
    pub fn stop(self) {
        crate::server::wake(self.addr);
        let _ = self.thread.join();
    }
}

fn serve(broker: &Broker, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    let request_line = head.lines().next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let response = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = metrics::snapshot(broker);
            respond(
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
                method == "HEAD",
            )
        }
        ("GET" | "HEAD", _) => respond(
            "404 Not Found",
            "text/plain",
            "metrics are at /metrics\n",
            method == "HEAD",
        ),
        _ => respond("405 Method Not Allowed", "text/plain", "only GET\n", false),
    };
    if let Err(err) = stream.write_all(&response) {
        log::debug!(
            "metrics listener: writing to {:?}: {err}",
            stream.peer_addr()
        );
    }
}

/// Reads up to the blank line ending the request head; `None` if the
/// client sent nothing sensible in time.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || head.len() + n > MAX_HEAD_BYTES {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(head).ok()
}

fn respond(status: &str, content_type: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        response.extend_from_slice(body.as_bytes());
    }
    response
}
