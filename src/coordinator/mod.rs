//! The group coordinator: live membership of every consumer group this
//! broker coordinates (the classic protocol), with its one owner.
//!
//! - [`group`]: one group's state machine, pure and clock-free.
//! - [`subscription`]: the topics inside a consumer's member metadata.
//!
//! Each group sits behind its own mutex and condition variable. JoinGroup
//! and SyncGroup block their connection thread on the condition variable
//! until the rebalance hands them an answer; waiting releases the mutex and
//! holds no database connection, so heartbeats, commits and other groups
//! carry on. Two background threads complete the picture:
//!
//! - the *ticker* enforces time: session timeouts of members that stopped
//!   heartbeating, rebalance timeouts, ids handed out with
//!   MEMBER_ID_REQUIRED and never used, members that never sent SyncGroup;
//! - the *writer* records every group's state transitions in PostgreSQL
//!   (`kafkaesque.consumer_groups`) in the order they happened, so the
//!   durable facts never wait on (or block) a rebalance.
//!
//! Committed offsets do not go through here: OffsetCommit validates the
//! member with [`GroupCoordinator::validate_commit`] and then writes the
//! offsets itself before answering.

pub mod group;
pub mod subscription;

use crate::broker::Broker;
use crate::pool::Pool;
use crate::protocol::messages::describe_groups::{DescribedGroup, DescribedGroupMember};
use crate::protocol::messages::join_group::JoinGroupResponse;
use crate::protocol::messages::sync_group::SyncGroupResponse;
use crate::protocol::ErrorCode;
use crate::shutdown::Shutdown;
use crate::storage::groups::GroupRow;
use crate::storage::{self, StorageError};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use group::{
    join_error, sync_error, Answer, Group, GroupConfig, GroupState, JoinParams, Reply, SyncParams,
    Ticket,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the ticker enforces deadlines. Session timeouts are at least
/// six seconds, so a tenth of a second is precise enough.
const TICK: Duration = Duration::from_millis(100);

/// How long a blocked JoinGroup/SyncGroup sleeps before it looks at the
/// shutdown flag again (it is woken at once when its answer is ready).
const WAIT_SLICE: Duration = Duration::from_millis(250);

/// How long a group that never reached PostgreSQL may sit idle before it
/// is forgotten; long enough that no request is still on its way to it.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// Most group-state writes the writer commits in one transaction.
const MAX_WRITE_BATCH: usize = 256;

/// One group and the condition variable its blocked calls wait on.
struct GroupSlot {
    group: Mutex<Group>,
    changed: Condvar,
    created: Instant,
}

impl GroupSlot {
    fn new(group: Group) -> Arc<GroupSlot> {
        Arc::new(GroupSlot {
            group: Mutex::new(group),
            changed: Condvar::new(),
            created: Instant::now(),
        })
    }

    /// Locks the group. A panic elsewhere while holding the lock leaves the
    /// state machine consistent between calls, so a poisoned lock is used
    /// as is.
    fn lock(&self) -> MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A change for the writer thread.
enum GroupWrite {
    Save(GroupRow),
    /// Delete groups with their offsets, then report back.
    Delete(Vec<String>, Sender<Result<(), StorageError>>),
}

/// What ListGroups shows of a group.
#[derive(Debug, Clone)]
pub struct GroupListing {
    pub group_id: String,
    pub protocol_type: String,
    pub state: GroupState,
}

pub struct GroupCoordinator {
    config: GroupConfig,
    groups: Mutex<HashMap<String, Arc<GroupSlot>>>,
    writes: Sender<GroupWrite>,
    /// The writer's end of `writes`, until [`start`] hands it to the thread.
    write_queue: Mutex<Option<Receiver<GroupWrite>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl GroupCoordinator {
    /// A coordinator that knows the groups PostgreSQL has, all Empty (their
    /// members, if any were alive, rejoin).
    pub fn new(config: GroupConfig, restored: Vec<GroupRow>) -> GroupCoordinator {
        let (writes, write_queue) = unbounded();
        let groups = restored
            .into_iter()
            .map(|row| {
                let protocol_type = Some(row.protocol_type).filter(|t| !t.is_empty());
                let group = Group::restored(row.group_id.clone(), protocol_type, row.generation);
                (row.group_id, GroupSlot::new(group))
            })
            .collect();
        GroupCoordinator {
            config,
            groups: Mutex::new(groups),
            writes,
            write_queue: Mutex::new(Some(write_queue)),
            threads: Mutex::new(Vec::new()),
        }
    }

    fn slot(&self, group_id: &str) -> Option<Arc<GroupSlot>> {
        self.map().get(group_id).cloned()
    }

    fn slot_or_create(&self, group_id: &str) -> Arc<GroupSlot> {
        Arc::clone(
            self.map()
                .entry(group_id.to_string())
                .or_insert_with(|| GroupSlot::new(Group::new(group_id.to_string()))),
        )
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<GroupSlot>>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets a group (already marked Dead), unless its id was reused.
    fn unmap(&self, group_id: &str, slot: &Arc<GroupSlot>) {
        let mut map = self.map();
        if map.get(group_id).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            map.remove(group_id);
        }
    }

    fn all_slots(&self) -> Vec<Arc<GroupSlot>> {
        self.map().values().cloned().collect()
    }

    /// Hands the group's new durable facts to the writer, if they changed.
    fn save(&self, group: &mut Group) {
        if group.revision == group.saved_revision || group.state == GroupState::Dead {
            return;
        }
        group.saved_revision = group.revision;
        group.durable = true;
        let _ = self.writes.send(GroupWrite::Save(GroupRow {
            group_id: group.id.clone(),
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            state: group.state.name().to_string(),
            generation: group.generation,
            protocol_name: group.protocol_name.clone(),
            leader_id: group.leader.clone(),
            member_count: i32::try_from(group.members().count()).unwrap_or(i32::MAX),
        }));
    }

    /// Saves and wakes the blocked calls after a change to a group.
    fn changed(&self, slot: &GroupSlot, group: &mut Group) {
        self.save(group);
        slot.changed.notify_all();
    }

    /// Waits (without holding the lock) for a blocked call's answer; `None`
    /// if the broker shuts down first.
    fn wait(
        &self,
        slot: &GroupSlot,
        mut group: MutexGuard<'_, Group>,
        ticket: Ticket,
        shutdown: &Shutdown,
    ) -> Option<Reply> {
        loop {
            if let Some(reply) = group.take_reply(ticket) {
                return Some(reply);
            }
            if shutdown.is_requested() {
                return None;
            }
            group = match slot.changed.wait_timeout(group, WAIT_SLICE) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// JoinGroup: blocks until the rebalance completes (or answers at once).
    pub fn join(
        &self,
        group_id: &str,
        params: JoinParams,
        shutdown: &Shutdown,
    ) -> JoinGroupResponse {
        let slot = if params.member_id.is_empty() {
            self.slot_or_create(group_id)
        } else {
            match self.slot(group_id) {
                Some(slot) => slot,
                None => return join_error(ErrorCode::UnknownMemberId, &params.member_id),
            }
        };
        let member_id = params.member_id.clone();
        let mut group = slot.lock();
        log::debug!(
            "group {group_id}: join from {:?} ({:?}) in {}",
            member_id,
            params.client_id,
            group.state.name()
        );
        let answer = group.join(params, Instant::now(), &self.config);
        self.changed(&slot, &mut group);
        match answer {
            Answer::Now(response) => response,
            Answer::Later(ticket) => match self.wait(&slot, group, ticket, shutdown) {
                Some(Reply::Join(response)) => response,
                _ => join_error(ErrorCode::CoordinatorNotAvailable, &member_id),
            },
        }
    }

    /// SyncGroup: blocks until the leader's assignment arrives (or answers
    /// at once).
    pub fn sync(
        &self,
        group_id: &str,
        params: SyncParams,
        shutdown: &Shutdown,
    ) -> SyncGroupResponse {
        let Some(slot) = self.slot(group_id) else {
            return sync_error(ErrorCode::UnknownMemberId);
        };
        let mut group = slot.lock();
        let answer = group.sync(params, Instant::now());
        self.changed(&slot, &mut group);
        match answer {
            Answer::Now(response) => response,
            Answer::Later(ticket) => match self.wait(&slot, group, ticket, shutdown) {
                Some(Reply::Sync(response)) => response,
                _ => sync_error(ErrorCode::CoordinatorNotAvailable),
            },
        }
    }

    pub fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> ErrorCode {
        let Some(slot) = self.slot(group_id) else {
            return ErrorCode::UnknownMemberId;
        };
        let mut group = slot.lock();
        group.heartbeat(member_id, instance_id, generation, Instant::now())
    }

    /// LeaveGroup for each `(member id, instance id)`; `Err` is a
    /// group-level error.
    pub fn leave(
        &self,
        group_id: &str,
        leaving: &[(String, Option<String>)],
    ) -> Result<Vec<ErrorCode>, ErrorCode> {
        let Some(slot) = self.slot(group_id) else {
            return Ok(vec![ErrorCode::UnknownMemberId; leaving.len()]);
        };
        let mut group = slot.lock();
        if group.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        let now = Instant::now();
        let answers = leaving
            .iter()
            .map(|(member, instance)| group.leave(member, instance.as_deref(), now, &self.config))
            .collect();
        self.changed(&slot, &mut group);
        Ok(answers)
    }

    /// Whether an OffsetCommit may be stored now. A commit from outside the
    /// group (generation < 0) creates a group that only holds offsets.
    pub fn validate_commit(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        version: i16,
    ) -> Result<(), ErrorCode> {
        let slot = match self.slot(group_id) {
            Some(slot) => slot,
            None if generation < 0 => self.slot_or_create(group_id),
            // Kafka 4: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
            None if version >= 9 => return Err(ErrorCode::GroupIdNotFound),
            None => return Err(ErrorCode::IllegalGeneration),
        };
        let mut group = slot.lock();
        group.validate_commit(member_id, instance_id, generation, Instant::now())
    }

    /// DescribeGroups of one group. Unknown groups are reported Dead, as
    /// Kafka does before DescribeGroups v6.
    pub fn describe(&self, group_id: &str) -> DescribedGroup {
        let mut described = DescribedGroup {
            group_id: group_id.to_string(),
            group_state: GroupState::Dead.name().to_string(),
            ..Default::default()
        };
        let Some(slot) = self.slot(group_id) else {
            return described;
        };
        let group = slot.lock();
        described.group_state = group.state.name().to_string();
        described.protocol_type = group.protocol_type.clone().unwrap_or_default();
        // Kafka shows the protocol, metadata and assignments only once the
        // group is Stable.
        let stable = group.state == GroupState::Stable;
        let protocol = group.protocol_name.clone().unwrap_or_default();
        if stable {
            described.protocol_data = protocol.clone();
        }
        described.members = group
            .members()
            .map(|m| DescribedGroupMember {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                member_metadata: if stable {
                    m.metadata(&protocol).to_vec()
                } else {
                    Vec::new()
                },
                member_assignment: if stable {
                    m.assignment.clone()
                } else {
                    Vec::new()
                },
            })
            .collect();
        described
    }

    /// Every group that is not Dead, sorted by id.
    pub fn list(&self) -> Vec<GroupListing> {
        let mut listed: Vec<GroupListing> = self
            .all_slots()
            .iter()
            .filter_map(|slot| {
                let group = slot.lock();
                (group.state != GroupState::Dead).then(|| GroupListing {
                    group_id: group.id.clone(),
                    protocol_type: group.protocol_type.clone().unwrap_or_default(),
                    state: group.state,
                })
            })
            .collect();
        listed.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        listed
    }

    /// DeleteGroups of one group: only an Empty group can go. It is marked
    /// Dead and forgotten at once; [`GroupCoordinator::forget`] then deletes
    /// its rows.
    pub fn remove_if_empty(&self, group_id: &str) -> Result<(), ErrorCode> {
        let Some(slot) = self.slot(group_id) else {
            return Err(ErrorCode::GroupIdNotFound);
        };
        let mut group = slot.lock();
        // Deadlines already past count now, not at the ticker's next round
        // (up to a TICK later): Kafka's timers fire on time, so a member
        // whose session has expired is gone by the time a DeleteGroups
        // sent after that arrives.
        if group.tick(Instant::now(), &self.config) {
            self.changed(&slot, &mut group);
        }
        match group.state {
            GroupState::Dead => Err(ErrorCode::GroupIdNotFound),
            GroupState::Empty => {
                group.mark_dead();
                slot.changed.notify_all();
                self.unmap(group_id, &slot);
                Ok(())
            }
            _ => Err(ErrorCode::NonEmptyGroup),
        }
    }

    /// Deletes removed groups and their offsets from PostgreSQL, after any
    /// state writes queued before.
    pub fn forget(&self, group_ids: Vec<String>) -> Result<(), StorageError> {
        let (reply, answer) = bounded(1);
        self.writes
            .send(GroupWrite::Delete(group_ids, reply))
            .map_err(|_| StorageError::Unavailable("the group writer has stopped".into()))?;
        crate::pool::wait(&answer)
    }

    /// OffsetDelete's view of a group: `Ok` with the topics its live members
    /// subscribe to, or the group-level error (Kafka's
    /// `validateOffsetDelete`).
    pub fn subscribed_topics(&self, group_id: &str) -> Result<BTreeSet<String>, ErrorCode> {
        let Some(slot) = self.slot(group_id) else {
            return Err(ErrorCode::GroupIdNotFound);
        };
        let group = slot.lock();
        match group.state {
            GroupState::Dead => Err(ErrorCode::GroupIdNotFound),
            GroupState::Empty => Ok(BTreeSet::new()),
            _ if group.protocol_type.as_deref() != Some("consumer") => {
                Err(ErrorCode::NonEmptyGroup)
            }
            _ => {
                let protocol = group.protocol_name.clone().unwrap_or_default();
                Ok(group
                    .members()
                    .filter_map(|m| subscription::subscribed_topics(m.metadata(&protocol)).ok())
                    .flatten()
                    .collect())
            }
        }
    }

    /// Enforces every group's deadlines (the ticker's work).
    fn tick(&self) {
        let now = Instant::now();
        for slot in self.all_slots() {
            let mut group = slot.lock();
            if group.tick(now, &self.config) {
                self.changed(&slot, &mut group);
            }
            if group.is_forgettable() && slot.created.elapsed() > FORGET_AFTER {
                // Dead first: a join racing with this answers
                // COORDINATOR_NOT_AVAILABLE and retries into a new group.
                group.mark_dead();
                self.unmap(&group.id, &slot);
            }
        }
    }

    /// Writes a batch of queued group changes (the writer's work).
    fn write(&self, pool: &Pool, batch: Vec<GroupWrite>) {
        let mut saves: Vec<GroupRow> = Vec::new();
        let flush = |saves: &mut Vec<GroupRow>| {
            if saves.is_empty() {
                return;
            }
            let rows = std::mem::take(saves);
            let count = rows.len();
            if let Err(err) = pool.run(move |db| storage::groups::save(db, &rows)) {
                log::warn!("recording the state of {count} group(s) failed: {err}");
            }
        };
        for write in batch {
            match write {
                GroupWrite::Save(row) => {
                    // Only the latest state of each group matters.
                    saves.retain(|r| r.group_id != row.group_id);
                    saves.push(row);
                }
                GroupWrite::Delete(ids, reply) => {
                    flush(&mut saves);
                    let _ = reply.send(pool.run(move |db| storage::groups::delete(db, &ids)));
                }
            }
        }
        flush(&mut saves);
    }

    /// Waits for the background threads to finish (after shutdown began).
    pub fn stop(&self) {
        let threads: Vec<JoinHandle<()>> = match self.threads.lock() {
            Ok(mut threads) => threads.drain(..).collect(),
            Err(_) => return,
        };
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// Starts the ticker and the writer. They hold the broker only weakly, and
/// stop once shutdown is requested.
pub fn start(broker: &Arc<Broker>) -> std::io::Result<()> {
    let queue = broker
        .groups
        .write_queue
        .lock()
        .ok()
        .and_then(|mut q| q.take());
    let Some(queue) = queue else {
        return Ok(());
    };
    let weak = Arc::downgrade(broker);
    let ticker = std::thread::Builder::new()
        .name("group-ticker".into())
        .spawn(move || ticker_loop(&weak))?;
    let weak = Arc::downgrade(broker);
    let writer = std::thread::Builder::new()
        .name("group-writer".into())
        .spawn(move || writer_loop(&weak, &queue))?;
    if let Ok(mut threads) = broker.groups.threads.lock() {
        threads.push(ticker);
        threads.push(writer);
    }
    Ok(())
}

fn ticker_loop(broker: &Weak<Broker>) {
    loop {
        std::thread::sleep(TICK);
        let Some(broker) = broker.upgrade() else {
            return;
        };
        if broker.shutdown.is_requested() {
            return;
        }
        broker.groups.tick();
    }
}

fn writer_loop(broker: &Weak<Broker>, queue: &Receiver<GroupWrite>) {
    loop {
        match queue.recv_timeout(TICK * 5) {
            Ok(first) => {
                let mut batch = vec![first];
                batch.extend(queue.try_iter().take(MAX_WRITE_BATCH - 1));
                let Some(broker) = broker.upgrade() else {
                    return;
                };
                broker.groups.write(&broker.pool, batch);
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                let stopping = broker.upgrade().is_none_or(|b| b.shutdown.is_requested());
                if stopping {
                    return;
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
    }
}
