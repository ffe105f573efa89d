//! The state every connection shares: configuration, the database pool, and
//! two caches of what PostgreSQL holds (topics and partition watermarks).
//!
//! PostgreSQL is the source of truth. The caches have one owner (this
//! struct), are filled from the database on a miss and can always be
//! rebuilt from it, which is what will let several brokers share one
//! database later.

use crate::config::Config;
use crate::coordinator::GroupCoordinator;
use crate::metrics::Metrics;
use crate::notifier::{Notifier, PartitionKey};
use crate::pool::Pool;
use crate::read_ahead::ReadAheadBudget;
use crate::resource_configs::DynamicConfigs;
use crate::shutdown::Shutdown;
use crate::storage::topics::{PartitionRow, TopicMeta};
use crate::storage::{self, StorageError, TopicId};
use crate::transactions::TransactionCoordinator;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

pub struct Broker {
    pub config: Config,
    /// Host and port Metadata advertises for this node.
    pub advertised_host: String,
    pub advertised_port: i32,
    pub cluster_id: String,
    pub pool: Pool,
    pub topics: TopicCache,
    pub watermarks: Watermarks,
    /// Dynamic broker and group configs (topic configs live in `topics`).
    pub dynamic_configs: DynamicConfigs,
    pub notifier: Arc<Notifier>,
    pub transactions: TransactionCoordinator,
    /// Live membership of the consumer groups this broker coordinates.
    pub groups: GroupCoordinator,
    pub shutdown: Shutdown,
    /// Client connections open right now (bounded by `--max-connections`).
    pub connections: AtomicUsize,
    /// Bounds the bytes all connections together read ahead for their
    /// consumers ([`crate::read_ahead`]).
    pub read_ahead_budget: ReadAheadBudget,
    /// Counters and histograms for `--metrics-listener` (shared with the
    /// pool's workers).
    pub metrics: Arc<Metrics>,
}

impl Broker {
    pub fn node_id(&self) -> i32 {
        self.config.node_id
    }

    /// Looks a topic up by name: the cache first, then PostgreSQL.
    pub fn topic(&self, name: &str) -> Result<Option<Arc<TopicMeta>>, StorageError> {
        if let Some(topic) = self.topics.get(name) {
            return Ok(Some(topic));
        }
        let owned = name.to_string();
        let found = self
            .pool
            .run(move |db| storage::topics::by_name(db, &owned))?;
        Ok(found.map(|t| self.topics.insert(t)))
    }

    /// The watermarks of one partition: the cache first, then PostgreSQL.
    /// `None` if the partition does not exist.
    pub fn partition(
        &self,
        topic: &TopicMeta,
        partition: i32,
    ) -> Result<Option<PartitionMarks>, StorageError> {
        if partition < 0 || partition >= topic.partitions {
            return Ok(None);
        }
        if let Some(row) = self.watermarks.get(&(topic.id, partition)) {
            return Ok(Some(row));
        }
        let id = topic.id;
        let rows = self
            .pool
            .run(move |db| storage::topics::partition_rows(db, id))?;
        for (p, row) in rows {
            self.watermarks.load((id, p), row);
        }
        Ok(self.watermarks.get(&(topic.id, partition)))
    }

    /// Records that a commit moved a partition's log end, and wakes the
    /// fetches waiting for it.
    pub fn committed(&self, key: PartitionKey, next_offset: i64, log_start_offset: i64) {
        self.watermarks.advance(key, next_offset, log_start_offset);
        self.notifier.notify(&key);
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Topics by name and by id.
#[derive(Default)]
pub struct TopicCache {
    inner: RwLock<TopicMaps>,
}

#[derive(Default)]
struct TopicMaps {
    by_name: HashMap<String, Arc<TopicMeta>>,
    by_id: HashMap<TopicId, Arc<TopicMeta>>,
}

impl TopicCache {
    pub fn get(&self, name: &str) -> Option<Arc<TopicMeta>> {
        self.inner.read().ok()?.by_name.get(name).cloned()
    }

    pub fn get_by_id(&self, id: &TopicId) -> Option<Arc<TopicMeta>> {
        self.inner.read().ok()?.by_id.get(id).cloned()
    }

    /// Every cached topic, sorted by name.
    pub fn all(&self) -> Vec<Arc<TopicMeta>> {
        let mut all: Vec<_> = self
            .inner
            .read()
            .map(|m| m.by_name.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    pub fn insert(&self, topic: TopicMeta) -> Arc<TopicMeta> {
        let topic = Arc::new(topic);
        if let Ok(mut maps) = self.inner.write() {
            if let Some(old) = maps.by_name.insert(topic.name.clone(), Arc::clone(&topic)) {
                maps.by_id.remove(&old.id);
            }
            maps.by_id.insert(topic.id, Arc::clone(&topic));
        }
        topic
    }

    /// Replaces the whole cache with what the database holds.
    pub fn replace_all(&self, topics: Vec<TopicMeta>) {
        if let Ok(mut maps) = self.inner.write() {
            maps.by_name.clear();
            maps.by_id.clear();
            for topic in topics {
                let topic = Arc::new(topic);
                maps.by_id.insert(topic.id, Arc::clone(&topic));
                maps.by_name.insert(topic.name.clone(), topic);
            }
        }
    }

    pub fn remove(&self, id: &TopicId) {
        if let Ok(mut maps) = self.inner.write() {
            if let Some(old) = maps.by_id.remove(id) {
                maps.by_name.remove(&old.name);
            }
        }
    }
}

/// What the broker knows of one partition's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionMarks {
    /// Log end offset = high watermark (every record is committed).
    pub next_offset: i64,
    pub log_start_offset: i64,
    /// Open transactions writing here: producer id → the offset their first
    /// record has, or (before it is written) a lower bound for it.
    pub open_transactions: HashMap<i64, OpenTransaction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenTransaction {
    pub first_offset: i64,
    /// False while `first_offset` is only the log end at the time the
    /// partition joined the transaction.
    pub written: bool,
}

impl PartitionMarks {
    /// The last stable offset: the first offset of the earliest open
    /// transaction, else the high watermark. read_committed consumers read
    /// up to here (KIP-98).
    pub fn last_stable_offset(&self) -> i64 {
        self.open_transactions
            .values()
            .map(|t| t.first_offset)
            .min()
            .map_or(self.next_offset, |first| first.min(self.next_offset))
    }
}

/// Log end, log start and open transactions of every partition the broker
/// has touched.
#[derive(Default)]
pub struct Watermarks {
    inner: RwLock<HashMap<PartitionKey, PartitionMarks>>,
}

impl Watermarks {
    pub fn get(&self, key: &PartitionKey) -> Option<PartitionMarks> {
        self.inner.read().ok()?.get(key).cloned()
    }

    /// Fills the cache from the database, never moving a watermark back.
    pub fn load(&self, key: PartitionKey, row: PartitionRow) {
        self.update(key, |marks| {
            marks.next_offset = marks.next_offset.max(row.next_offset);
            marks.log_start_offset = marks.log_start_offset.max(row.log_start_offset);
        });
    }

    /// Moves a partition's watermarks forward after a commit. Commits to one
    /// partition are serialised by its row lock, but their answers may reach
    /// here out of order, so only ever move forward.
    pub fn advance(&self, key: PartitionKey, next_offset: i64, log_start_offset: i64) {
        self.load(
            key,
            PartitionRow {
                next_offset,
                log_start_offset,
                leader_epoch: 0,
            },
        );
    }

    /// A transaction registered this partition: until it writes, its first
    /// offset can be no lower than today's log end, which holds the last
    /// stable offset there.
    pub fn transaction_joined(&self, key: PartitionKey, producer_id: i64) {
        self.update(key, |marks| {
            let bound = marks.next_offset;
            marks
                .open_transactions
                .entry(producer_id)
                .or_insert(OpenTransaction {
                    first_offset: bound,
                    written: false,
                });
        });
    }

    /// A transaction's batch was committed at `base_offset`; the first such
    /// batch fixes the transaction's first offset.
    pub fn transaction_wrote(&self, key: PartitionKey, producer_id: i64, base_offset: i64) {
        self.update(key, |marks| {
            let entry = marks
                .open_transactions
                .entry(producer_id)
                .or_insert(OpenTransaction {
                    first_offset: base_offset,
                    written: true,
                });
            if !entry.written {
                entry.first_offset = entry.first_offset.max(base_offset);
                entry.written = true;
            }
        });
    }

    /// A transaction ended with its marker; the log now ends at `next_offset`.
    pub fn transaction_ended(&self, key: PartitionKey, producer_id: i64, next_offset: i64) {
        self.update(key, |marks| {
            marks.open_transactions.remove(&producer_id);
            marks.next_offset = marks.next_offset.max(next_offset);
        });
    }

    fn update(&self, key: PartitionKey, change: impl FnOnce(&mut PartitionMarks)) {
        if let Ok(mut map) = self.inner.write() {
            change(map.entry(key).or_default());
        }
    }

    /// Every cached partition's watermarks (for metrics).
    pub fn all(&self) -> Vec<(PartitionKey, PartitionMarks)> {
        self.inner
            .read()
            .map(|map| map.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default()
    }

    pub fn remove_topic(&self, id: &TopicId) {
        if let Ok(mut map) = self.inner.write() {
            map.retain(|(topic, _), _| topic != id);
        }
    }
}
