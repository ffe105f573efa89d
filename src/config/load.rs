//! Where each setting's value comes from: a flag, else a `KAFKA_*`
//! environment variable, else the `--config` file, else the default (the
//! order Kafka users know from the `apache/kafka` image, where variables
//! are appended to the file, and from `kafka-server-start.sh --override`).
//!
//! Every value is parsed where it is found, so an error names its line or
//! variable even if a higher source overrides it. A Kafka setting without a
//! row in [`super::SETTINGS`] is accepted and reported as ignored; a file
//! line naming no Kafka setting is an error (a typo would otherwise go
//! unnoticed), while an unknown `KAFKA_*` variable only gets a warning: the
//! environment is shared with everything else that runs.

use super::{environment, properties, Config, Flags, Setting, ALIASES, SETTINGS};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Kafka's broker setting names, from Kafka's own definitions (see the
/// file's header).
const KAFKA_BROKER_SETTINGS: &str = include_str!("kafka_broker_settings.txt");

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// A default that `kafkaesque dev` sets.
    Dev,
    File {
        path: String,
        line: usize,
    },
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::Dev => write!(f, "kafkaesque dev"),
            Origin::File { path, line } => write!(f, "line {line} of {path}"),
            Origin::Env(variable) => write!(f, "{variable}"),
            Origin::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// One setting as a source gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    pub origin: Origin,
}

/// The settings, resolved, with the origin of each and what was ignored.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// The origin of each row of [`SETTINGS`], by index.
    origins: Vec<Origin>,
    /// Kafka settings that have no effect here, by name: the entry that
    /// would have won.
    pub ignored: BTreeMap<String, Entry>,
    /// Start-up warnings (unknown `KAFKA_*` variables and the like).
    pub warnings: Vec<String>,
}

impl Loaded {
    /// Reads the `--config` file if one is given, and resolves it with the
    /// flags, the environment `variables` and `defaults` (which rank above
    /// the built-in defaults only: `kafkaesque dev` sets some).
    pub fn load(
        flags: &Flags,
        variables: impl IntoIterator<Item = (String, String)>,
        defaults: &[(&str, &str)],
    ) -> Result<Loaded, String> {
        let file = match &flags.config {
            Some(path) => file_entries(Path::new(path))?,
            None => Vec::new(),
        };
        let defaults = defaults
            .iter()
            .map(|(name, value)| Entry {
                name: name.to_string(),
                value: value.to_string(),
                origin: Origin::Dev,
            })
            .collect();
        resolve([
            defaults,
            file,
            environment::entries(variables),
            flag_entries(flags),
        ])
    }

    /// Where the value of setting `name` came from.
    pub fn origin_of(&self, name: &str) -> &Origin {
        SETTINGS
            .iter()
            .position(|s| s.name == name)
            .map_or(&Origin::Default, |i| &self.origins[i])
    }

    /// Replaces a setting's value, as `kafkaesque dev` does with the
    /// database URL. Returns the origin of the value replaced.
    pub fn replace(&mut self, name: &str, value: &str, origin: Origin) -> Result<Origin, String> {
        let i = SETTINGS
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("no setting {name}"))?;
        (SETTINGS[i].set)(&mut self.config, value)?;
        Ok(std::mem::replace(&mut self.origins[i], origin))
    }

    /// The start-up log line listing the ignored settings, if any.
    pub fn ignored_line(&self) -> Option<String> {
        (!self.ignored.is_empty()).then(|| {
            let names: Vec<&str> = self.ignored.keys().map(String::as_str).collect();
            format!(
                "ignoring {} Kafka settings that have no effect here: {} (--print-config shows where each came from)",
                names.len(),
                names.join(", ")
            )
        })
    }

    /// What `--print-config` prints: every setting as a `server.properties`
    /// line with its origin, passwords masked, then the ignored ones.
    pub fn render(&self) -> String {
        let mut lines: Vec<(&str, String, String)> = SETTINGS
            .iter()
            .zip(&self.origins)
            .map(
                |(setting, origin)| match setting.shown_value(&self.config) {
                    Some(value) => (
                        setting.name,
                        format!("{}={value}", setting.name),
                        origin.to_string(),
                    ),
                    None => (
                        setting.name,
                        format!("#{}=", setting.name),
                        "not set".to_string(),
                    ),
                },
            )
            .collect();
        lines.sort();
        let mut out = String::from(
            "# The effective settings, each with where it came from: a flag, else a\n\
             # KAFKA_* environment variable, else the --config file, else the default.\n",
        );
        let width = lines
            .iter()
            .map(|(_, l, _)| l.len())
            .max()
            .unwrap_or(0)
            .min(60);
        for (_, line, origin) in &lines {
            out.push_str(&format!("{line:width$}  # {origin}\n"));
        }
        for warning in &self.warnings {
            out.push_str(&format!("# warning: {warning}\n"));
        }
        if !self.ignored.is_empty() {
            out.push_str("\n# Kafka settings that have no effect here (ignored):\n");
            for entry in self.ignored.values() {
                let value = if is_kafka_password(&entry.name) {
                    "[hidden]"
                } else {
                    entry.value.as_str()
                };
                let line = format!("#{}={value}", entry.name);
                out.push_str(&format!("{line:width$}  # {}\n", entry.origin));
            }
        }
        out
    }
}

/// The settings given as flags.
fn flag_entries(flags: &Flags) -> Vec<Entry> {
    SETTINGS
        .iter()
        .filter_map(|setting| {
            (setting.from_flags)(flags).map(|value| Entry {
                name: setting.name.to_string(),
                value,
                origin: Origin::Flag(setting.flag()),
            })
        })
        .collect()
}

/// The settings in a properties file.
fn file_entries(path: &Path) -> Result<Vec<Entry>, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read --config {shown}: {e}"))?;
    // UTF-8, or else ISO-8859-1 as Java's Properties.load reads every file.
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect());
    let found = properties::parse(&text).map_err(|e| format!("{shown}, {e}"))?;
    Ok(found
        .into_iter()
        .map(|p| Entry {
            name: p.key,
            value: p.value,
            origin: Origin::File {
                path: shown.clone(),
                line: p.line,
            },
        })
        .collect())
}

/// Resolves the sources, lowest precedence first.
pub fn resolve<const N: usize>(layers: [Vec<Entry>; N]) -> Result<Loaded, String> {
    let mut loaded = Loaded {
        config: Config::default(),
        origins: vec![Origin::Default; SETTINGS.len()],
        ignored: BTreeMap::new(),
        warnings: Vec::new(),
    };
    for layer in layers {
        for entry in apply_aliases(layer)? {
            if let Some(i) = SETTINGS.iter().position(|s| s.name == entry.name) {
                (SETTINGS[i].set)(&mut loaded.config, &entry.value).map_err(|why| {
                    format!("{}: {}={}: {why}", entry.origin, entry.name, entry.value)
                })?;
                loaded.origins[i] = entry.origin;
            } else if is_kafka_setting(&entry.name) {
                loaded.ignored.insert(entry.name.clone(), entry);
            } else if let Origin::Env(variable) = &entry.origin {
                loaded.warnings.push(format!(
                    "environment variable {variable} would set {:?}, which is no Kafka broker setting{}; ignored",
                    entry.name,
                    did_you_mean(&entry.name)
                ));
            } else {
                return Err(format!(
                    "{}: {:?} is no Kafka broker setting{} (kafkaesque's own settings are kafkaesque.*; see --help)",
                    entry.origin,
                    entry.name,
                    did_you_mean(&entry.name)
                ));
            }
        }
    }
    check(&loaded)?;
    Ok(loaded)
}

/// Settings whose values must agree with each other, or that ask for what
/// is not done here and so must not be ignored quietly.
fn check(loaded: &Loaded) -> Result<(), String> {
    let config = &loaded.config;
    let listener = config
        .client_listener()
        .map_err(|e| format!("{}: {e}", loaded.origin_of("listeners")))?;
    if let Some(advertised) = &config.advertised_listener {
        super::listeners::advertised_for(advertised, &listener.name)
            .map_err(|e| format!("{}: {e}", loaded.origin_of("advertised.listeners")))?;
    }
    // Running with ACLs configured but unenforced would claim a protection
    // that is not there.
    if let Some(entry) = loaded.ignored.get("authorizer.class.name") {
        if !entry.value.trim().is_empty() {
            return Err(format!(
                "{}: authorizer.class.name={}: ACLs are not enforced yet (see the README, \"Not supported yet\"); remove it to run without authorization",
                entry.origin,
                entry.value.trim()
            ));
        }
    }
    Ok(())
}

/// Renames alias entries (`broker.id`) to their setting; both in one
/// source must agree.
fn apply_aliases(mut layer: Vec<Entry>) -> Result<Vec<Entry>, String> {
    for (alias, target) in ALIASES {
        let Some(a) = layer.iter().rposition(|e| e.name == *alias) else {
            continue;
        };
        match layer.iter().rposition(|e| e.name == *target) {
            Some(t) if layer[t].value.trim() != layer[a].value.trim() => {
                return Err(format!(
                    "{}: {alias}={} and {}: {target}={} disagree; set one of them",
                    layer[a].origin, layer[a].value, layer[t].origin, layer[t].value
                ));
            }
            Some(_) => {
                layer.remove(a);
            }
            None => layer[a].name = target.to_string(),
        }
    }
    Ok(layer)
}

/// Every Kafka broker setting name, with whether it is a password.
fn kafka_settings() -> impl Iterator<Item = (&'static str, bool)> {
    KAFKA_BROKER_SETTINGS
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| match line.split_once(' ') {
            Some((name, kind)) => (name, kind == "password"),
            None => (line, false),
        })
}

/// Whether `name` is one of Kafka's broker settings. `listener.name.*`
/// settings are Kafka's per-listener variants of its others.
pub fn is_kafka_setting(name: &str) -> bool {
    name.starts_with("listener.name.") || kafka_settings().any(|(known, _)| known == name)
}

/// Whether Kafka's setting `name` holds a secret (Kafka's PASSWORD type, or
/// a per-listener variant of one).
fn is_kafka_password(name: &str) -> bool {
    kafka_settings().any(|(known, password)| password && name.ends_with(known))
}

/// " (did you mean X?)" for the known name nearest to a misspelt one.
fn did_you_mean(name: &str) -> String {
    SETTINGS
        .iter()
        .map(|s: &Setting| s.name)
        .chain(kafka_settings().map(|(known, _)| known))
        .map(|known| (edit_distance(name, known), known))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| format!(" (did you mean {known}?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Vec<Entry> {
        properties::parse(text)
            .unwrap()
            .into_iter()
            .map(|p| Entry {
                name: p.key,
                value: p.value,
                origin: Origin::File {
                    path: "server.properties".into(),
                    line: p.line,
                },
            })
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<Entry> {
        environment::entries(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn flags(args: &[&str]) -> Vec<Entry> {
        use argh::FromArgs;
        flag_entries(&Flags::from_args(&["kafkaesque"], args).unwrap())
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let f = file("num.partitions=2\nnode.id=5\nlog.retention.hours=1\n");
        let e = env(&[("KAFKA_NUM_PARTITIONS", "3"), ("KAFKA_NODE_ID", "6")]);
        let loaded = resolve([f, e, flags(&["--num-partitions", "4"])]).unwrap();
        let c = &loaded.config;
        assert_eq!(
            (
                c.num_partitions,
                c.node_id,
                c.log_retention_hours,
                c.pool_size
            ),
            (4, 6, 1, 8)
        );
        assert_eq!(
            loaded.origin_of("num.partitions"),
            &Origin::Flag("--num-partitions".into())
        );
        assert_eq!(
            loaded.origin_of("node.id"),
            &Origin::Env("KAFKA_NODE_ID".into())
        );
        assert_eq!(
            loaded.origin_of("log.retention.hours").to_string(),
            "line 3 of server.properties"
        );
        assert_eq!(loaded.origin_of("kafkaesque.pool.size"), &Origin::Default);
    }

    #[test]
    fn every_row_is_named_and_documented_consistently() {
        use std::collections::HashSet;
        let mut names = HashSet::new();
        for setting in SETTINGS {
            assert!(names.insert(setting.name), "{} twice", setting.name);
            assert!(
                setting.name.starts_with("kafkaesque.") || is_kafka_setting(setting.name),
                "{} is neither a Kafka setting nor kafkaesque.*",
                setting.name
            );
        }
        // Each flag's help names the Kafka setting it mirrors.
        let mut help = String::new();
        {
            use argh::FromArgs;
            if let Err(early) = Flags::from_args(&["kafkaesque"], &["--help"]) {
                help = early.output;
            }
        }
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for setting in SETTINGS
            .iter()
            .filter(|s| !s.name.starts_with("kafkaesque."))
        {
            assert!(
                help.contains(&format!("Kafka: {}", setting.name)),
                "the help of {} does not name {}",
                setting.flag(),
                setting.name
            );
        }
    }

    #[test]
    fn errors_name_the_line_or_variable() {
        let err = resolve([file("# c\nnum.partitions=two\n")]).unwrap_err();
        assert_eq!(
            err,
            "line 2 of server.properties: num.partitions=two: not a whole number from -2147483648 to 2147483647"
        );
        let err = resolve([file("num.partitons=3\n")]).unwrap_err();
        assert_eq!(
            err,
            "line 1 of server.properties: \"num.partitons\" is no Kafka broker setting (did you mean num.partitions?) (kafkaesque's own settings are kafkaesque.*; see --help)"
        );
        let err = resolve([env(&[("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "yes")])]).unwrap_err();
        assert_eq!(err, "KAFKA_AUTO_CREATE_TOPICS_ENABLE: auto.create.topics.enable=yes: expected true or false");
        // An invalid value is an error even where a higher source overrides it.
        assert!(resolve([file("num.partitions=x"), flags(&["--num-partitions", "2"])]).is_err());
    }

    #[test]
    fn kafka_settings_without_effect_are_ignored_and_unknown_variables_warned() {
        let loaded = resolve([
            file("log.dirs=/tmp/a\nnum.network.threads=3\nlistener.name.internal.ssl.keystore.password=pw\n"),
            env(&[("KAFKA_NUM_NETWORK_THREADS", "4"), ("KAFKA_BOOTSTRAP_SERVERS", "x:9092")]),
        ])
        .unwrap();
        let ignored: Vec<(&str, &str, String)> = loaded
            .ignored
            .values()
            .map(|e| (e.name.as_str(), e.value.as_str(), e.origin.to_string()))
            .collect();
        assert_eq!(
            ignored,
            vec![
                (
                    "listener.name.internal.ssl.keystore.password",
                    "pw",
                    "line 3 of server.properties".into()
                ),
                ("log.dirs", "/tmp/a", "line 1 of server.properties".into()),
                (
                    "num.network.threads",
                    "4",
                    "KAFKA_NUM_NETWORK_THREADS".into()
                ),
            ]
        );
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("KAFKA_BOOTSTRAP_SERVERS would set \"bootstrap.servers\"")
        );
        let printed = loaded.render();
        assert!(
            printed.contains("#listener.name.internal.ssl.keystore.password=[hidden]"),
            "{printed}"
        );
        assert!(!printed.contains("=pw"), "{printed}");
        assert_eq!(
            loaded.ignored_line().unwrap(),
            "ignoring 3 Kafka settings that have no effect here: listener.name.internal.ssl.keystore.password, log.dirs, num.network.threads (--print-config shows where each came from)"
        );
    }

    #[test]
    fn print_config_masks_the_database_password() {
        let loaded = resolve([env(&[("DATABASE_URL", "postgres://kq:s3cret@db/kq")])]).unwrap();
        let printed = loaded.render();
        assert!(
            printed.contains("kafkaesque.database.url=postgres://kq:[hidden]@db/kq"),
            "{printed}"
        );
        assert!(printed.contains("# DATABASE_URL"), "{printed}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("#log.retention.ms="), "{printed}");
        assert_eq!(loaded.config.database_url, "postgres://kq:s3cret@db/kq");
    }

    #[test]
    fn broker_id_is_node_id() {
        let loaded = resolve([file("broker.id=7\n")]).unwrap();
        assert_eq!(loaded.config.node_id, 7);
        assert!(resolve([file("broker.id=7\nnode.id=7\n")]).is_ok());
        let err = resolve([file("broker.id=7\nnode.id=8\n")]).unwrap_err();
        assert!(err.contains("disagree"), "{err}");
    }

    #[test]
    fn listeners_are_checked_with_their_origin() {
        let err = resolve([file("listeners=SSL://:9093\n")]).unwrap_err();
        assert!(
            err.starts_with("line 1 of server.properties: listener SSL is SSL"),
            "{err}"
        );
        let err = resolve([file(
            "listeners=PLAINTEXT://:9092\nadvertised.listeners=OTHER://h:1\n",
        )])
        .unwrap_err();
        assert!(
            err.starts_with("line 2 of server.properties: advertised.listeners"),
            "{err}"
        );
        let err = resolve([file(
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n",
        )])
        .unwrap_err();
        assert!(err.contains("ACLs are not enforced yet"), "{err}");
        assert!(resolve([file("authorizer.class.name=\n")]).is_ok());
    }
}
