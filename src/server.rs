//! The accept loop: a blocking `std::net` listener and one thread per
//! client connection, bounded by `--max-connections`.
//!
//! A thread per connection keeps every request a plain sequence of blocking
//! calls (read frame, decode, act, write). A slow or silent client only ever
//! stalls its own thread.

use crate::broker::Broker;
use crate::connection::Connection;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Stack size of a connection thread. Requests are decoded iteratively, so a
/// small stack is plenty and keeps a thousand idle connections cheap.
const CONNECTION_STACK_BYTES: usize = 256 * 1024;

/// Accepts clients until shutdown is requested, then waits (bounded) for the
/// open connections to finish their current request.
pub fn run(broker: Arc<Broker>, listener: TcpListener) {
    let local = listener.local_addr().ok();
    for stream in listener.incoming() {
        if broker.shutdown.is_requested() {
            break;
        }
        match stream {
            Ok(stream) => accept(&broker, stream),
            Err(err) => {
                log::warn!("accept failed: {err}");
                // Out of file descriptors and the like: back off briefly.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    log::info!("stopped accepting connections on {local:?}");
    for _ in 0..100 {
        if broker.connection_count() == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn accept(broker: &Arc<Broker>, stream: TcpStream) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let open = broker.connections.fetch_add(1, Ordering::SeqCst);
    if open >= broker.config.max_connections {
        broker.connections.fetch_sub(1, Ordering::SeqCst);
        log::warn!(
            "refusing connection from {peer}: {open} connections open (--max-connections {})",
            broker.config.max_connections
        );
        return;
    }
    let broker_for_thread = Arc::clone(broker);
    let spawned = std::thread::Builder::new()
        .name(format!("conn-{peer}"))
        .stack_size(CONNECTION_STACK_BYTES)
        .spawn(move || {
            let broker = broker_for_thread;
            // A bug in one connection's handling must not take the broker down.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Connection::new(stream, peer, &broker).serve();
            }));
            if result.is_err() {
                log::error!("connection {peer}: internal error; connection closed");
            }
            broker.connections.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(err) = spawned {
        broker.connections.fetch_sub(1, Ordering::SeqCst);
        log::error!("cannot start a thread for {peer}: {err}");
    }
}

/// Unblocks a listener stuck in `accept` (used on shutdown).
pub fn wake(addr: SocketAddr) {
    let addr = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}
