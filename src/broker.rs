//! The state every connection shares: configuration, the database pool, and
//! two caches of what PostgreSQL holds (topics and partition watermarks).
//!
//! PostgreSQL is the source of truth. The caches have one owner (this
//! struct), are filled from the database on a miss and can always be
//! rebuilt from it, which is what will let several brokers share one
//! database later.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::notifier::{Notifier, PartitionKey};
use crate::pool::Pool;
use crate::shutdown::Shutdown;
use crate::storage::topics::{PartitionRow, TopicMeta};
use crate::storage::{self, StorageError, TopicId};
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
    pub notifier: Arc<Notifier>,
    pub shutdown: Shutdown,
    /// Client connections open right now (bounded by `--max-connections`).
    pub connections: AtomicUsize,
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
    ) -> Result<Option<PartitionRow>, StorageError> {
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

/// Log end and log start offsets of every partition the broker has touched.
#[derive(Default)]
pub struct Watermarks {
    inner: RwLock<HashMap<PartitionKey, PartitionRow>>,
}

impl Watermarks {
    pub fn get(&self, key: &PartitionKey) -> Option<PartitionRow> {
        self.inner.read().ok()?.get(key).copied()
    }

    /// Fills the cache from the database, never moving a watermark back.
    pub fn load(&self, key: PartitionKey, row: PartitionRow) {
        if let Ok(mut map) = self.inner.write() {
            let entry = map.entry(key).or_insert(row);
            entry.next_offset = entry.next_offset.max(row.next_offset);
            entry.log_start_offset = entry.log_start_offset.max(row.log_start_offset);
        }
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

    /// Every cached partition's watermarks (for metrics).
    pub fn all(&self) -> Vec<(PartitionKey, PartitionRow)> {
        self.inner
            .read()
            .map(|map| map.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }

    pub fn remove_topic(&self, id: &TopicId) {
        if let Ok(mut map) = self.inner.write() {
            map.retain(|(topic, _), _| topic != id);
        }
    }
}
