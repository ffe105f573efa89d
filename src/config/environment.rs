//! Settings from environment variables, named as the `apache/kafka` Docker
//! image names them, so that a compose file written for that image works
//! with its image name and database URL changed.
//!
//! The image turns every variable `KAFKA_<NAME>` into a line of
//! `server.properties` (`KafkaDockerWrapper.getServerConfigsFromEnv` in
//! Kafka's `core/src/main/scala/kafka/docker/`): drop `KAFKA_`, lower-case,
//! then `_` → `.`, `...` → `-`, `..` → `_`. So `KAFKA_NUM_PARTITIONS` is
//! `num.partitions`, `KAFKA_LISTENER_NAME_X__Y` is `listener.name.x_y` and
//! `KAFKA_A___B` is `a-b`. The variables its scripts and the JVM launcher
//! read for themselves are not settings ([`NOT_SETTINGS`]).
//!
//! Two more things the image does: with `KAFKA_ADVERTISED_LISTENERS` set and
//! `KAFKA_LISTENERS` not, it listens on the advertised listeners' ports of
//! every interface (its `configure` script); and `KAFKA_LOG4J_ROOT_LOGLEVEL`
//! sets the log level. Besides, `DATABASE_URL` is the database URL, as it
//! is for most tools that talk to PostgreSQL.

use super::load::{Entry, Origin};

/// `KAFKA_*` variables that are not broker settings: those the image's
/// wrapper leaves out (`ExcludeServerPropsEnv`), and those Kafka's launch
/// scripts and the image's `configure` and `launch` read for themselves.
pub const NOT_SETTINGS: &[&str] = &[
    "KAFKA_DEBUG",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_HEAP_OPTS",
    "KAFKA_HOME",
    "KAFKA_JMX_HOSTNAME",
    "KAFKA_JMX_OPTS",
    "KAFKA_JMX_PORT",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_LOG",
    "KAFKA_LOG4J_LOGGERS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_MODE",
    "KAFKA_OPTS",
    "KAFKA_SSL_KEYSTORE_CREDENTIALS",
    "KAFKA_SSL_KEYSTORE_FILENAME",
    "KAFKA_SSL_KEY_CREDENTIALS",
    "KAFKA_SSL_TRUSTSTORE_CREDENTIALS",
    "KAFKA_SSL_TRUSTSTORE_FILENAME",
    "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_VERSION",
];

/// Variables outside the `KAFKA_*` scheme that set a setting, each below
/// its `KAFKA_*` spelling in precedence.
const ALIASES: &[(&str, &str)] = &[
    ("DATABASE_URL", "kafkaesque.database.url"),
    ("KAFKA_LOG4J_ROOT_LOGLEVEL", "kafkaesque.log.level"),
];

/// The setting a variable names, as the image maps it, or `None` if the
/// variable is not one of the image's settings.
pub fn setting_name(variable: &str) -> Option<String> {
    let rest = variable.strip_prefix("KAFKA_")?;
    if rest.is_empty() || NOT_SETTINGS.contains(&variable) {
        return None;
    }
    Some(
        rest.to_lowercase()
            .replace('_', ".")
            .replace("...", "-")
            .replace("..", "_"),
    )
}

/// The variable that sets `setting`: the inverse of [`setting_name`].
pub fn variable_name(setting: &str) -> String {
    let mut name = String::from("KAFKA_");
    for c in setting.chars() {
        match c {
            '.' => name.push('_'),
            '_' => name.push_str("__"),
            '-' => name.push_str("___"),
            c => name.push(c.to_ascii_uppercase()),
        }
    }
    name
}

/// The settings in `variables`, in a stable order (by variable name).
pub fn entries(variables: impl IntoIterator<Item = (String, String)>) -> Vec<Entry> {
    let mut variables: Vec<(String, String)> = variables.into_iter().collect();
    variables.sort();
    let mut entries: Vec<Entry> = variables
        .iter()
        .filter_map(|(variable, value)| {
            setting_name(variable).map(|name| Entry {
                name,
                value: value.clone(),
                origin: Origin::Env(variable.clone()),
            })
        })
        .collect();
    let has = |entries: &[Entry], name: &str| entries.iter().any(|e| e.name == name);
    for (variable, name) in ALIASES {
        if has(&entries, name) {
            continue;
        }
        if let Some((_, value)) = variables.iter().find(|(v, _)| v == variable) {
            entries.push(Entry {
                name: name.to_string(),
                value: value.clone(),
                origin: Origin::Env(variable.to_string()),
            });
        }
    }
    // The image's `configure`: KAFKA_LISTENERS defaults to the advertised
    // listeners with every host replaced by 0.0.0.0.
    if !has(&entries, "listeners") {
        if let Some(advertised) = entries.iter().find(|e| e.name == "advertised.listeners") {
            let listeners = advertised
                .value
                .split(',')
                .map(|listener| match listener.split_once("://") {
                    Some((name, address)) => match address.split_once(':') {
                        Some((_, port)) => format!("{name}://0.0.0.0:{port}"),
                        None => listener.to_string(),
                    },
                    None => listener.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",");
            entries.push(Entry {
                name: "listeners".to_string(),
                value: listeners,
                origin: Origin::Env(format!(
                    "{} (listeners derived from it, as the apache/kafka image does)",
                    variable_name("advertised.listeners")
                )),
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_as_the_apache_kafka_image_maps_them() {
        let cases = [
            ("KAFKA_NUM_PARTITIONS", "num.partitions"),
            (
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                "listener.security.protocol.map",
            ),
            (
                "KAFKA_LISTENER_NAME_INTERNAL_SSL_KEYSTORE_LOCATION",
                "listener.name.internal.ssl.keystore.location",
            ),
            (
                "KAFKA_LISTENER_NAME_EXTERNAL__HOST_PLAIN_SASL_JAAS_CONFIG",
                "listener.name.external_host.plain.sasl.jaas.config",
            ),
            ("KAFKA_SASL_MECHANISM_FOO___BAR", "sasl.mechanism.foo-bar"),
            ("KAFKA_KAFKAESQUE_DATABASE_URL", "kafkaesque.database.url"),
        ];
        for (variable, setting) in cases {
            assert_eq!(
                setting_name(variable).as_deref(),
                Some(setting),
                "{variable}"
            );
            assert_eq!(variable_name(setting), variable, "{setting}");
        }
        for variable in [
            "KAFKA_HEAP_OPTS",
            "KAFKA_OPTS",
            "KAFKA_JMX_PORT",
            "KAFKA_",
            "KAFKAESQUE_X",
            "PATH",
        ] {
            assert_eq!(setting_name(variable), None, "{variable}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String, String)> {
        entries(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .into_iter()
            .map(|e| (e.name, e.value, e.origin.to_string()))
            .collect()
    }

    #[test]
    fn the_image_derives_listeners_from_advertised_listeners() {
        let found = env(&[(
            "KAFKA_ADVERTISED_LISTENERS",
            "PLAINTEXT://broker:19092,PLAINTEXT_HOST://localhost:9092",
        )]);
        assert_eq!(found[1].0, "listeners");
        assert_eq!(
            found[1].1,
            "PLAINTEXT://0.0.0.0:19092,PLAINTEXT_HOST://0.0.0.0:9092"
        );
        // Not when KAFKA_LISTENERS is set.
        let found = env(&[
            ("KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://broker:19092"),
            ("KAFKA_LISTENERS", "PLAINTEXT://:19092"),
        ]);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[1],
            (
                "listeners".into(),
                "PLAINTEXT://:19092".into(),
                "KAFKA_LISTENERS".into()
            )
        );
    }

    #[test]
    fn aliases_rank_below_their_kafka_spelling() {
        assert_eq!(
            env(&[("DATABASE_URL", "postgres://a"), ("HOME", "/root")]),
            vec![(
                "kafkaesque.database.url".into(),
                "postgres://a".into(),
                "DATABASE_URL".into()
            )]
        );
        assert_eq!(
            env(&[
                ("DATABASE_URL", "postgres://a"),
                ("KAFKA_KAFKAESQUE_DATABASE_URL", "postgres://b")
            ]),
            vec![(
                "kafkaesque.database.url".into(),
                "postgres://b".into(),
                "KAFKA_KAFKAESQUE_DATABASE_URL".into()
            )]
        );
        assert_eq!(
            env(&[("KAFKA_LOG4J_ROOT_LOGLEVEL", "WARN")]),
            vec![(
                "kafkaesque.log.level".into(),
                "WARN".into(),
                "KAFKA_LOG4J_ROOT_LOGLEVEL".into()
            )]
        );
    }
}
