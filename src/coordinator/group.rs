//! One classic consumer group and Kafka's state machine for it
//! (`GroupMetadata.scala` / `ClassicGroup.java` in Apache Kafka).
//!
//! ```text
//!            join                  all joined / timeout           leader's SyncGroup
//!   Empty ─────────► PreparingRebalance ─────────► CompletingRebalance ─────────► Stable
//!     ▲                 ▲      │ nobody left            │  join/leave/expiry          │
//!     └─────────────────┼──────┘                        ▼                             │
//!                       └────────────────────── (rebalance again) ◄───────────────────┘
//! ```
//! `Dead` is a deleted group: every request to it is refused until the id is
//! used again.
//!
//! This module is pure: no locks, no I/O, no clock. Every call takes `now`,
//! and members blocked in JoinGroup or SyncGroup are represented by a
//! [`Ticket`] whose [`Reply`] the coordinator picks up once it is ready. That
//! keeps the whole protocol testable without threads.

use crate::protocol::messages::join_group::{
    JoinGroupRequestProtocol, JoinGroupResponse, JoinGroupResponseMember,
};
use crate::protocol::messages::sync_group::SyncGroupResponse;
use crate::protocol::ErrorCode;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// The states of a classic group, named as DescribeGroups and ListGroups
/// report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// Broker settings that shape every group.
#[derive(Debug, Clone, Copy)]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms`
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms`
    pub max_session_timeout: Duration,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of
    /// an empty group waits for more members before it completes.
    pub initial_rebalance_delay: Duration,
}

/// Identifies one blocked JoinGroup or SyncGroup call.
pub type Ticket = u64;

/// The answer a blocked call is waiting for.
#[derive(Debug, Clone)]
pub enum Reply {
    Join(JoinGroupResponse),
    Sync(SyncGroupResponse),
}

/// What a JoinGroup or SyncGroup call gets: an answer now, or a ticket to
/// wait on.
#[derive(Debug)]
pub enum Answer<T> {
    Now(T),
    Later(Ticket),
}

/// A JoinGroup request as the state machine needs it.
#[derive(Debug, Clone)]
pub struct JoinParams {
    /// Empty on a member's first join.
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    pub protocols: Vec<JoinGroupRequestProtocol>,
    /// v4+ (KIP-394): a member without an id first gets MEMBER_ID_REQUIRED.
    pub require_known_member_id: bool,
    /// v9+ (KIP-814): a static leader that rejoins may skip the assignment.
    pub supports_skip_assignment: bool,
}

/// A SyncGroup request as the state machine needs it.
#[derive(Debug, Clone)]
pub struct SyncParams {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// The leader's assignment, by member id; empty from followers.
    pub assignments: Vec<(String, Vec<u8>)>,
}

/// One member of a group.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    /// KIP-345 static membership.
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// The assignors it supports, in preference order, each with its opaque
    /// metadata (for consumers: the subscription).
    pub protocols: Vec<JoinGroupRequestProtocol>,
    /// What the leader assigned it in the current generation.
    pub assignment: Vec<u8>,
    awaiting_join: Option<Ticket>,
    awaiting_sync: Option<Ticket>,
    last_heartbeat: Instant,
}

impl Member {
    /// Its metadata for one protocol (empty if it does not support it).
    pub fn metadata(&self, protocol: &str) -> &[u8] {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map_or(&[][..], |p| p.metadata.as_slice())
    }

    /// Alive as far as the session timeout is concerned. A member blocked in
    /// JoinGroup or SyncGroup cannot heartbeat, so it is kept alive (Kafka's
    /// `MemberMetadata.shouldKeepAlive`).
    fn is_alive(&self, now: Instant) -> bool {
        self.awaiting_join.is_some()
            || self.awaiting_sync.is_some()
            || now < self.last_heartbeat + self.session_timeout
    }
}

/// What the rebalance currently in preparation waits for.
#[derive(Debug, Clone, Copy)]
enum JoinPhase {
    /// A rebalance of a group that was empty: wait `initial_rebalance_delay`
    /// (and again, while new members keep arriving, up to the rebalance
    /// timeout) before completing, so a starting fleet forms one generation.
    InitialDelay { remaining: Duration },
    /// Every known member must rejoin, or be dropped at the deadline.
    AwaitingMembers,
}

/// A classic group: membership, generation and the rebalance in progress.
#[derive(Debug)]
pub struct Group {
    pub id: String,
    pub state: GroupState,
    pub generation: i32,
    /// Set by the first member to join ("consumer" for consumers).
    pub protocol_type: Option<String>,
    /// The assignor chosen for the current generation.
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// Ordered by member id, so the leader sees a stable member list.
    members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED and not used yet, with
    /// the time they expire (KIP-394).
    pending_members: HashMap<String, Instant>,
    /// Static members: instance id → current member id.
    static_members: HashMap<String, String>,
    join_phase: JoinPhase,
    join_deadline: Option<Instant>,
    /// A member joined during the initial delay, so wait once more.
    new_member_added: bool,
    /// Members of the current generation that have not sent SyncGroup yet,
    /// and when they will be dropped for it (Kafka 3.x pending sync).
    pending_sync: BTreeSet<String>,
    sync_deadline: Option<Instant>,
    replies: HashMap<Ticket, Reply>,
    next_ticket: Ticket,
    /// Bumped on every change of the facts kept in PostgreSQL.
    pub revision: u64,
    /// The revision last handed to the writer of those facts.
    pub saved_revision: u64,
    /// PostgreSQL knows this group (its state or offsets were written).
    /// A group that never got that far is forgotten once it is idle.
    pub durable: bool,
}

impl Group {
    pub fn new(id: String) -> Group {
        Group {
            id,
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            pending_members: HashMap::new(),
            static_members: HashMap::new(),
            join_phase: JoinPhase::AwaitingMembers,
            join_deadline: None,
            new_member_added: false,
            pending_sync: BTreeSet::new(),
            sync_deadline: None,
            replies: HashMap::new(),
            next_ticket: 1,
            revision: 0,
            saved_revision: 0,
            durable: false,
        }
    }

    /// A group known from PostgreSQL: it outlived its members (or only ever
    /// stored offsets), so it is Empty.
    pub fn restored(id: String, protocol_type: Option<String>, generation: i32) -> Group {
        let mut group = Group::new(id);
        group.protocol_type = protocol_type;
        group.generation = generation;
        group.durable = true;
        group
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// Empty, idle and unknown to PostgreSQL: e.g. a client got
    /// MEMBER_ID_REQUIRED and never came back. Nothing would be lost by
    /// forgetting it.
    pub fn is_forgettable(&self) -> bool {
        self.state == GroupState::Empty
            && !self.durable
            && self.members.is_empty()
            && self.pending_members.is_empty()
    }

    /// The answer for a ticket, once it is ready.
    pub fn take_reply(&mut self, ticket: Ticket) -> Option<Reply> {
        self.replies.remove(&ticket)
    }

    /// Marks the group deleted; every blocked call is refused.
    pub fn mark_dead(&mut self) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            self.remove_member(&id, ErrorCode::CoordinatorNotAvailable);
        }
        self.pending_members.clear();
        self.transition(GroupState::Dead);
    }

    // ----- JoinGroup -------------------------------------------------------

    pub fn join(
        &mut self,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        if p.session_timeout < config.min_session_timeout
            || p.session_timeout > config.max_session_timeout
        {
            return Answer::Now(join_error(ErrorCode::InvalidSessionTimeout, &p.member_id));
        }
        if self.state == GroupState::Dead {
            return Answer::Now(join_error(ErrorCode::CoordinatorNotAvailable, &p.member_id));
        }
        if !self.supports_protocols(&p.protocol_type, &p.protocols) {
            return Answer::Now(join_error(
                ErrorCode::InconsistentGroupProtocol,
                &p.member_id,
            ));
        }
        if p.member_id.is_empty() {
            self.join_new_member(p, now, config)
        } else {
            self.join_known_member(p, now, config)
        }
    }

    /// Kafka's `supportsProtocols`: the first member sets the protocol type;
    /// later ones must share it and at least one assignor with everyone.
    fn supports_protocols(
        &self,
        protocol_type: &str,
        protocols: &[JoinGroupRequestProtocol],
    ) -> bool {
        if self.state == GroupState::Empty {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|p| self.members.values().all(|m| m.metadata_supports(&p.name)))
    }

    fn join_new_member(
        &mut self,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        if let Some(instance) = p.instance_id.clone() {
            let new_id = format!("{instance}-{}", random_uuid());
            if let Some(old_id) = self.static_members.get(&instance).cloned() {
                return self.replace_static_member(&old_id, new_id, p, now, config);
            }
            return self.add_member_and_rebalance(new_id, p, now, config);
        }
        let new_id = format!("{}-{}", p.client_id, random_uuid());
        if p.require_known_member_id {
            // KIP-394: hand out the id and wait for the member to come back
            // with it, so a client that retries a timed-out first join does
            // not leave ghost members behind.
            self.pending_members
                .insert(new_id.clone(), now + p.session_timeout);
            return Answer::Now(join_error(ErrorCode::MemberIdRequired, &new_id));
        }
        self.add_member_and_rebalance(new_id, p, now, config)
    }

    fn join_known_member(
        &mut self,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        let id = p.member_id.clone();
        if self.pending_members.contains_key(&id) {
            return self.add_member_and_rebalance(id, p, now, config);
        }
        if let Err(code) = self.check_member(&id, p.instance_id.as_deref()) {
            return Answer::Now(join_error(code, &id));
        }
        let is_leader = self.leader.as_deref() == Some(id.as_str());
        let unchanged = self
            .members
            .get(&id)
            .is_some_and(|m| m.protocols == p.protocols);
        match self.state {
            GroupState::PreparingRebalance => self.update_member_and_rebalance(p, now, config),
            GroupState::CompletingRebalance if unchanged => {
                // A retry of a join that already completed: same answer.
                Answer::Now(self.join_result(&id, is_leader))
            }
            GroupState::Stable if unchanged && !is_leader => {
                Answer::Now(self.join_result(&id, false))
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.update_member_and_rebalance(p, now, config)
            }
            GroupState::Empty | GroupState::Dead => {
                Answer::Now(join_error(ErrorCode::UnknownMemberId, &id))
            }
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        id: String,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        let ticket = self.new_ticket();
        if self.state == GroupState::PreparingRebalance && self.generation == 0 {
            self.new_member_added = true;
        }
        if self.members.is_empty() {
            self.protocol_type = Some(p.protocol_type.clone());
            self.revision += 1;
        }
        if let Some(instance) = &p.instance_id {
            self.static_members.insert(instance.clone(), id.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(id.clone());
        }
        self.pending_members.remove(&id);
        self.members.insert(
            id.clone(),
            Member {
                id,
                instance_id: p.instance_id,
                client_id: p.client_id,
                client_host: p.client_host,
                session_timeout: p.session_timeout,
                rebalance_timeout: p.rebalance_timeout,
                protocols: p.protocols,
                assignment: Vec::new(),
                awaiting_join: Some(ticket),
                awaiting_sync: None,
                last_heartbeat: now,
            },
        );
        self.maybe_prepare_rebalance(now, config);
        self.try_complete_join(now, config);
        Answer::Later(ticket)
    }

    fn update_member_and_rebalance(
        &mut self,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        let ticket = self.new_ticket();
        let Some(member) = self.members.get_mut(&p.member_id) else {
            return Answer::Now(join_error(ErrorCode::UnknownMemberId, &p.member_id));
        };
        member.protocols = p.protocols;
        member.session_timeout = p.session_timeout;
        member.rebalance_timeout = p.rebalance_timeout;
        member.client_id = p.client_id;
        member.client_host = p.client_host;
        member.last_heartbeat = now;
        // A second JoinGroup while the first is still waiting supersedes it.
        let superseded = member.awaiting_join.replace(ticket);
        if let Some(old) = superseded {
            self.replies.insert(
                old,
                Reply::Join(join_error(ErrorCode::RebalanceInProgress, &p.member_id)),
            );
        }
        self.maybe_prepare_rebalance(now, config);
        self.try_complete_join(now, config);
        Answer::Later(ticket)
    }

    /// KIP-345: a static member restarted and joins without its old member
    /// id. It takes over the old member's place (fencing the old id); the
    /// group rebalances only if the assignor would change.
    fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: String,
        p: JoinParams,
        now: Instant,
        config: &GroupConfig,
    ) -> Answer<JoinGroupResponse> {
        let Some(mut member) = self.members.remove(old_id) else {
            return self.add_member_and_rebalance(new_id, p, now, config);
        };
        if let Some(ticket) = member.awaiting_join.take() {
            self.replies.insert(
                ticket,
                Reply::Join(join_error(ErrorCode::FencedInstanceId, old_id)),
            );
        }
        if let Some(ticket) = member.awaiting_sync.take() {
            self.replies
                .insert(ticket, Reply::Sync(sync_error(ErrorCode::FencedInstanceId)));
        }
        let previous_leader = self.leader.clone();
        let was_leader = previous_leader.as_deref() == Some(old_id);
        if was_leader {
            self.leader = Some(new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        if let Some(instance) = &p.instance_id {
            self.static_members.insert(instance.clone(), new_id.clone());
        }
        member.id = new_id.clone();
        member.protocols = p.protocols;
        member.session_timeout = p.session_timeout;
        member.rebalance_timeout = p.rebalance_timeout;
        member.client_id = p.client_id;
        member.client_host = p.client_host;
        member.last_heartbeat = now;
        self.members.insert(new_id.clone(), member);

        match self.state {
            GroupState::Stable if self.select_protocol() == self.protocol_name => {
                // Nothing changes for the group: answer with the current
                // generation. Before KIP-814 (v9) a returning leader is told
                // the old leader id, so it syncs as a follower and keeps its
                // assignment; from v9 it learns it leads but must skip the
                // assignment.
                let skip = was_leader && p.supports_skip_assignment;
                let mut answer = self.join_result(&new_id, skip);
                answer.skip_assignment = skip;
                if !skip {
                    answer.leader = previous_leader.unwrap_or_default();
                }
                Answer::Now(answer)
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                let ticket = self.await_join(&new_id);
                self.maybe_prepare_rebalance(now, config);
                Answer::Later(ticket)
            }
            GroupState::PreparingRebalance => {
                let ticket = self.await_join(&new_id);
                self.try_complete_join(now, config);
                Answer::Later(ticket)
            }
            GroupState::Empty | GroupState::Dead => {
                Answer::Now(join_error(ErrorCode::UnknownMemberId, &new_id))
            }
        }
    }

    fn await_join(&mut self, id: &str) -> Ticket {
        let ticket = self.new_ticket();
        if let Some(member) = self.members.get_mut(id) {
            member.awaiting_join = Some(ticket);
        }
        ticket
    }

    /// The successful JoinGroup answer for a member of the current
    /// generation; the leader also gets every member's metadata.
    fn join_result(&self, id: &str, with_members: bool) -> JoinGroupResponse {
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let members = if with_members {
            self.members
                .values()
                .map(|m| JoinGroupResponseMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    metadata: m.metadata(&protocol).to_vec(),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None.code(),
            generation_id: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            skip_assignment: false,
            member_id: id.to_string(),
            members,
        }
    }

    // ----- Rebalancing -----------------------------------------------------

    fn maybe_prepare_rebalance(&mut self, now: Instant, config: &GroupConfig) {
        if matches!(
            self.state,
            GroupState::Empty | GroupState::Stable | GroupState::CompletingRebalance
        ) {
            self.prepare_rebalance(now, config);
        }
    }

    fn prepare_rebalance(&mut self, now: Instant, config: &GroupConfig) {
        if self.state == GroupState::CompletingRebalance {
            // The leader's assignment for this generation will never come
            // (or is stale): tell everyone waiting in SyncGroup to rejoin.
            for member in self.members.values_mut() {
                member.assignment.clear();
                if let Some(ticket) = member.awaiting_sync.take() {
                    self.replies.insert(
                        ticket,
                        Reply::Sync(sync_error(ErrorCode::RebalanceInProgress)),
                    );
                }
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        let rebalance_timeout = self.rebalance_timeout();
        if self.state == GroupState::Empty {
            let delay = config.initial_rebalance_delay;
            self.join_phase = JoinPhase::InitialDelay {
                remaining: rebalance_timeout.saturating_sub(delay),
            };
            self.join_deadline = Some(now + delay);
        } else {
            self.join_phase = JoinPhase::AwaitingMembers;
            self.join_deadline = Some(now + rebalance_timeout);
        }
        self.transition(GroupState::PreparingRebalance);
        // Kafka's tryCompleteElseWatch: a rebalance nobody needs to wait
        // for (the last member just left) completes at once.
        self.try_complete_join(now, config);
    }

    /// The longest rebalance timeout of any member: how long a rebalance
    /// waits for everyone to rejoin.
    fn rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Completes the join phase if everyone is in or its time is up.
    fn try_complete_join(&mut self, now: Instant, config: &GroupConfig) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let due = self.join_deadline.is_some_and(|d| now >= d);
        match self.join_phase {
            JoinPhase::InitialDelay { remaining } => {
                if !due {
                    return;
                }
                let delay = config.initial_rebalance_delay.min(remaining);
                if self.new_member_added && !delay.is_zero() {
                    self.new_member_added = false;
                    self.join_phase = JoinPhase::InitialDelay {
                        remaining: remaining - delay,
                    };
                    self.join_deadline = Some(now + delay);
                    return;
                }
                // Unlike Kafka, also wait for the members just told
                // MEMBER_ID_REQUIRED: they are on their way back, and a
                // fleet started together should form one generation even
                // with no initial delay. A member that never returns holds
                // this up only until its id expires (its session timeout).
                if !self.pending_members.is_empty() {
                    return;
                }
            }
            JoinPhase::AwaitingMembers => {
                let all_joined = self.pending_members.is_empty()
                    && self.members.values().all(|m| m.awaiting_join.is_some());
                if !all_joined && !due {
                    return;
                }
            }
        }
        self.complete_join(now);
    }

    fn complete_join(&mut self, now: Instant) {
        // Dynamic members that did not rejoin in time are gone; static ones
        // keep their place until their session expires (KIP-345).
        let missing: Vec<String> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.instance_id.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in missing {
            self.remove_member(&id, ErrorCode::UnknownMemberId);
        }
        if !self.members.is_empty() {
            let leader_joined = self
                .leader
                .as_ref()
                .and_then(|l| self.members.get(l))
                .is_some_and(|m| m.awaiting_join.is_some());
            if !leader_joined {
                match self.members.values().find(|m| m.awaiting_join.is_some()) {
                    Some(m) => self.leader = Some(m.id.clone()),
                    None => {
                        // Only absent static members are left: wait for them
                        // to rejoin or for their sessions to expire.
                        self.join_deadline = Some(now + self.rebalance_timeout());
                        return;
                    }
                }
            }
        }
        self.generation += 1;
        self.join_deadline = None;
        self.join_phase = JoinPhase::AwaitingMembers;
        self.new_member_added = false;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.leader = None;
            self.transition(GroupState::Empty);
            return;
        }
        self.protocol_name = self.select_protocol();
        self.pending_sync = self.members.keys().cloned().collect();
        self.sync_deadline = Some(now + self.rebalance_timeout());
        self.transition(GroupState::CompletingRebalance);
        let leader = self.leader.clone().unwrap_or_default();
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let answer = self.join_result(&id, id == leader);
            if let Some(member) = self.members.get_mut(&id) {
                member.last_heartbeat = now;
                if let Some(ticket) = member.awaiting_join.take() {
                    self.replies.insert(ticket, Reply::Join(answer));
                }
            }
        }
    }

    /// Kafka's `selectProtocol`: among the assignors every member supports,
    /// each member votes for the first one in its own preference list; the
    /// most votes win (ties go to the leader's preference order).
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|name| self.members.values().all(|m| m.metadata_supports(name)))
            .collect();
        let mut votes: HashMap<&str, usize> = HashMap::new();
        for member in self.members.values() {
            if let Some(choice) = member
                .protocols
                .iter()
                .map(|p| p.name.as_str())
                .find(|name| candidates.contains(name))
            {
                *votes.entry(choice).or_default() += 1;
            }
        }
        let preference: Vec<&str> = match self.leader.as_ref().and_then(|l| self.members.get(l)) {
            Some(leader) => leader.protocols.iter().map(|p| p.name.as_str()).collect(),
            None => candidates.clone(),
        };
        candidates
            .iter()
            .max_by_key(|name| {
                let rank = preference
                    .iter()
                    .position(|p| p == *name)
                    .unwrap_or(usize::MAX);
                (
                    votes.get(*name).copied().unwrap_or(0),
                    std::cmp::Reverse(rank),
                )
            })
            .map(|name| name.to_string())
    }

    /// Removes a member, answering its blocked calls with `why`.
    fn remove_member(&mut self, id: &str, why: ErrorCode) {
        let Some(member) = self.members.remove(id) else {
            return;
        };
        if let Some(instance) = &member.instance_id {
            if self.static_members.get(instance).map(String::as_str) == Some(id) {
                self.static_members.remove(instance);
            }
        }
        if let Some(ticket) = member.awaiting_join {
            self.replies
                .insert(ticket, Reply::Join(join_error(why, id)));
        }
        if let Some(ticket) = member.awaiting_sync {
            self.replies.insert(ticket, Reply::Sync(sync_error(why)));
        }
        self.pending_sync.remove(id);
        if self.leader.as_deref() == Some(id) {
            self.leader = self.members.keys().next().cloned();
        }
    }

    /// Removes a member that left or expired and lets the group react:
    /// rebalance if it was settled, or finish a rebalance that was waiting
    /// only for that member.
    fn remove_member_and_update(&mut self, id: &str, now: Instant, config: &GroupConfig) {
        self.remove_member(id, ErrorCode::UnknownMemberId);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance(now, config)
            }
            GroupState::PreparingRebalance => self.try_complete_join(now, config),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    // ----- SyncGroup -------------------------------------------------------

    pub fn sync(&mut self, p: SyncParams, now: Instant) -> Answer<SyncGroupResponse> {
        if self.state == GroupState::Dead {
            return Answer::Now(sync_error(ErrorCode::CoordinatorNotAvailable));
        }
        if let Err(code) = self.check_member(&p.member_id, p.instance_id.as_deref()) {
            return Answer::Now(sync_error(code));
        }
        if p.generation != self.generation {
            return Answer::Now(sync_error(ErrorCode::IllegalGeneration));
        }
        let mismatch = |asked: &Option<String>, ours: &Option<String>| {
            asked.as_ref().is_some_and(|a| Some(a) != ours.as_ref())
        };
        if mismatch(&p.protocol_type, &self.protocol_type)
            || mismatch(&p.protocol_name, &self.protocol_name)
        {
            return Answer::Now(sync_error(ErrorCode::InconsistentGroupProtocol));
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                Answer::Now(sync_error(ErrorCode::UnknownMemberId))
            }
            GroupState::PreparingRebalance => {
                Answer::Now(sync_error(ErrorCode::RebalanceInProgress))
            }
            GroupState::CompletingRebalance => {
                self.synced(&p.member_id, now);
                let ticket = self.new_ticket();
                if let Some(member) = self.members.get_mut(&p.member_id) {
                    member.awaiting_sync = Some(ticket);
                }
                if self.leader.as_deref() == Some(p.member_id.as_str()) {
                    // The leader's assignment, verbatim; members it left
                    // out get an empty (but valid) assignment.
                    let mut assigned: HashMap<String, Vec<u8>> =
                        p.assignments.into_iter().collect();
                    for member in self.members.values_mut() {
                        member.assignment = assigned.remove(&member.id).unwrap_or_default();
                    }
                    self.transition(GroupState::Stable);
                    let answers: Vec<(Ticket, SyncGroupResponse)> = self
                        .members
                        .values_mut()
                        .filter_map(|m| {
                            let ticket = m.awaiting_sync.take()?;
                            m.last_heartbeat = now;
                            Some((ticket, m.assignment.clone()))
                        })
                        .map(|(ticket, assignment)| (ticket, sync_ok(assignment)))
                        .collect();
                    for (ticket, mut answer) in answers {
                        answer.protocol_type = self.protocol_type.clone();
                        answer.protocol_name = self.protocol_name.clone();
                        self.replies.insert(ticket, Reply::Sync(answer));
                    }
                }
                Answer::Later(ticket)
            }
            GroupState::Stable => {
                self.synced(&p.member_id, now);
                let assignment = self
                    .members
                    .get(&p.member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                let mut answer = sync_ok(assignment);
                answer.protocol_type = self.protocol_type.clone();
                answer.protocol_name = self.protocol_name.clone();
                Answer::Now(answer)
            }
        }
    }

    /// A member of the current generation has sent its SyncGroup.
    fn synced(&mut self, id: &str, now: Instant) {
        self.pending_sync.remove(id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
        if let Some(member) = self.members.get_mut(id) {
            member.last_heartbeat = now;
        }
    }

    // ----- Heartbeat, LeaveGroup, OffsetCommit -----------------------------

    /// Fails with FENCED_INSTANCE_ID if the instance id now belongs to
    /// another member id, or UNKNOWN_MEMBER_ID if the member is not known.
    fn check_member(&self, id: &str, instance_id: Option<&str>) -> Result<(), ErrorCode> {
        if let Some(instance) = instance_id {
            if let Some(current) = self.static_members.get(instance) {
                if current != id {
                    return Err(ErrorCode::FencedInstanceId);
                }
            }
        }
        if !self.members.contains_key(id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        Ok(())
    }

    pub fn heartbeat(
        &mut self,
        id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        if let Err(code) = self.check_member(id, instance_id) {
            return code;
        }
        if generation != self.generation {
            return ErrorCode::IllegalGeneration;
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => ErrorCode::UnknownMemberId,
            GroupState::PreparingRebalance => {
                self.touch(id, now);
                ErrorCode::RebalanceInProgress
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.touch(id, now);
                ErrorCode::None
            }
        }
    }

    fn touch(&mut self, id: &str, now: Instant) {
        if let Some(member) = self.members.get_mut(id) {
            member.last_heartbeat = now;
        }
    }

    /// One member of a LeaveGroup request: by member id, or (v3+, KIP-345)
    /// by instance id.
    pub fn leave(
        &mut self,
        id: &str,
        instance_id: Option<&str>,
        now: Instant,
        config: &GroupConfig,
    ) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable;
        }
        if let Some(instance) = instance_id {
            let Some(current) = self.static_members.get(instance).cloned() else {
                return ErrorCode::UnknownMemberId;
            };
            if !id.is_empty() && current != id {
                return ErrorCode::FencedInstanceId;
            }
            self.remove_member_and_update(&current, now, config);
            return ErrorCode::None;
        }
        if self.pending_members.remove(id).is_some() {
            self.try_complete_join(now, config);
            return ErrorCode::None;
        }
        if !self.members.contains_key(id) {
            return ErrorCode::UnknownMemberId;
        }
        self.remove_member_and_update(id, now, config);
        ErrorCode::None
    }

    /// Whether an OffsetCommit may be stored (Kafka's
    /// `validateOffsetCommit`): members must match the generation; a
    /// committer that is not a member (generation -1, no member id) only
    /// while the group is empty.
    pub fn validate_commit(
        &mut self,
        id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> Result<(), ErrorCode> {
        if self.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        if generation < 0 && self.state == GroupState::Empty {
            self.durable = true;
            return Ok(());
        }
        if generation >= 0 || !id.is_empty() || instance_id.is_some() {
            self.check_member(id, instance_id)?;
            if generation != self.generation {
                return Err(ErrorCode::IllegalGeneration);
            }
        } else if self.state != GroupState::Empty {
            return Err(ErrorCode::UnknownMemberId);
        }
        if self.state == GroupState::CompletingRebalance {
            return Err(ErrorCode::RebalanceInProgress);
        }
        self.touch(id, now);
        Ok(())
    }

    // ----- Time ------------------------------------------------------------

    /// Enforces every deadline: MEMBER_ID_REQUIRED ids never used, expired
    /// sessions, the rebalance timeout, members that never sent SyncGroup.
    /// Returns true if anything changed.
    pub fn tick(&mut self, now: Instant, config: &GroupConfig) -> bool {
        let before = (
            self.revision,
            self.replies.len(),
            self.members.len(),
            self.pending_members.len(),
        );

        self.pending_members.retain(|_, expires| now < *expires);

        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.is_alive(now))
            .map(|m| m.id.clone())
            .collect();
        for id in expired {
            log::info!("group {}: member {id} session expired", self.id);
            self.remove_member_and_update(&id, now, config);
        }

        self.try_complete_join(now, config);

        if self.sync_deadline.is_some_and(|d| now >= d)
            && matches!(
                self.state,
                GroupState::CompletingRebalance | GroupState::Stable
            )
        {
            let laggards: Vec<String> = self.pending_sync.iter().cloned().collect();
            for id in &laggards {
                log::info!("group {}: member {id} never sent SyncGroup", self.id);
                self.remove_member(id, ErrorCode::UnknownMemberId);
            }
            self.sync_deadline = None;
            if !laggards.is_empty() {
                self.maybe_prepare_rebalance(now, config);
                self.try_complete_join(now, config);
            }
        }
        before
            != (
                self.revision,
                self.replies.len(),
                self.members.len(),
                self.pending_members.len(),
            )
    }

    fn transition(&mut self, state: GroupState) {
        if self.state != state {
            log::debug!(
                "group {}: {} -> {} (generation {})",
                self.id,
                self.state.name(),
                state.name(),
                self.generation
            );
        }
        self.state = state;
        self.revision += 1;
    }

    fn new_ticket(&mut self) -> Ticket {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        ticket
    }
}

impl Member {
    fn metadata_supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name == protocol)
    }
}

fn sync_ok(assignment: Vec<u8>) -> SyncGroupResponse {
    SyncGroupResponse {
        assignment,
        ..Default::default()
    }
}

/// A failed JoinGroup answer (Kafka's `JoinGroupResult(memberId, error)`).
pub fn join_error(code: ErrorCode, member_id: &str) -> JoinGroupResponse {
    JoinGroupResponse {
        throttle_time_ms: 0,
        error_code: code.code(),
        generation_id: -1,
        protocol_type: None,
        protocol_name: None,
        leader: String::new(),
        skip_assignment: false,
        member_id: member_id.to_string(),
        members: Vec::new(),
    }
}

pub fn sync_error(code: ErrorCode) -> SyncGroupResponse {
    SyncGroupResponse {
        error_code: code.code(),
        ..Default::default()
    }
}

/// A random (version 4) UUID for member ids, as Kafka's
/// `clientId + "-" + UUID.randomUUID()`.
fn random_uuid() -> uuid::Uuid {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    for half in bytes.chunks_mut(8) {
        // Each RandomState is seeded from the OS's randomness.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        half.copy_from_slice(&hasher.finish().to_be_bytes());
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn config() -> GroupConfig {
        GroupConfig {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(1800),
            initial_rebalance_delay: Duration::ZERO,
        }
    }

    fn params(member_id: &str, protocols: &[&str]) -> JoinParams {
        JoinParams {
            member_id: member_id.to_string(),
            instance_id: None,
            client_id: "client".to_string(),
            client_host: "/127.0.0.1".to_string(),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(30),
            protocol_type: "consumer".to_string(),
            protocols: protocols
                .iter()
                .map(|name| JoinGroupRequestProtocol {
                    name: name.to_string(),
                    metadata: format!("{name}-metadata").into_bytes(),
                })
                .collect(),
            require_known_member_id: true,
            supports_skip_assignment: false,
        }
    }

    fn sync(member_id: &str, generation: i32, assignments: &[(&str, &[u8])]) -> SyncParams {
        SyncParams {
            member_id: member_id.to_string(),
            instance_id: None,
            generation,
            protocol_type: None,
            protocol_name: None,
            assignments: assignments
                .iter()
                .map(|(id, a)| (id.to_string(), a.to_vec()))
                .collect(),
        }
    }

    fn now_answer<T: std::fmt::Debug>(answer: Answer<T>) -> T {
        match answer {
            Answer::Now(t) => t,
            Answer::Later(ticket) => panic!("expected an answer now, got ticket {ticket}"),
        }
    }

    fn ticket<T: std::fmt::Debug>(answer: Answer<T>) -> Ticket {
        match answer {
            Answer::Later(ticket) => ticket,
            Answer::Now(t) => panic!("expected to wait, got {t:?}"),
        }
    }

    fn join_reply(group: &mut Group, ticket: Ticket) -> JoinGroupResponse {
        match group.take_reply(ticket) {
            Some(Reply::Join(r)) => r,
            other => panic!("expected a JoinGroup reply, got {other:?}"),
        }
    }

    fn sync_reply(group: &mut Group, ticket: Ticket) -> SyncGroupResponse {
        match group.take_reply(ticket) {
            Some(Reply::Sync(r)) => r,
            other => panic!("expected a SyncGroup reply, got {other:?}"),
        }
    }

    /// The first JoinGroup of a v4+ member: MEMBER_ID_REQUIRED and its id.
    fn member_id_for(group: &mut Group, now: Instant) -> String {
        let first = now_answer(group.join(params("", &["range"]), now, &config()));
        assert_eq!(first.error_code, ErrorCode::MemberIdRequired.code());
        assert!(first.member_id.starts_with("client-"));
        first.member_id
    }

    /// Joins a new dynamic member the v4+ way (MEMBER_ID_REQUIRED first)
    /// and returns its id and join ticket.
    fn join_new(group: &mut Group, now: Instant, protocols: &[&str]) -> (String, Ticket) {
        let id = member_id_for(group, now);
        let t = ticket(group.join(params(&id, protocols), now, &config()));
        (id, t)
    }

    #[test]
    fn a_lone_member_forms_the_first_generation() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        let (id, t) = join_new(&mut group, now, &["range"]);
        let joined = join_reply(&mut group, t);
        assert_eq!(joined.error_code, 0);
        assert_eq!(joined.generation_id, 1);
        assert_eq!(joined.leader, id);
        assert_eq!(joined.protocol_name.as_deref(), Some("range"));
        assert_eq!(joined.members.len(), 1);
        assert_eq!(joined.members[0].metadata, b"range-metadata");
        assert_eq!(group.state, GroupState::CompletingRebalance);

        let t = ticket(group.sync(sync(&id, 1, &[(&id, b"all of it")]), now));
        assert_eq!(sync_reply(&mut group, t).assignment, b"all of it");
        assert_eq!(group.state, GroupState::Stable);
        assert_eq!(group.heartbeat(&id, None, 1, now), ErrorCode::None);
        assert_eq!(
            group.heartbeat(&id, None, 0, now),
            ErrorCode::IllegalGeneration
        );
        assert_eq!(
            group.heartbeat("stranger", None, 1, now),
            ErrorCode::UnknownMemberId
        );
    }

    #[test]
    fn session_timeouts_outside_the_broker_limits_are_refused() {
        let mut group = Group::new("g".into());
        for millis in [5_999, 1_800_001] {
            let mut p = params("", &["range"]);
            p.session_timeout = Duration::from_millis(millis);
            let answer = now_answer(group.join(p, Instant::now(), &config()));
            assert_eq!(answer.error_code, ErrorCode::InvalidSessionTimeout.code());
        }
    }

    #[test]
    fn a_second_member_rebalances_and_the_leader_assigns_for_both() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        let (a, t) = join_new(&mut group, now, &["range"]);
        join_reply(&mut group, t);
        let t = ticket(group.sync(sync(&a, 1, &[(&a, b"a1")]), now));
        sync_reply(&mut group, t);

        let (b, tb) = join_new(&mut group, now, &["range"]);
        assert_eq!(group.state, GroupState::PreparingRebalance);
        assert!(group.take_reply(tb).is_none(), "b waits for a to rejoin");
        assert_eq!(
            group.heartbeat(&a, None, 1, now),
            ErrorCode::RebalanceInProgress
        );

        let ta = ticket(group.join(params(&a, &["range"]), now, &config()));
        let (ja, jb) = (join_reply(&mut group, ta), join_reply(&mut group, tb));
        assert_eq!((ja.generation_id, jb.generation_id), (2, 2));
        assert_eq!(ja.leader, a);
        assert_eq!(jb.leader, a);
        assert_eq!(ja.members.len(), 2, "the leader sees every member");
        assert!(jb.members.is_empty(), "followers see none");

        // The follower waits for the leader's assignment...
        let tb = ticket(group.sync(sync(&b, 2, &[]), now));
        assert!(group.take_reply(tb).is_none());
        // ...which leaves b out: b gets an empty assignment.
        let ta = ticket(group.sync(sync(&a, 2, &[(&a, b"everything")]), now));
        assert_eq!(sync_reply(&mut group, ta).assignment, b"everything");
        let sb = sync_reply(&mut group, tb);
        assert_eq!((sb.error_code, sb.assignment.len()), (0, 0));
        assert_eq!(group.state, GroupState::Stable);
    }

    #[test]
    fn an_expired_member_is_removed_and_the_rest_rebalance() {
        let start = Instant::now();
        let mut group = Group::new("g".into());
        let (a, b) = (
            member_id_for(&mut group, start),
            member_id_for(&mut group, start),
        );
        let t = ticket(group.join(params(&a, &["range"]), start, &config()));
        assert!(
            group.take_reply(t).is_none(),
            "b's id is pending: wait for it"
        );
        let tb = ticket(group.join(params(&b, &["range"]), start, &config()));
        let ja = join_reply(&mut group, t);
        join_reply(&mut group, tb);
        assert_eq!(ja.members.len(), 2);
        // The follower first (it waits), then the leader.
        for id in [&b, &a] {
            let _ = ticket(group.sync(sync(id, 1, &[(&a, b"x"), (&b, b"y")]), start));
        }
        assert_eq!(group.state, GroupState::Stable);

        // a keeps heartbeating, b goes silent.
        let later = start + 8 * SECOND;
        assert_eq!(group.heartbeat(&a, None, 1, later), ErrorCode::None);
        assert!(group.tick(start + 11 * SECOND, &config()));
        assert_eq!(group.state, GroupState::PreparingRebalance);
        assert_eq!(
            group.heartbeat(&b, None, 1, later),
            ErrorCode::UnknownMemberId
        );
        let t = ticket(group.join(params(&a, &["range"]), later, &config()));
        let joined = join_reply(&mut group, t);
        assert_eq!((joined.generation_id, joined.members.len()), (2, 1));
    }

    #[test]
    fn a_rebalance_drops_members_that_do_not_rejoin_in_time() {
        let start = Instant::now();
        let mut group = Group::new("g".into());
        let (a, b) = (
            member_id_for(&mut group, start),
            member_id_for(&mut group, start),
        );
        let t = ticket(group.join(params(&a, &["range"]), start, &config()));
        let tb = ticket(group.join(params(&b, &["range"]), start, &config()));
        join_reply(&mut group, t);
        join_reply(&mut group, tb);
        // a's metadata changes: rebalance; b keeps heartbeating but never rejoins.
        let ta = ticket(group.join(params(&a, &["range", "roundrobin"]), start, &config()));
        for s in 1..30 {
            assert_eq!(
                group.heartbeat(&b, None, 1, start + s * SECOND),
                ErrorCode::RebalanceInProgress
            );
            group.tick(start + s * SECOND, &config());
        }
        assert!(group.take_reply(ta).is_none());
        group.tick(start + 31 * SECOND, &config());
        let joined = join_reply(&mut group, ta);
        assert_eq!((joined.generation_id, joined.members.len()), (2, 1));
        assert_eq!(
            group.heartbeat(&b, None, 1, start + 31 * SECOND),
            ErrorCode::UnknownMemberId
        );
    }

    #[test]
    fn a_static_member_returns_without_a_rebalance_and_fences_its_old_id() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        let mut p = params("", &["range"]);
        p.instance_id = Some("instance-1".into());
        let t = ticket(group.join(p.clone(), now, &config()));
        let old = join_reply(&mut group, t).member_id;
        let t = ticket(group.sync(sync(&old, 1, &[(&old, b"mine")]), now));
        sync_reply(&mut group, t);

        let answer = now_answer(group.join(p, now, &config()));
        assert_eq!(answer.error_code, 0);
        assert_eq!(answer.generation_id, 1, "no new generation");
        assert_ne!(answer.member_id, old);
        assert_eq!(group.state, GroupState::Stable);
        let mut s = sync(&answer.member_id, 1, &[]);
        s.instance_id = Some("instance-1".into());
        assert_eq!(now_answer(group.sync(s, now)).assignment, b"mine");
        assert_eq!(
            group.heartbeat(&old, Some("instance-1"), 1, now),
            ErrorCode::FencedInstanceId
        );
    }

    #[test]
    fn offset_commits_are_checked_against_the_generation() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        assert_eq!(
            group.validate_commit("", None, -1, now),
            Ok(()),
            "simple commit"
        );
        let (a, t) = join_new(&mut group, now, &["range"]);
        join_reply(&mut group, t);
        assert_eq!(
            group.validate_commit(&a, None, 1, now),
            Err(ErrorCode::RebalanceInProgress)
        );
        let t = ticket(group.sync(sync(&a, 1, &[]), now));
        sync_reply(&mut group, t);
        assert_eq!(group.validate_commit(&a, None, 1, now), Ok(()));
        assert_eq!(
            group.validate_commit(&a, None, 0, now),
            Err(ErrorCode::IllegalGeneration)
        );
        assert_eq!(
            group.validate_commit("x", None, 1, now),
            Err(ErrorCode::UnknownMemberId)
        );
        assert_eq!(
            group.validate_commit("", None, -1, now),
            Err(ErrorCode::UnknownMemberId)
        );
    }

    #[test]
    fn the_protocol_most_members_prefer_wins_among_those_all_support() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        let ids: Vec<String> = (0..3).map(|_| member_id_for(&mut group, now)).collect();
        let preferences: [&[&str]; 3] = [
            &["roundrobin", "range"],
            &["range", "roundrobin"],
            &["range", "sticky", "roundrobin"],
        ];
        let tickets: Vec<Ticket> = ids
            .iter()
            .zip(preferences)
            .map(|(id, p)| ticket(group.join(params(id, p), now, &config())))
            .collect();
        assert_eq!(
            join_reply(&mut group, tickets[2]).protocol_name.as_deref(),
            Some("range")
        );
        // A member sharing no protocol with the group is refused.
        let answer = now_answer(group.join(params("", &["sticky"]), now, &config()));
        assert_eq!(
            answer.error_code,
            ErrorCode::InconsistentGroupProtocol.code()
        );
    }

    #[test]
    fn leaving_members_rebalance_the_rest() {
        let now = Instant::now();
        let mut group = Group::new("g".into());
        let (a, t) = join_new(&mut group, now, &["range"]);
        join_reply(&mut group, t);
        assert_eq!(
            group.leave("stranger", None, now, &config()),
            ErrorCode::UnknownMemberId
        );
        assert_eq!(group.leave(&a, None, now, &config()), ErrorCode::None);
        // The only member left: the rebalance has nobody to wait for, so
        // the group is empty again at once.
        assert_eq!(group.state, GroupState::Empty);
        assert_eq!(group.generation, 2);
        assert_eq!(group.members().count(), 0);
    }
}
