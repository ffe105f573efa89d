//! Kafka's `listeners` and `advertised.listeners`: comma-separated
//! `NAME://HOST:PORT` entries (a bare `HOST:PORT` is the listener named
//! `PLAINTEXT`). An empty host means every interface.
//!
//! A Kafka file names a KRaft controller listener too (`CONTROLLER://:9093`
//! with `controller.listener.names=CONTROLLER`): there is no controller
//! here, so those entries are skipped. Of the rest, this broker serves one,
//! in plaintext: several listeners, and TLS or SASL on them, are not
//! supported yet, so a file asking for them is refused rather than served
//! differently from what it says.

/// One `NAME://HOST:PORT` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Upper-cased, as Kafka normalises listener names.
    pub name: String,
    /// Empty for every interface.
    pub host: String,
    pub port: u16,
}

impl Listener {
    /// The address to bind: an empty host is every IPv4 interface.
    pub fn bind_address(&self) -> String {
        let host = if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        };
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Parses a `listeners`-style list. `setting` names it in errors.
pub fn parse(setting: &str, value: &str) -> Result<Vec<Listener>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, address) = match entry.split_once("://") {
                Some((name, address)) => (name.to_ascii_uppercase(), address),
                None => ("PLAINTEXT".to_string(), entry),
            };
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| format!("{setting}: {entry:?} is not NAME://HOST:PORT"))?;
            let port = port
                .parse()
                .map_err(|_| format!("{setting}: {entry:?} has an invalid port"))?;
            Ok(Listener {
                name,
                host: host.trim_matches(|c| c == '[' || c == ']').to_string(),
                port,
            })
        })
        .collect()
}

/// The one client listener `listeners` names, once the controller
/// listeners are taken out; only plaintext is served for now.
pub fn client_listener(
    listeners: &str,
    controller_listener_names: &str,
    security_protocol_map: &str,
) -> Result<Listener, String> {
    let controllers: Vec<String> = controller_listener_names
        .split(',')
        .map(|n| n.trim().to_ascii_uppercase())
        .filter(|n| !n.is_empty())
        .collect();
    let mut clients: Vec<Listener> = parse("listeners", listeners)?
        .into_iter()
        .filter(|l| !controllers.contains(&l.name))
        .collect();
    let listener = match clients.len() {
        1 => clients.remove(0),
        0 => {
            return Err(format!(
                "listeners {listeners:?} names no listener for clients"
            ))
        }
        _ => {
            let names: Vec<&str> = clients.iter().map(|l| l.name.as_str()).collect();
            return Err(format!(
                "listeners {listeners:?} has {} client listeners ({}); kafkaesque serves one for now: keep one in listeners and advertised.listeners",
                clients.len(),
                names.join(", ")
            ));
        }
    };
    let protocol = security_protocol(&listener.name, security_protocol_map)?;
    if protocol != "PLAINTEXT" {
        return Err(format!(
            "listener {} is {protocol}: TLS and SASL on the Kafka listener are not supported yet, only PLAINTEXT",
            listener.name
        ));
    }
    Ok(listener)
}

/// The security protocol of listener `name` in
/// `listener.security.protocol.map` (`NAME:PROTOCOL,...`).
fn security_protocol(name: &str, map: &str) -> Result<String, String> {
    map.split(',')
        .filter_map(|pair| pair.split_once(':'))
        .find(|(listener, _)| listener.trim().eq_ignore_ascii_case(name))
        .map(|(_, protocol)| protocol.trim().to_ascii_uppercase())
        .ok_or_else(|| {
            format!("listener.security.protocol.map {map:?} has no security protocol for listener {name}")
        })
}

/// The entry of `advertised.listeners` for the served listener `name`. A
/// bare `HOST:PORT` is the address of whichever listener is served.
pub fn advertised_for(advertised: &str, name: &str) -> Result<Listener, String> {
    let bare = !advertised.contains("://");
    parse("advertised.listeners", advertised)?
        .into_iter()
        .find(|l| bare || l.name == name)
        .ok_or_else(|| {
            format!("advertised.listeners {advertised:?} has no entry for listener {name}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

    fn listener(name: &str, host: &str, port: u16) -> Listener {
        Listener {
            name: name.into(),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn kafkas_shipped_listeners_serve_plaintext_on_9092() {
        let served =
            client_listener("PLAINTEXT://:9092,CONTROLLER://:9093", "CONTROLLER", MAP).unwrap();
        assert_eq!(served, listener("PLAINTEXT", "", 9092));
        assert_eq!(served.bind_address(), "0.0.0.0:9092");
        assert_eq!(
            advertised_for(
                "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
                "PLAINTEXT"
            ),
            Ok(listener("PLAINTEXT", "localhost", 9092))
        );
    }

    #[test]
    fn bare_addresses_and_ipv6() {
        let served = client_listener("127.0.0.1:9092", "", MAP).unwrap();
        assert_eq!(served, listener("PLAINTEXT", "127.0.0.1", 9092));
        let served = client_listener("plaintext://[::1]:19092", "", MAP).unwrap();
        assert_eq!(served.bind_address(), "[::1]:19092");
    }

    #[test]
    fn what_cannot_be_served_is_refused() {
        let two = client_listener(
            "CONTROLLER://:29093,PLAINTEXT_HOST://:9092,PLAINTEXT://:19092",
            "CONTROLLER",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
        );
        assert!(two
            .unwrap_err()
            .contains("2 client listeners (PLAINTEXT_HOST, PLAINTEXT)"));
        let ssl = client_listener("SSL://:9093", "", MAP).unwrap_err();
        assert!(ssl.contains("SSL: TLS and SASL"), "{ssl}");
        let unmapped = client_listener("EXTERNAL://:9093", "", MAP).unwrap_err();
        assert!(
            unmapped.contains("no security protocol for listener EXTERNAL"),
            "{unmapped}"
        );
        let none = client_listener("CONTROLLER://:9093", "CONTROLLER", MAP).unwrap_err();
        assert!(none.contains("no listener for clients"), "{none}");
        assert!(parse("listeners", "PLAINTEXT://:x")
            .unwrap_err()
            .contains("invalid port"));
        assert!(advertised_for("OTHER://h:1", "PLAINTEXT").is_err());
        assert_eq!(advertised_for("h:1", "EXTERNAL").unwrap().host, "h");
    }
}
