//! One client connection: size-prefixed frames in, responses out, in order.
//!
//! Kafka frames are a 4-byte big-endian length followed by that many bytes.
//! The length is checked against `--max-request-bytes` before anything is
//! allocated, so a hostile length costs nothing. Requests are answered in
//! the order they arrived, which is exactly what pipelining clients expect.
//!
//! Produce requests that are already waiting in the socket when one is read
//! (a producer pipelines them, or sent more while the previous one was
//! being committed) are read together and appended by one group commit
//! ([`handlers::dispatch`]): on a database where each commit waits for an
//! fsync, that is what lets one connection keep up with a fast producer.

use crate::broker::Broker;
use crate::handlers::{self, Outcome};
use crate::read_ahead::ReadAhead;
use std::cell::RefCell;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown as SocketShutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How often a connection waiting for its next request looks at the
/// shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(500);

/// Longest a closing connection waits for the client to close its side.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Bytes of a frame allocated at a time while it is being received.
const FRAME_CHUNK: usize = 64 * 1024;

/// Most Produce requests committed together for one connection. librdkafka
/// keeps up to 5 in flight by default with idempotence on (KIP-98), the
/// Java client 5 as well.
const MAX_PRODUCES_TOGETHER: usize = 16;

/// Gathering stops once the requests read hold this many bytes. Small
/// requests are the ones that gain from sharing a commit; a few large ones
/// already fill a transaction, and every byte gathered is decoded into
/// records held by this connection's thread until the commit, memory the
/// allocator tends to keep afterwards.
const MAX_GATHERED_BYTES: usize = 1024 * 1024;

pub struct Connection<'a> {
    stream: TcpStream,
    peer: SocketAddr,
    broker: &'a Broker,
    /// A frame read ahead while gathering Produce requests that was not
    /// one; it is served next.
    read_ahead: Option<Vec<u8>>,
    /// Partition reads queued for this connection's next Fetch.
    fetch_read_ahead: RefCell<ReadAhead>,
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
            read_ahead: None,
            fetch_read_ahead: RefCell::default(),
        }
    }

    /// Serves requests until the client leaves, a frame is malformed, or the
    /// broker shuts down.
    pub fn serve(mut self) {
        log::debug!("connection from {}", self.peer);
        let _ = self.stream.set_nodelay(true);
        let _ = self.stream.set_read_timeout(Some(SHUTDOWN_POLL));
        loop {
            let first = match self.read_ahead.take().map_or_else(|| self.read_frame(), Ok) {
                Ok(frame) => frame,
                Err(stop) => {
                    log_stop(self.peer, &stop);
                    break;
                }
            };
            let (frames, stop) = self.gather_produces(first);
            let mut open = true;
            for outcome in
                handlers::dispatch(self.broker, self.peer, &self.fetch_read_ahead, &frames)
            {
                match outcome {
                    Outcome::Respond(response) => {
                        if let Err(err) = self.stream.write_all(&response) {
                            log::debug!("{}: write failed: {err}", self.peer);
                            open = false;
                            break;
                        }
                    }
                    Outcome::NoResponse => {}
                    Outcome::Close(why) => {
                        log::warn!("closing connection from {}: {why}", self.peer);
                        open = false;
                        break;
                    }
                }
            }
            if let Some(stop) = stop {
                log_stop(self.peer, &stop);
                break;
            }
            if !open || self.broker.shutdown.is_requested() {
                break;
            }
        }
        self.close();
        log::debug!("connection from {} closed", self.peer);
    }

    /// Closes the connection without losing answers already written. A
    /// socket closed while requests the client pipelined are still unread
    /// makes the kernel send a reset instead of a FIN, and a reset makes the
    /// client's kernel drop what it has received but the client has not
    /// read yet: answers to produces that were committed. So: send FIN
    /// after the answers, then read and discard until the client closes its
    /// side too (or [`CLOSE_LINGER`] passes).
    fn close(&mut self) {
        let _ = self.stream.shutdown(SocketShutdown::Write);
        let deadline = Instant::now() + CLOSE_LINGER;
        let mut discard = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.read(&mut discard) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if is_timeout(&err) || err.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = self.stream.shutdown(SocketShutdown::Both);
    }

    /// If `first` is a Produce request, reads the Produce requests right
    /// behind it that have already arrived, up to [`MAX_PRODUCES_TOGETHER`]
    /// requests and [`MAX_GATHERED_BYTES`]. A frame of another API read on the
    /// way is kept for the next turn; a read that fails on the way is
    /// returned after the frames before it, which are still served.
    fn gather_produces(&mut self, first: Vec<u8>) -> (Vec<Vec<u8>>, Option<ReadStop>) {
        let mut bytes = first.len();
        let mut frames = vec![first];
        if !is_produce(&frames[0]) {
            return (frames, None);
        }
        while frames.len() < MAX_PRODUCES_TOGETHER
            && bytes < MAX_GATHERED_BYTES
            && self.readable_now()
        {
            match self.read_frame() {
                Ok(frame) if is_produce(&frame) => {
                    bytes += frame.len();
                    frames.push(frame);
                }
                Ok(frame) => {
                    self.read_ahead = Some(frame);
                    break;
                }
                Err(stop) => return (frames, Some(stop)),
            }
        }
        (frames, None)
    }

    /// True if bytes (or the peer's close) are waiting to be read.
    fn readable_now(&mut self) -> bool {
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let waiting = matches!(self.stream.peek(&mut [0u8; 1]), Ok(n) if n > 0);
        // Blocking reads (with the shutdown poll timeout) are what the rest
        // of the connection relies on; if that cannot be restored, stop.
        self.stream.set_nonblocking(false).is_ok() && waiting
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

/// A request frame whose API key (its first two bytes) is Produce's, 0.
fn is_produce(frame: &[u8]) -> bool {
    frame.len() >= 2 && frame[..2] == [0, 0]
}

fn log_stop(peer: SocketAddr, stop: &ReadStop) {
    if let ReadStop::Failed(why) = stop {
        log::warn!("closing connection from {peer}: {why}");
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
