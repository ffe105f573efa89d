//! Long-poll wake-ups: a Fetch that found nothing new waits here, holding no
//! database connection, until a produce commits to one of its partitions or
//! its `max_wait_ms` runs out.
//!
//! Subscribe *before* checking for data: a commit that lands between the
//! check and the wait then still wakes the fetch.

use crate::storage::TopicId;
use crossbeam_channel::{bounded, Receiver, Sender};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type PartitionKey = (TopicId, i32);

#[derive(Default)]
pub struct Notifier {
    next_id: AtomicU64,
    waiters: Mutex<HashMap<PartitionKey, Vec<(u64, Sender<()>)>>>,
}

/// A registration for wake-ups on a set of partitions; unregisters on drop.
pub struct Subscription {
    notifier: Arc<Notifier>,
    id: u64,
    keys: Vec<PartitionKey>,
    wakeup: Receiver<()>,
}

impl Notifier {
    pub fn subscribe(self: &Arc<Self>, keys: Vec<PartitionKey>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // One slot is enough: a pending wake-up means "look again".
        let (tx, rx) = bounded(1);
        if let Ok(mut waiters) = self.waiters.lock() {
            for key in &keys {
                waiters.entry(*key).or_default().push((id, tx.clone()));
            }
        }
        Subscription {
            notifier: Arc::clone(self),
            id,
            keys,
            wakeup: rx,
        }
    }

    /// Wakes every fetch waiting on `key`.
    pub fn notify(&self, key: &PartitionKey) {
        if let Ok(waiters) = self.waiters.lock() {
            for (_, tx) in waiters.get(key).into_iter().flatten() {
                let _ = tx.try_send(());
            }
        }
    }

    /// Fetches currently waiting (for metrics and tests): each counted
    /// once, however many partitions it waits on.
    pub fn waiting(&self) -> usize {
        self.waiters.lock().map_or(0, |w| {
            let ids: HashSet<u64> = w.values().flatten().map(|(id, _)| *id).collect();
            ids.len()
        })
    }
}

impl Subscription {
    /// Waits up to `timeout` for a wake-up; true if one came.
    pub fn wait(&self, timeout: Duration) -> bool {
        self.wakeup.recv_timeout(timeout).is_ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut waiters) = self.notifier.waiters.lock() {
            for key in &self.keys {
                if let Some(list) = waiters.get_mut(key) {
                    list.retain(|(id, _)| *id != self.id);
                    if list.is_empty() {
                        waiters.remove(key);
                    }
                }
            }
        }
    }
}
