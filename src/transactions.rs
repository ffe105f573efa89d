//! The transaction coordinator (KIP-98): transactional ids, their producer
//! epochs, and the life of each transaction (Empty → Ongoing → Complete).
//!
//! Durable facts live in PostgreSQL ([`crate::storage::transactions`]); this
//! module owns the live view of them, one mutex per transactional id, so
//! requests for one id run one at a time (as on Kafka's coordinator) while
//! different ids never wait on each other. Ending a transaction is a single
//! PostgreSQL transaction, so the "prepare" states Kafka needs between its
//! log writes never exist here.
//!
//! Fencing: InitProducerId bumps the epoch, aborting any open transaction of
//! the previous producer with that id; every later request must carry the
//! current producer id and epoch. A transaction open longer than its timeout
//! is aborted in the background and its epoch bumped, so a zombie producer
//! is fenced too.

use crate::broker::Broker;
use crate::protocol::ErrorCode;
use crate::storage::transactions::{self as store, PendingOffset, TransactionRow};
use crate::storage::{StorageError, TopicId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Kafka's state names, kept in the database as text.
pub const EMPTY: &str = "Empty";
pub const ONGOING: &str = "Ongoing";
pub const COMPLETE_COMMIT: &str = "CompleteCommit";
pub const COMPLETE_ABORT: &str = "CompleteAbort";

#[derive(Default)]
pub struct TransactionCoordinator {
    ids: Mutex<HashMap<String, Arc<Mutex<Option<TransactionRow>>>>>,
}

/// Why a transactional request was refused.
pub type TxnResult<T> = Result<T, ErrorCode>;

impl TransactionCoordinator {
    /// Loads every transactional id and the open transactions' first
    /// offsets, so a restarted broker carries on where it stopped.
    pub fn load(&self, broker: &Broker) -> Result<(), StorageError> {
        let rows = broker.pool.run(store::load_all)?;
        let open = broker.pool.run(store::open_first_offsets)?;
        if let Ok(mut ids) = self.ids.lock() {
            for (id, row) in rows {
                for &(topic_id, partition) in &row.partitions {
                    broker
                        .watermarks
                        .transaction_joined((topic_id, partition), row.producer_id);
                }
                ids.insert(id, Arc::new(Mutex::new(Some(row))));
            }
        }
        for (topic_id, partition, producer_id, first_offset) in open {
            broker
                .watermarks
                .transaction_wrote((topic_id, partition), producer_id, first_offset);
        }
        Ok(())
    }

    fn slot(&self, id: &str) -> Arc<Mutex<Option<TransactionRow>>> {
        match self.ids.lock() {
            Ok(mut ids) => Arc::clone(ids.entry(id.to_string()).or_default()),
            Err(_) => Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `f` with the transactional id's state locked.
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Option<TransactionRow>) -> T) -> T {
        let slot = self.slot(id);
        let mut guard = match slot.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// InitProducerId with a transactional id.
    pub fn init_producer_id(
        &self,
        broker: &Broker,
        id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        version: i16,
    ) -> TxnResult<(i64, i16)> {
        if timeout_ms <= 0 || timeout_ms > broker.config.transaction_max_timeout_ms {
            return Err(ErrorCode::InvalidTransactionTimeout);
        }
        self.with(id, |state| {
            let next = match state.clone() {
                None => {
                    let producer_id = broker
                        .pool
                        .run(crate::storage::producers::allocate_producer_id)
                        .map_err(storage)?;
                    TransactionRow {
                        producer_id,
                        producer_epoch: 0,
                        timeout_ms,
                        state: EMPTY.into(),
                        started_at: None,
                        partitions: Vec::new(),
                        groups: Vec::new(),
                    }
                }
                Some(mut row) => {
                    // KIP-360: a producer that knows its id and epoch may
                    // only bump its own epoch.
                    if let Some((producer_id, epoch)) = expected {
                        if producer_id != row.producer_id || epoch != row.producer_epoch {
                            return Err(fenced(version, 4));
                        }
                    }
                    if row.state == ONGOING {
                        // Fence the previous producer: abort its transaction
                        // under a bumped epoch.
                        row = bump_epoch(broker, row)?;
                        row = finish(broker, id, row, false)?;
                    }
                    row.timeout_ms = timeout_ms;
                    row.state = EMPTY.into();
                    bump_epoch(broker, row)?
                }
            };
            let saved = next.clone();
            let owned_id = id.to_string();
            broker
                .pool
                .run(move |db| store::save(db, &owned_id, &saved))
                .map_err(storage)?;
            let answer = (next.producer_id, next.producer_epoch);
            *state = Some(next);
            Ok(answer)
        })
    }

    /// AddPartitionsToTxn: every partition must exist, or none is added.
    pub fn add_partitions(
        &self,
        broker: &Broker,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(TopicId, i32)],
        version: i16,
    ) -> TxnResult<()> {
        self.with(id, |state| {
            let mut next = ongoing(current(state, producer_id, epoch, version)?);
            for p in partitions {
                if !next.partitions.contains(p) {
                    next.partitions.push(*p);
                }
            }
            let saved = next.clone();
            let owned_id = id.to_string();
            let added = partitions.to_vec();
            broker
                .pool
                .run(move |db| store::add_partitions(db, &owned_id, &saved, &added))
                .map_err(storage)?;
            for &key in partitions {
                broker.watermarks.transaction_joined(key, producer_id);
            }
            *state = Some(next);
            Ok(())
        })
    }

    /// AddOffsetsToTxn: the transaction will commit offsets of `group_id`.
    pub fn add_offsets(
        &self,
        broker: &Broker,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group_id: &str,
        version: i16,
    ) -> TxnResult<()> {
        self.with(id, |state| {
            let mut next = ongoing(current(state, producer_id, epoch, version)?);
            if !next.groups.iter().any(|g| g == group_id) {
                next.groups.push(group_id.to_string());
            }
            let saved = next.clone();
            let owned_id = id.to_string();
            broker
                .pool
                .run(move |db| store::save(db, &owned_id, &saved))
                .map_err(storage)?;
            *state = Some(next);
            Ok(())
        })
    }

    /// TxnOffsetCommit: offsets that take effect when the transaction commits.
    pub fn commit_offsets(
        &self,
        broker: &Broker,
        id: &str,
        producer_id: i64,
        epoch: i16,
        offsets: Vec<PendingOffset>,
        version: i16,
    ) -> TxnResult<()> {
        self.with(id, |state| {
            let row = current(state, producer_id, epoch, version)?;
            if row.state != ONGOING || offsets.iter().any(|o| !row.groups.contains(&o.group_id)) {
                return Err(ErrorCode::InvalidTxnState);
            }
            let owned_id = id.to_string();
            broker
                .pool
                .run(move |db| store::add_offsets(db, &owned_id, &offsets))
                .map_err(storage)
        })
    }

    /// EndTxn: commit or abort the ongoing transaction.
    pub fn end(
        &self,
        broker: &Broker,
        id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        version: i16,
    ) -> TxnResult<()> {
        self.with(id, |state| {
            let row = current(state, producer_id, epoch, version)?.clone();
            match (row.state.as_str(), commit) {
                (ONGOING, _) => {
                    let done = finish(broker, id, row, commit)?;
                    *state = Some(done);
                    Ok(())
                }
                // A retry of an EndTxn that already completed.
                (COMPLETE_COMMIT, true) | (COMPLETE_ABORT, false) => Ok(()),
                _ => Err(ErrorCode::InvalidTxnState),
            }
        })
    }

    /// Checks a transactional produce: the producer is current and the
    /// partition was added to its ongoing transaction.
    pub fn check_produce(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        key: (TopicId, i32),
    ) -> TxnResult<()> {
        self.with(id, |state| match state {
            None => Err(ErrorCode::InvalidProducerIdMapping),
            Some(row) if row.producer_id != producer_id => Err(ErrorCode::InvalidProducerIdMapping),
            Some(row) if row.producer_epoch != epoch => Err(ErrorCode::InvalidProducerEpoch),
            Some(row) if row.state != ONGOING || !row.partitions.contains(&key) => {
                Err(ErrorCode::InvalidTxnState)
            }
            Some(_) => Ok(()),
        })
    }

    /// Aborts every transaction open longer than its timeout, bumping its
    /// epoch so the producer that left it open is fenced.
    pub fn abort_expired(&self, broker: &Broker) {
        let ids: Vec<String> = self
            .ids
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let now = SystemTime::now();
        for id in ids {
            let result = self.with(&id, |state| {
                let Some(row) = state.clone() else {
                    return Ok(false);
                };
                let expired = row.state == ONGOING
                    && row.started_at.is_some_and(|t| {
                        now.duration_since(t).unwrap_or_default()
                            > Duration::from_millis(u64::try_from(row.timeout_ms).unwrap_or(0))
                    });
                if !expired {
                    return Ok(false);
                }
                let bumped = bump_epoch(broker, row)?;
                *state = Some(finish(broker, &id, bumped, false)?);
                Ok::<bool, ErrorCode>(true)
            });
            match result {
                Ok(true) => {
                    log::info!("aborted transaction of {id:?}: open longer than its timeout")
                }
                Ok(false) => {}
                Err(code) => {
                    log::warn!("could not abort the expired transaction of {id:?}: {code:?}")
                }
            }
        }
    }

    /// Every transactional id with its state, for ListTransactions and
    /// DescribeTransactions.
    pub fn snapshot(&self) -> Vec<(String, TransactionRow)> {
        let slots: Vec<(String, Arc<Mutex<Option<TransactionRow>>>)> = self
            .ids
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), Arc::clone(v))).collect())
            .unwrap_or_default();
        let mut out: Vec<(String, TransactionRow)> = slots
            .into_iter()
            .filter_map(|(id, slot)| {
                slot.lock()
                    .ok()
                    .and_then(|g| g.clone())
                    .map(|row| (id, row))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The row of a known transactional id whose producer id and epoch match.
fn current(
    state: &Option<TransactionRow>,
    producer_id: i64,
    epoch: i16,
    version: i16,
) -> TxnResult<&TransactionRow> {
    let row = state.as_ref().ok_or(ErrorCode::InvalidProducerIdMapping)?;
    if row.producer_id != producer_id {
        return Err(ErrorCode::InvalidProducerIdMapping);
    }
    if row.producer_epoch != epoch {
        return Err(fenced(version, 2));
    }
    Ok(row)
}

/// The row as it is once a transaction is under way: the same one if it
/// already is, else a new transaction starting now.
fn ongoing(row: &TransactionRow) -> TransactionRow {
    let mut next = row.clone();
    if next.state != ONGOING {
        next.state = ONGOING.into();
        next.started_at = Some(SystemTime::now());
        next.partitions.clear();
        next.groups.clear();
    }
    next
}

/// PRODUCER_FENCED (KIP-588) for request versions that know it, else the
/// older INVALID_PRODUCER_EPOCH.
fn fenced(version: i16, first_version_with_fenced: i16) -> ErrorCode {
    if version >= first_version_with_fenced {
        ErrorCode::ProducerFenced
    } else {
        ErrorCode::InvalidProducerEpoch
    }
}

/// The next epoch, or a new producer id at epoch 0 once the epoch is
/// exhausted (Kafka does the same).
fn bump_epoch(broker: &Broker, mut row: TransactionRow) -> TxnResult<TransactionRow> {
    if row.producer_epoch >= i16::MAX - 1 {
        row.producer_id = broker
            .pool
            .run(crate::storage::producers::allocate_producer_id)
            .map_err(storage)?;
        row.producer_epoch = 0;
    } else {
        row.producer_epoch += 1;
    }
    Ok(row)
}

/// Writes the markers (under the row's epoch) and the new state of a
/// completing transaction (and, on commit, its consumer offsets), then
/// moves the affected partitions' watermarks.
fn finish(
    broker: &Broker,
    id: &str,
    row: TransactionRow,
    commit: bool,
) -> TxnResult<TransactionRow> {
    let mut done = row.clone();
    done.state = if commit {
        COMPLETE_COMMIT
    } else {
        COMPLETE_ABORT
    }
    .into();
    done.started_at = None;
    done.partitions.clear();
    done.groups.clear();
    let epoch = row.producer_epoch;
    let saved = done.clone();
    let owned_id = id.to_string();
    let ends = broker
        .pool
        .run(move |db| store::complete(db, &owned_id, &saved, epoch, commit))
        .map_err(storage)?;
    let mut ended = std::collections::HashSet::new();
    for (key, next_offset) in ends {
        broker
            .watermarks
            .transaction_ended(key, row.producer_id, next_offset);
        broker.notifier.notify(&key);
        ended.insert(key);
    }
    // Partitions registered but never written to hold no marker.
    for key in row.partitions.iter().filter(|k| !ended.contains(*k)) {
        broker
            .watermarks
            .transaction_ended(*key, row.producer_id, 0);
        broker.notifier.notify(key);
    }
    Ok(done)
}

/// Storage failures make the coordinator unavailable for a moment, which
/// every client retries.
fn storage(err: StorageError) -> ErrorCode {
    log::warn!("transaction coordinator: {err}");
    ErrorCode::CoordinatorNotAvailable
}

/// How often open transactions are checked against their timeout (Kafka:
/// transaction.abort.timed.out.transaction.cleanup.interval.ms, 10 s).
const EXPIRY_INTERVAL: Duration = Duration::from_secs(1);

/// Starts the background thread that aborts timed-out transactions.
pub fn spawn_expiry(broker: &Arc<Broker>) {
    let broker = Arc::clone(broker);
    let spawned = std::thread::Builder::new()
        .name("txn-expiry".into())
        .spawn(move || {
            while !broker.shutdown.is_requested() {
                std::thread::sleep(EXPIRY_INTERVAL);
                broker.transactions.abort_expired(&broker);
            }
        });
    if let Err(err) = spawned {
        log::error!("cannot start the transaction expiry thread: {err}");
    }
}
