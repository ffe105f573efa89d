-- Kafkaesque schema, version 2 (version 1 plus `acls` and
-- `scram_credentials`; applying this file upgrades a version-1 database in
-- place).
--
-- Apply by hand:   psql "postgres://postgres@127.0.0.1:5432/postgres" -f schema.sql
-- or let the broker apply its bundled copy:   kafkaesque --init-schema
--
-- Idempotent: every statement is IF NOT EXISTS / ON CONFLICT, so applying it
-- again (or applying a newer copy over an older schema) is safe.
-- Everything lives in its own schema so Kafkaesque can share a database with
-- an application.

CREATE SCHEMA IF NOT EXISTS kafkaesque;

-- Which version of this file the database holds. The broker refuses to start
-- on a missing or older schema and says how to apply this file.
CREATE TABLE IF NOT EXISTS kafkaesque.schema_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- The cluster id, generated once: 22 characters of URL-safe base64 of a
-- random UUID, as Kafka's own cluster ids are.
CREATE TABLE IF NOT EXISTS kafkaesque.cluster (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id text NOT NULL
);
INSERT INTO kafkaesque.cluster (cluster_id)
VALUES (translate(rtrim(encode(uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_'))
ON CONFLICT DO NOTHING;

-- Topics. The UUID is the topic id of Metadata v10+ and Fetch v13+.
CREATE TABLE IF NOT EXISTS kafkaesque.topics (
    topic_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL UNIQUE,
    partition_count    integer NOT NULL CHECK (partition_count > 0),
    replication_factor smallint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- Topic configs set explicitly (CreateTopics, AlterConfigs); anything not
-- here has the broker default.
CREATE TABLE IF NOT EXISTS kafkaesque.topic_configs (
    topic_id uuid NOT NULL REFERENCES kafkaesque.topics ON DELETE CASCADE,
    name     text NOT NULL,
    value    text,
    PRIMARY KEY (topic_id, name)
);

-- Configs of brokers and groups set at run time (AlterConfigs,
-- IncrementalAlterConfigs). resource_type is Kafka's: 4 = broker (resource
-- name = node id, or '' for every broker), 32 = group.
CREATE TABLE IF NOT EXISTS kafkaesque.dynamic_configs (
    resource_type smallint NOT NULL,
    resource_name text NOT NULL,
    name          text NOT NULL,
    value         text NOT NULL,
    PRIMARY KEY (resource_type, resource_name, name)
);

-- One row per partition. `next_offset` is the log end offset (the high
-- watermark: every acknowledged record is committed). A produce locks this
-- row while it assigns offsets, so offsets are dense and commit in order.
CREATE TABLE IF NOT EXISTS kafkaesque.partitions (
    topic_id         uuid NOT NULL REFERENCES kafkaesque.topics ON DELETE CASCADE,
    partition        integer NOT NULL,
    next_offset      bigint NOT NULL DEFAULT 0,
    log_start_offset bigint NOT NULL DEFAULT 0,
    leader_epoch     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition)
);

-- One row per record. Batch-level facts (producer id/epoch, timestamp type,
-- transactional and control flags) are kept per row so Fetch can rebuild
-- faithful batches; compression is not kept (records are stored plain).
CREATE TABLE IF NOT EXISTS kafkaesque.record (
    topic_id         uuid NOT NULL,
    partition        integer NOT NULL,
    "offset"         bigint NOT NULL,
    -- Milliseconds since the epoch, exactly as the producer (or, for
    -- LogAppendTime topics, the broker) set it.
    timestamp        bigint NOT NULL,
    key              bytea,
    value            bytea,
    -- Headers as two parallel arrays (NULL when the record has none).
    header_keys      text[],
    header_values    bytea[],
    -- Record batch attributes without the compression bits:
    -- 8 = LogAppendTime, 16 = transactional, 32 = control.
    batch_attributes smallint NOT NULL DEFAULT 0,
    producer_id      bigint NOT NULL DEFAULT -1,
    producer_epoch   smallint NOT NULL DEFAULT -1,
    -- The record's sequence number (-1 unless idempotent).
    sequence         integer NOT NULL DEFAULT -1,
    PRIMARY KEY (topic_id, partition, "offset")
);

-- Producer ids handed out by InitProducerId: unique across restarts and
-- across brokers sharing this database.
CREATE SEQUENCE IF NOT EXISTS kafkaesque.producer_ids;

-- Idempotence state of each producer on each partition: its epoch and its
-- last five batches (Kafka keeps five), so that a retried batch is answered
-- with its original offset instead of being written twice. Written in the
-- same transaction as the records it describes.
CREATE TABLE IF NOT EXISTS kafkaesque.producer_state (
    topic_id        uuid NOT NULL,
    partition       integer NOT NULL,
    producer_id     bigint NOT NULL,
    producer_epoch  smallint NOT NULL,
    first_sequences integer[] NOT NULL,
    last_sequences  integer[] NOT NULL,
    base_offsets    bigint[] NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic_id, partition, producer_id)
);

-- Transactions (KIP-98), one row per transactional id: its producer id and
-- epoch, timeout and state. "Ongoing" transactions have `started_at` set and
-- are aborted by the broker once older than their timeout.
CREATE TABLE IF NOT EXISTS kafkaesque.transactions (
    transactional_id text PRIMARY KEY,
    producer_id      bigint NOT NULL,
    producer_epoch   smallint NOT NULL,
    timeout_ms       integer NOT NULL,
    state            text NOT NULL,
    started_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Partitions an ongoing transaction has registered (AddPartitionsToTxn).
-- `first_offset` is the offset of its first record there; the earliest one
-- among open transactions is the partition's last stable offset.
CREATE TABLE IF NOT EXISTS kafkaesque.transaction_partitions (
    transactional_id text NOT NULL REFERENCES kafkaesque.transactions ON DELETE CASCADE,
    topic_id         uuid NOT NULL,
    partition        integer NOT NULL,
    producer_id      bigint NOT NULL,
    first_offset     bigint,
    PRIMARY KEY (transactional_id, topic_id, partition)
);

-- Consumer offsets committed inside a transaction (TxnOffsetCommit); they
-- become the group's committed offsets only when the transaction commits.
CREATE TABLE IF NOT EXISTS kafkaesque.transaction_offsets (
    transactional_id text NOT NULL REFERENCES kafkaesque.transactions ON DELETE CASCADE,
    group_id         text NOT NULL,
    topic            text NOT NULL,
    partition        integer NOT NULL,
    committed_offset bigint NOT NULL,
    leader_epoch     integer NOT NULL DEFAULT -1,
    metadata         bytea NOT NULL DEFAULT '',
    PRIMARY KEY (transactional_id, group_id, topic, partition)
);

-- Aborted transactions per partition: read_committed consumers are told to
-- drop the records of `producer_id` from `first_offset` up to the abort
-- marker at `last_offset`.
CREATE TABLE IF NOT EXISTS kafkaesque.aborted_transactions (
    topic_id     uuid NOT NULL,
    partition    integer NOT NULL,
    producer_id  bigint NOT NULL,
    first_offset bigint NOT NULL,
    last_offset  bigint NOT NULL,
    PRIMARY KEY (topic_id, partition, last_offset, producer_id)
);

-- The friendly face of the log:
--   SELECT key, value FROM kafkaesque.records WHERE topic = 'orders';
CREATE OR REPLACE VIEW kafkaesque.records AS
SELECT t.name AS topic,
       r.partition,
       r."offset",
       to_timestamp(r.timestamp / 1000.0) AS timestamp,
       r.timestamp AS timestamp_ms,
       r.key,
       r.value,
       r.header_keys,
       r.header_values,
       r.producer_id,
       r.producer_epoch,
       r.sequence,
       (r.batch_attributes & 16) <> 0 AS is_transactional,
       (r.batch_attributes & 32) <> 0 AS is_control
FROM kafkaesque.record r
JOIN kafkaesque.topics t USING (topic_id);

-- Consumer groups (the classic group protocol). Live membership is kept in
-- the broker's memory by the one coordinator that owns it; this table keeps
-- what outlives it: the group's identity and its state at the last
-- transition, so ListGroups/DescribeGroups still know a group whose members
-- are gone and a restarted broker knows where the generations left off.
CREATE TABLE IF NOT EXISTS kafkaesque.consumer_groups (
    group_id      text PRIMARY KEY,
    -- "consumer" for Kafka consumers; empty for groups that only commit.
    protocol_type text NOT NULL DEFAULT '',
    -- Empty, PreparingRebalance, CompletingRebalance or Stable.
    state         text NOT NULL DEFAULT 'Empty',
    generation    integer NOT NULL DEFAULT 0,
    -- The assignor chosen for the generation, e.g. 'range'.
    protocol_name text,
    leader_id     text,
    member_count  integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Committed offsets (OffsetCommit), by topic name as Kafka keys them:
--   SELECT * FROM kafkaesque.committed_offsets WHERE group_id = 'billing';
CREATE TABLE IF NOT EXISTS kafkaesque.committed_offsets (
    group_id         text NOT NULL REFERENCES kafkaesque.consumer_groups ON DELETE CASCADE,
    topic            text NOT NULL,
    partition        integer NOT NULL,
    -- The next offset to consume.
    committed_offset bigint NOT NULL,
    -- Leader epoch of the last consumed record (KIP-320), -1 if unknown.
    leader_epoch     integer NOT NULL DEFAULT -1,
    -- The client's free-form metadata string, verbatim, as its UTF-8 bytes
    -- (bytea because clients may put NUL characters in it, which a text
    -- column refuses); read it with convert_from(metadata, 'UTF8').
    metadata         bytea NOT NULL DEFAULT '',
    committed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
CREATE INDEX IF NOT EXISTS committed_offsets_topic ON kafkaesque.committed_offsets (topic);

-- ACL bindings (CreateAcls, DescribeAcls, DeleteAcls), one row per binding.
-- Stored and administered, not enforced: the Kafka listener does not
-- authenticate clients (no SASL) yet. The codes are Kafka's:
--   resource_type   2 topic, 3 group, 4 cluster, 5 transactional id,
--                   6 delegation token, 7 user
--   pattern_type    3 literal, 4 prefixed (resource_name is a prefix)
--   operation       2 all, 3 read, 4 write, 5 create, 6 delete, 7 alter,
--                   8 describe, 9 cluster action, 10 describe configs,
--                   11 alter configs, 12 idempotent write, 13 create tokens,
--                   14 describe tokens, 15 two-phase commit
--   permission_type 2 deny, 3 allow
CREATE TABLE IF NOT EXISTS kafkaesque.acls (
    resource_type   smallint NOT NULL,
    resource_name   text NOT NULL,
    pattern_type    smallint NOT NULL,
    -- "Type:name", e.g. 'User:alice'.
    principal       text NOT NULL,
    -- A host, or '*' for every host.
    host            text NOT NULL,
    operation       smallint NOT NULL,
    permission_type smallint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host,
                 operation, permission_type)
);

-- SCRAM credentials (AlterUserScramCredentials), one row per user and
-- mechanism (1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512). As in Kafka, only what a
-- SCRAM server needs is kept: StoredKey = H(HMAC(SaltedPassword, "Client
-- Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"), never the
-- password nor the salted password. Not used to authenticate until SASL.
CREATE TABLE IF NOT EXISTS kafkaesque.scram_credentials (
    user_name  text NOT NULL,
    mechanism  smallint NOT NULL,
    salt       bytea NOT NULL,
    stored_key bytea NOT NULL,
    server_key bytea NOT NULL,
    iterations integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_name, mechanism)
);

INSERT INTO kafkaesque.schema_version (version) VALUES (2)
ON CONFLICT (singleton) DO UPDATE
SET version = GREATEST(kafkaesque.schema_version.version, EXCLUDED.version),
    applied_at = now();
