//! Kafka's rules for topic names (`org.apache.kafka.common.internals.Topic`).

/// Longest legal topic name.
pub const MAX_NAME_LENGTH: usize = 249;

/// Why a topic name is not legal, in Kafka's words; `None` if it is.
pub fn invalid_reason(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return Some("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > MAX_NAME_LENGTH {
        return Some(format!(
            "Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, topic name: {name}"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Some(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::invalid_reason;

    #[test]
    fn kafka_topic_name_rules() {
        for good in ["orders", "a.b_c-D9", &"x".repeat(249)] {
            assert_eq!(invalid_reason(good), None, "{good}");
        }
        for bad in ["", ".", "..", "with space", "ünï", "a/b", &"x".repeat(250)] {
            assert!(invalid_reason(bad).is_some(), "{bad}");
        }
    }
}
