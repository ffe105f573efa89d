//! The `kafkaesque` binary: resolve the settings, check the database,
//! listen; in `kafkaesque dev`, with a private PostgreSQL around it.

use kafkaesque::broker::{Broker, TopicCache, Watermarks};
use kafkaesque::config::{Config, Flags, Loaded};
use kafkaesque::coordinator::{self, GroupCoordinator};
use kafkaesque::dev::{self, DevPostgres};
use kafkaesque::log_cleaner;
use kafkaesque::metrics::Metrics;
use kafkaesque::metrics_endpoint;
use kafkaesque::notifier::Notifier;
use kafkaesque::pool::Pool;
use kafkaesque::read_ahead::ReadAheadBudget;
use kafkaesque::resource_configs::DynamicConfigs;
use kafkaesque::server;
use kafkaesque::shutdown::Shutdown;
use kafkaesque::storage::schema::{self, SchemaState, SCHEMA_VERSION};
use kafkaesque::storage::tls::ConnectOptions;
use kafkaesque::storage::{self, Db};
use kafkaesque::transactions::{self, TransactionCoordinator};
use kafkaesque::{GIT_COMMIT, VERSION};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let flags: Flags = argh::from_env();
    if flags.version {
        println!("kafkaesque {VERSION} (commit {GIT_COMMIT})");
        return ExitCode::SUCCESS;
    }
    match start(flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line on stderr, not also a log record: the person reads it
            // once, in the terminal or the service log.
            eprintln!("kafkaesque: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves the settings, then runs the broker (in `kafkaesque dev`, with a
/// private PostgreSQL around it) or prints the settings.
fn start(flags: Flags) -> Result<(), String> {
    let dev_dir = match flags.command.as_deref() {
        None => {
            if flags.data_dir.is_some() {
                return Err(
                    "--data-dir is for kafkaesque dev (kafkaesque dev --data-dir DIR)".into(),
                );
            }
            None
        }
        Some("dev") => Some(PathBuf::from(
            flags.data_dir.as_deref().unwrap_or(dev::DEFAULT_DATA_DIR),
        )),
        Some(other) => {
            return Err(format!(
                "unknown command {other:?}; the one command is dev (see --help)"
            ))
        }
    };
    let variables = std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    });
    let defaults = if dev_dir.is_some() {
        dev::DEFAULTS
    } else {
        &[]
    };
    let mut loaded = Loaded::load(&flags, variables, defaults)?;
    if let Some(dir) = &dev_dir {
        dev::configure(&mut loaded, dir)?;
    }
    kafkaesque::resource_configs::check_flags(&loaded.config)
        .map_err(|(name, why)| format!("{}: {why}", loaded.origin_of(name)))?;
    if flags.print_config {
        print!("{}", loaded.render());
        return Ok(());
    }
    init_logging(loaded.config.log_level);
    if let Some(line) = loaded.ignored_line() {
        log::info!("{line}");
    }
    for warning in &loaded.warnings {
        log::warn!("{warning}");
    }
    match dev_dir {
        None => run(loaded.config),
        Some(dir) => {
            let postgres = DevPostgres::start(&dir)?;
            let result = run(loaded.config);
            // Stopped also when the broker failed: a PostgreSQL left behind
            // would only be found (and reused) by the next start.
            let stopped = postgres.stop();
            result.and(stopped)
        }
    }
}

fn init_logging(filter: log::LevelFilter) {
    let config = simplelog::ConfigBuilder::new()
        .set_target_level(log::LevelFilter::Error)
        .set_thread_level(log::LevelFilter::Off)
        .add_filter_allow_str("kafkaesque")
        .build();
    let _ = simplelog::TermLogger::init(
        filter,
        config,
        simplelog::TerminalMode::Stderr,
        simplelog::ColorChoice::Never,
    );
}

/// Starts the broker and blocks until it has shut down. Every error is one
/// line a person can act on.
fn run(config: Config) -> Result<(), String> {
    let url = config.database_url.clone();
    let target = ConnectOptions::parse(&url)
        .map_err(|e| format!("invalid database URL (kafkaesque.database.url): {e}"))?;
    // The URL as logs and messages show it: never the password.
    let shown_url = target.describe();
    let metrics_addr = config.metrics_addr()?;
    let mut db = connect_at_start(&target, &shown_url, config.wait_for_database)?;
    let encrypted = db
        .is_encrypted()
        .map_err(|e| format!("cannot query {shown_url}: {e}"))?;
    let state =
        schema::state(&mut db).map_err(|e| format!("cannot read the schema version: {e}"))?;
    match state {
        SchemaState::Current => {}
        SchemaState::Missing | SchemaState::Older(_) if config.init_schema => {
            schema::apply(&mut db).map_err(|e| format!("applying schema.sql failed: {e}"))?;
            log::info!("applied schema version {SCHEMA_VERSION}");
        }
        SchemaState::Missing => {
            return Err(format!(
                "the kafkaesque schema is missing in {shown_url}; run again with --init-schema, or apply it by hand: psql \"{shown_url}\" -f schema.sql"
            ));
        }
        SchemaState::Older(found) => {
            return Err(format!(
                "the kafkaesque schema in {shown_url} is version {found}, this broker needs {SCHEMA_VERSION}; run again with --init-schema, or apply the new one by hand: psql \"{shown_url}\" -f schema.sql"
            ));
        }
        SchemaState::Newer(found) => {
            return Err(format!(
                "the kafkaesque schema in {shown_url} is version {found}, newer than this broker's {SCHEMA_VERSION}; upgrade the broker"
            ));
        }
    }
    let cluster_id =
        schema::cluster_id(&mut db).map_err(|e| format!("cannot read the cluster id: {e}"))?;
    let topics = TopicCache::default();
    topics.replace_all(
        storage::topics::load_all(&mut db).map_err(|e| format!("cannot load topics: {e}"))?,
    );
    let groups = storage::groups::load_all(&mut db)
        .map_err(|e| format!("cannot load consumer groups: {e}"))?;
    let dynamic_configs = DynamicConfigs::from_rows(
        storage::configs::load_dynamic(&mut db)
            .map_err(|e| format!("cannot load dynamic configs: {e}"))?,
    );
    drop(db);
    // Said before the listener opens: whoever sees the port accept
    // connections can rely on these lines being in the log.
    log::info!("kafkaesque {VERSION} (commit {GIT_COMMIT})");
    log::info!(
        "database {shown_url}: {}, schema v{SCHEMA_VERSION}, cluster {cluster_id}; pool of {} connections",
        if encrypted { "TLS-encrypted" } else { "not encrypted" },
        config.pool_size,
    );

    let addr = config.listener_addr()?;
    let listener = TcpListener::bind(addr).map_err(|e| {
        format!("cannot listen on {addr} ({e}); is another broker running? pick another port with --listener")
    })?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let (advertised_host, advertised_port) = config.advertised(bound)?;

    let metrics_listener = metrics_addr
        .map(|addr| {
            TcpListener::bind(addr).map_err(|e| {
                format!("cannot serve metrics on {addr} ({e}); pick another --metrics-listener")
            })
        })
        .transpose()?;

    let metrics = Arc::new(Metrics::default());
    let pool = Pool::start(&url, config.pool_size, Arc::clone(&metrics));
    log::info!(
        "listening for Kafka clients on {bound}, advertised as {advertised_host}:{advertised_port}; node {}; at most {} connections, requests up to {} bytes",
        config.node_id,
        config.max_connections,
        config.max_request_bytes,
    );
    log::info!(
        "topic defaults: num.partitions={}, auto.create.topics.enable={}, message.max.bytes={}",
        config.num_partitions,
        config.auto_create_topics,
        config.message_max_bytes,
    );
    let shutdown = Shutdown::new();
    let groups = GroupCoordinator::new(config.group_config(), groups);
    let broker = Arc::new(Broker {
        config,
        advertised_host,
        advertised_port,
        cluster_id,
        pool,
        topics,
        watermarks: Watermarks::default(),
        dynamic_configs,
        notifier: Arc::new(Notifier::default()),
        transactions: TransactionCoordinator::default(),
        groups,
        shutdown: shutdown.clone(),
        connections: AtomicUsize::new(0),
        read_ahead_budget: ReadAheadBudget::default(),
        metrics,
    });
    broker
        .transactions
        .load(&broker)
        .map_err(|e| format!("cannot load transactions: {e}"))?;
    transactions::spawn_expiry(&broker);
    shutdown
        .on_signals(move || server::wake(bound))
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;

    coordinator::start(&broker)
        .map_err(|e| format!("cannot start the group coordinator's threads: {e}"))?;
    let cleaner = log_cleaner::start(Arc::clone(&broker));
    let metrics_endpoint = match metrics_listener {
        Some(listener) => {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let endpoint = metrics_endpoint::start(Arc::clone(&broker), listener)
                .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
            log::info!("metrics on http://{addr}/metrics");
            Some(endpoint)
        }
        None => None,
    };
    server::run(Arc::clone(&broker), listener);
    broker.groups.stop();
    cleaner.stop();
    if let Some(endpoint) = metrics_endpoint {
        endpoint.stop();
    }

    // Connections are done; let the pool drain its queue and disconnect.
    match Arc::try_unwrap(broker) {
        Ok(mut broker) => broker.pool.shutdown(),
        Err(_) => log::warn!("connections still open at shutdown; closing anyway"),
    }
    log::info!("shut down cleanly");
    Ok(())
}

/// Connects for start-up checks. PostgreSQL down: exit at once with the
/// reason, or, with `--wait-for-database SECONDS` (for service managers
/// that start the broker and the database together), say so in one line
/// and retry with exponential backoff until the deadline.
fn connect_at_start(
    target: &ConnectOptions,
    shown_url: &str,
    wait_seconds: u64,
) -> Result<Db, String> {
    const FIRST_BACKOFF: Duration = Duration::from_millis(250);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(wait_seconds);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let err = match Db::open(target) {
            Ok(db) => {
                if backoff > FIRST_BACKOFF {
                    log::info!(
                        "PostgreSQL at {shown_url} is reachable after {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(db);
            }
            Err(err) => err,
        };
        let now = Instant::now();
        if now >= deadline {
            let waited = if wait_seconds > 0 {
                format!(", after waiting {wait_seconds} s")
            } else {
                String::new()
            };
            return Err(format!(
                "{err}{waited}; start it, or point --database-url / DATABASE_URL at it (--wait-for-database SECONDS waits for it)"
            ));
        }
        if backoff == FIRST_BACKOFF {
            log::warn!(
                "{err}; retrying with backoff for up to {wait_seconds} s (--wait-for-database)"
            );
        }
        std::thread::sleep(backoff.min(deadline - now));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
