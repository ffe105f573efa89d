//! One client connection: size-prefixed frames in, responses out, in order.
//!
//! Kafka frames are a 4-byte big-endian length followed by that many bytes.
//! The length is checked against `--max-request-bytes` before anything is
//! allocated, so a hostile length costs nothing. Requests are handled one at
//! a time and answered in the order they arrived, which is exactly what
//! pipelining clients expect.

use crate::broker::Broker;
use crate::handlers::{self, Outcome};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as SocketShutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// How often a connection waiting for its next request looks at the
/// shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(500);

/// Bytes of a frame allocated at a time while it is being received.
const FRAME_CHUNK: usize = 64 * 1024;

pub struct Connection<'a> {
    stream: TcpStream,
    peer: SocketAddr,
    broker: &'a Broker,
}

/// Why reading the next frame stopped.
enum ReadStop {
    /// The client closed the connection (or shutdown began) between requests.
    Closed,
    /// Something is wrong with the connection or the frame; close it.
    Failed(String),
}

impl<'a> Connection<'a> {
    pub fn new(stream: TcpStream, peer: SocketAddr, broker: &'a Broker) -> Connection<'a> {
        Connection {
            stream,
            peer,
            broker,
        }
    }

    /// Serves requests until the client leaves, a frame is malformed, or the
    /// broker shuts down.
    pub fn serve(mut self) {
        log::debug!("connection from {}", self.peer);
        let _ = self.stream.set_nodelay(true);
        let _ = self.stream.set_read_timeout(Some(SHUTDOWN_POLL));
        loop {
            let frame = match self.read_frame() {
                Ok(frame) => frame,
                Err(ReadStop::Closed) => break,
                Err(ReadStop::Failed(why)) => {
                    log::warn!("closing connection from {}: {why}", self.peer);
                    break;
                }
            };
            match handlers::dispatch(self.broker, self.peer, &frame) {
                Outcome::Respond(response) => {
                    if let Err(err) = self.stream.write_all(&response) {
                        log::debug!("{}: write failed: {err}", self.peer);
                        break;
                    }
                }
                Outcome::NoResponse => {}
                Outcome::Close(why) => {
                    log::warn!("closing connection from {}: {why}", self.peer);
                    break;
                }
            }
            if self.broker.shutdown.is_requested() {
                break;
            }
        }
        let _ = self.stream.shutdown(SocketShutdown::Both);
        log::debug!("connection from {} closed", self.peer);
    }

    fn read_frame(&mut self) -> Result<Vec<u8>, ReadStop> {
        let mut size = [0u8; 4];
        if !self.read_full(&mut size, true)? {
            return Err(ReadStop::Closed);
        }
        let size = i32::from_be_bytes(size);
        let max = self.broker.config.max_request_bytes;
        if size < 0 || size as usize > max {
            return Err(ReadStop::Failed(format!(
                "request of {size} bytes is outside 0..={max} (--max-request-bytes)"
            )));
        }
        // Grow the buffer as bytes arrive rather than trusting the length:
        // a client that announces 100 MB and sends nothing costs 64 KiB.
        let size = size as usize;
        let mut frame = Vec::with_capacity(size.min(FRAME_CHUNK));
        while frame.len() < size {
            let start = frame.len();
            frame.resize(start + (size - start).min(FRAME_CHUNK), 0);
            self.read_full(&mut frame[start..], false)?;
        }
        Ok(frame)
    }

    /// Fills `buf`. Returns false if the peer closed (or shutdown began)
    /// before the first byte and `at_boundary` is set; a close part-way
    /// through is an error.
    fn read_full(&mut self, buf: &mut [u8], at_boundary: bool) -> Result<bool, ReadStop> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.stream.read(&mut buf[filled..]) {
                Ok(0) if filled == 0 && at_boundary => return Ok(false),
                Ok(0) => return Err(ReadStop::Failed("connection closed mid-frame".into())),
                Ok(n) => filled += n,
                Err(err) if is_timeout(&err) => {
                    if filled == 0 && at_boundary && self.broker.shutdown.is_requested() {
                        return Ok(false);
                    }
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) if filled == 0 && at_boundary && is_disconnect(&err) => return Ok(false),
                Err(err) => return Err(ReadStop::Failed(format!("read failed: {err}"))),
            }
        }
        Ok(true)
    }
}

fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}
