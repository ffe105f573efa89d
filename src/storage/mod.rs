//! Everything that knows SQL. Handlers call these functions through the
//! [`crate::pool::Pool`]; nothing outside this module formats a query.
//!
//! - [`schema`]: the bundled `schema.sql`, the version check, the cluster id.
//! - [`topics`]: topics, their partitions and configs.
//! - [`cleaner`]: retention, compaction, DeleteRecords, log sizes.
//! - [`configs`]: configs changed at run time (topics, brokers, groups).
//! - [`log`]: appending records (group commit) and reading them back.
//! - [`groups`]: consumer groups and their committed offsets.
//! - [`acls`]: ACL bindings; [`scram`]: SCRAM credentials.
//! - [`tls`]: the `--database-url`, `sslmode` and TLS to PostgreSQL.

pub mod acls;
pub mod cleaner;
pub mod configs;
pub mod copy;
pub mod groups;
pub mod log;
pub mod producers;
pub mod schema;
pub mod scram;
pub mod tls;
pub mod topics;
pub mod transactions;

use postgres::{Client, Statement};
use std::collections::HashMap;
use std::fmt;

/// A topic's UUID (Metadata v10+, Fetch v13+).
pub type TopicId = uuid::Uuid;

/// Why a storage call failed.
#[derive(Debug, Clone)]
pub enum StorageError {
    /// PostgreSQL cannot be reached or the connection broke. Retriable:
    /// clients get a Kafka error that makes them retry.
    Unavailable(String),
    /// PostgreSQL answered with an error.
    Database(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            StorageError::Database(why) => write!(f, "database error: {why}"),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<postgres::Error> for StorageError {
    fn from(err: postgres::Error) -> Self {
        // A server error carries an SQLSTATE; anything else (I/O, closed
        // connection, protocol) means the connection is unusable.
        match err.as_db_error() {
            Some(db) => StorageError::Database(format!("{} ({})", db.message(), db.code().code())),
            None => StorageError::Unavailable(err.to_string()),
        }
    }
}

/// One PostgreSQL connection with its prepared statements. Owned by exactly
/// one pool worker.
pub struct Db {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Db {
    /// Connects to the `--database-url`, with TLS as its `sslmode` says.
    pub fn connect(url: &str) -> Result<Db, StorageError> {
        tls::ConnectOptions::parse(url)
            .map_err(|e| format!("invalid database URL: {e}"))
            .and_then(|options| Db::open(&options))
            .map_err(StorageError::Unavailable)
    }

    /// Connects to a parsed URL. The error is one line naming the target
    /// (never the password) and what to change.
    pub fn open(options: &tls::ConnectOptions) -> Result<Db, String> {
        let client = options
            .connect()
            .map_err(|why| format!("cannot reach PostgreSQL at {}: {why}", options.describe()))?;
        Ok(Db {
            client,
            statements: HashMap::new(),
        })
    }

    /// Whether this session is TLS-encrypted, as the server sees it.
    pub fn is_encrypted(&mut self) -> Result<bool, StorageError> {
        let row = self.client.query_opt(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// A prepared statement for `sql`, prepared once per connection. Saves
    /// the parse/plan round trip on every hot-path query.
    pub fn statement(&mut self, sql: &'static str) -> Result<Statement, StorageError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        self.statements.insert(sql, stmt.clone());
        Ok(stmt)
    }
}
