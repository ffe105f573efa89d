//! The shutdown signal: SIGINT or SIGTERM flips one flag that every part of
//! the broker checks between units of work.
//!
//! The accept loop stops accepting, each connection finishes the request it
//! is handling and closes, long-polling fetches answer early, and then the
//! pool finishes its queued jobs and closes its database connections. A
//! produce is therefore either committed and acknowledged, or not
//! acknowledged at all.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    requested: Arc<AtomicBool>,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Calls `on_signal` on a background thread when SIGINT or SIGTERM
    /// arrives, after flagging the shutdown.
    pub fn on_signals(&self, on_signal: impl Fn() + Send + 'static) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let this = self.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    log::info!("received signal {signal}; shutting down");
                    this.request();
                    on_signal();
                }
            })?;
        Ok(())
    }
}
