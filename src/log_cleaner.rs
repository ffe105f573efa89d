//! The log cleaner: one background thread that, every
//! `--log-retention-check-interval-ms`, applies each topic's cleanup policy
//! to each of its partitions.
//!
//! - **delete** (retention.ms, retention.bytes): moves the log start offset
//!   past the records Kafka would delete. Kafka deletes whole segments, the
//!   oldest first, while the segment's newest record is older than
//!   retention.ms, or while the log stays at least retention.bytes without
//!   it; with no segments, the same rules apply record by record, so
//!   retention here is exact. Consumers below the new log start get
//!   OFFSET_OUT_OF_RANGE and reset, as with Kafka.
//! - **compact**: deletes every record that has a newer record with the
//!   same key, records without a key, and tombstones older than
//!   delete.retention.ms. Records younger than min.compaction.lag.ms, and
//!   everything after them, are left alone; so is the last record of the
//!   log (Kafka never cleans the active segment), which keeps consumers
//!   able to reach the log end. Surviving records keep their offsets.
//! - **compact,delete**: both.
//!
//! Rows below the log start offset (left by retention or DeleteRecords) are
//! then deleted. Every statement is bounded (see [`crate::storage::cleaner`])
//! and goes through the pool like any request, so producers and consumers
//! wait at most one small batch for a connection.

use crate::broker::Broker;
use crate::metrics::CLEANER_REMOVED_RECORDS;
use crate::storage::cleaner::{self, CompactionWindow};
use crate::storage::topics::{PartitionRow, TopicMeta};
use crate::storage::{self, StorageError};
use crate::topic_config::TopicSettings;
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Records read per round trip while looking for the new log start.
const SCAN_ROWS: i64 = 5_000;
/// Rows deleted per statement below the log start offset.
const DELETE_ROWS: i64 = 10_000;
/// Offsets one compaction statement may delete from.
const COMPACTION_WINDOW: i64 = 10_000;

/// The running cleaner; [`LogCleaner::stop`] ends it.
pub struct LogCleaner {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the cleaner thread.
pub fn start(broker: Arc<Broker>) -> LogCleaner {
    let (stop, stopped) = bounded(1);
    let thread = std::thread::Builder::new()
        .name("log-cleaner".into())
        .spawn(move || run(&broker, &stopped))
        .map_err(|e| log::error!("cannot start the log cleaner: {e}"))
        .ok();
    LogCleaner { stop, thread }
}

impl LogCleaner {
    /// Stops the cleaner (after the statement it is running) and waits.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(broker: &Broker, stopped: &Receiver<()>) {
    let interval = Duration::from_millis(broker.config.log_retention_check_interval_ms.max(1));
    log::info!(
        "log cleaner started; checking every {} ms",
        interval.as_millis()
    );
    loop {
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let keep_going = || stopped.is_empty() && !broker.shutdown.is_requested();
        if let Err(err) = clean_all(broker, &keep_going) {
            log::warn!("log cleaner: pass failed, will retry: {err}");
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One pass over every partition of every topic.
fn clean_all(broker: &Broker, keep_going: &dyn Fn() -> bool) -> Result<(), StorageError> {
    let topics = broker.pool.run(storage::topics::load_all)?;
    for topic in topics {
        let settings = broker.dynamic_configs.with_broker_level(broker, |level| {
            TopicSettings::resolve(&topic.configs, level)
        });
        let id = topic.id;
        let rows = broker
            .pool
            .run(move |db| storage::topics::partition_rows(db, id))?;
        for (partition, row) in rows {
            if !keep_going() {
                return Ok(());
            }
            let now = now_ms();
            if settings.delete {
                apply_retention(broker, &topic, partition, row, &settings, now)?;
            }
            if settings.compact {
                compact(broker, &topic, partition, row, &settings, now, keep_going)?;
            }
            delete_below_log_start(broker, id, partition, keep_going)?;
        }
    }
    Ok(())
}

/// retention.ms and retention.bytes: where the log should start now.
fn apply_retention(
    broker: &Broker,
    topic: &TopicMeta,
    partition: i32,
    row: PartitionRow,
    settings: &TopicSettings,
    now: i64,
) -> Result<(), StorageError> {
    let id = topic.id;
    let mut start = row.log_start_offset;
    if settings.retention_ms >= 0 {
        // The oldest records whose timestamp is past retention, up to the
        // first one that is not.
        let cutoff = now.saturating_sub(settings.retention_ms);
        loop {
            let from = start;
            let records = broker
                .pool
                .run(move |db| cleaner::records_from(db, id, partition, from, SCAN_ROWS))?;
            match records.iter().find(|r| r.timestamp >= cutoff) {
                Some(kept) => {
                    start = kept.offset;
                    break;
                }
                None if (records.len() as i64) < SCAN_ROWS => {
                    start = row.next_offset;
                    break;
                }
                None => start = records.last().map_or(start, |r| r.offset + 1),
            }
        }
    }
    if settings.retention_bytes >= 0 && start < row.next_offset {
        // The oldest records, while the log stays at least retention.bytes
        // without them.
        let from = start;
        let total = broker
            .pool
            .run(move |db| cleaner::partition_size(db, id, partition, from))?;
        let mut excess = total - settings.retention_bytes;
        'scan: while excess > 0 {
            let from = start;
            let records = broker
                .pool
                .run(move |db| cleaner::records_from(db, id, partition, from, SCAN_ROWS))?;
            for record in &records {
                if excess - record.size < 0 {
                    break 'scan;
                }
                excess -= record.size;
                start = record.offset + 1;
            }
            if (records.len() as i64) < SCAN_ROWS {
                break;
            }
        }
    }
    if start > row.log_start_offset {
        let moved = broker
            .pool
            .run(move |db| cleaner::move_log_start(db, id, partition, start))?;
        if let Some(moved) = moved {
            broker
                .watermarks
                .advance((id, partition), moved.next_offset, moved.log_start_offset);
            broker.metrics.add(
                &CLEANER_REMOVED_RECORDS,
                &[("topic", &topic.name), ("policy", "delete")],
                u64::try_from(moved.log_start_offset - row.log_start_offset).unwrap_or(0),
            );
            log::info!(
                "log cleaner: {}-{partition}: retention moved the log start offset from {} to {}",
                topic.name,
                row.log_start_offset,
                moved.log_start_offset
            );
        }
    }
    Ok(())
}

/// Compaction, window by window from the log start.
#[allow(clippy::too_many_arguments)]
fn compact(
    broker: &Broker,
    topic: &TopicMeta,
    partition: i32,
    row: PartitionRow,
    settings: &TopicSettings,
    now: i64,
    keep_going: &dyn Fn() -> bool,
) -> Result<(), StorageError> {
    let id = topic.id;
    let log_start = row.log_start_offset;
    let last = row.next_offset - 1;
    if last <= log_start {
        return Ok(());
    }
    let cleanable_end = if settings.min_compaction_lag_ms > 0 {
        let young = now.saturating_sub(settings.min_compaction_lag_ms);
        broker
            .pool
            .run(move |db| cleaner::first_newer_than(db, id, partition, log_start, young))?
            .unwrap_or(row.next_offset)
    } else {
        row.next_offset
    };
    let end = cleanable_end.min(last);
    let tombstone_cutoff = now.saturating_sub(settings.delete_retention_ms);
    let mut removed = 0;
    let mut from = log_start;
    while from < end && keep_going() {
        let window = CompactionWindow {
            from,
            until: from.saturating_add(COMPACTION_WINDOW).min(end),
            cleanable_end,
            tombstone_cutoff,
        };
        removed += broker
            .pool
            .run(move |db| cleaner::compact_window(db, id, partition, window))?;
        from = window.until;
    }
    if removed > 0 {
        broker.metrics.add(
            &CLEANER_REMOVED_RECORDS,
            &[("topic", &topic.name), ("policy", "compact")],
            removed,
        );
        log::info!(
            "log cleaner: {}-{partition}: compaction removed {removed} records",
            topic.name
        );
    }
    Ok(())
}

/// Deletes the rows below a partition's log start offset, batch by batch.
pub fn delete_below_log_start(
    broker: &Broker,
    id: storage::TopicId,
    partition: i32,
    keep_going: &dyn Fn() -> bool,
) -> Result<u64, StorageError> {
    let mut deleted = 0;
    loop {
        let n = broker
            .pool
            .run(move |db| cleaner::delete_below_log_start(db, id, partition, DELETE_ROWS))?;
        deleted += n;
        if (n as i64) < DELETE_ROWS || !keep_going() {
            return Ok(deleted);
        }
    }
}
