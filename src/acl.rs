//! ACL bindings and filters as Kafka's authorizer knows them (KIP-140;
//! prefixed patterns, KIP-290): the codes of their enums, which bindings
//! CreateAcls accepts and which bindings a DescribeAcls or DeleteAcls
//! filter matches.
//!
//! The rules are those of Kafka 4.x with `StandardAuthorizer`: validation
//! from `AclApis.handleCreateAcls` and `AclControlManager.validateNewAcl`,
//! matching from `ResourcePatternFilter` and `AccessControlEntryFilter`.
//! ACLs are stored and administered but not enforced: the listener has no
//! SASL yet, so every client is `User:ANONYMOUS` and may do anything.
//!
//! Kafka turns a code it does not know into its enum's UNKNOWN; so does
//! every function here, through [`known`].

/// The UNKNOWN and ANY codes, the same in every ACL enum.
pub const UNKNOWN: i8 = 0;
pub const ANY: i8 = 1;

/// Resource types (`ResourceType`).
pub const RESOURCE_CLUSTER: i8 = 4;
const RESOURCE_TYPES: &[&str] = &[
    "UNKNOWN",
    "ANY",
    "TOPIC",
    "GROUP",
    "CLUSTER",
    "TRANSACTIONAL_ID",
    "DELEGATION_TOKEN",
    "USER",
];

/// Pattern types (`PatternType`). MATCH and ANY only exist in filters.
pub const PATTERN_MATCH: i8 = 2;
pub const PATTERN_LITERAL: i8 = 3;
pub const PATTERN_PREFIXED: i8 = 4;
const PATTERN_TYPES: &[&str] = &["UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"];

/// Operations (`AclOperation`).
const OPERATIONS: &[&str] = &[
    "UNKNOWN",
    "ANY",
    "ALL",
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
    "CREATE_TOKENS",
    "DESCRIBE_TOKENS",
    "TWO_PHASE_COMMIT",
];

/// Permission types (`AclPermissionType`).
pub const PERMISSION_DENY: i8 = 2;
pub const PERMISSION_ALLOW: i8 = 3;
const PERMISSION_TYPES: &[&str] = &["UNKNOWN", "ANY", "DENY", "ALLOW"];

/// The one name a CLUSTER resource may have.
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// A LITERAL resource name that stands for every resource of its type.
pub const WILDCARD: &str = "*";

/// Most ACLs one request may create or delete: Kafka's controller writes
/// at most this many records per user operation.
pub const MAX_CHANGES_PER_REQUEST: usize = 10_000;

/// `code` if `names` has it, else UNKNOWN (Kafka's `fromCode`).
fn known(code: i8, names: &[&str]) -> i8 {
    if code >= 0 && (code as usize) < names.len() {
        code
    } else {
        UNKNOWN
    }
}

fn name(code: i8, names: &[&'static str]) -> &'static str {
    names[known(code, names) as usize]
}

/// One stored ACL: a resource pattern (type, name, LITERAL or PREFIXED)
/// and an entry (principal, host, operation, ALLOW or DENY). Two bindings
/// with equal fields are the same ACL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    pub resource_type: i8,
    pub resource_name: String,
    pub pattern_type: i8,
    /// "Type:name", e.g. "User:alice".
    pub principal: String,
    /// A host, or "*" for every host.
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

impl AclBinding {
    /// Why Kafka would refuse to create this binding (INVALID_REQUEST with
    /// this message), checked in Kafka's order; `None` if it is valid.
    pub fn invalid_reason(&self) -> Option<String> {
        let resource_type = known(self.resource_type, RESOURCE_TYPES);
        // AclApis, on the controller, before the authorizer sees it.
        if resource_type == RESOURCE_CLUSTER && self.resource_name != CLUSTER_NAME {
            return Some(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            ));
        }
        if self.resource_name.is_empty() {
            return Some("Invalid empty resource name".into());
        }
        // AclControlManager.validateNewAcl.
        if matches!(resource_type, UNKNOWN | ANY) {
            return Some(format!(
                "Invalid resourceType {}",
                name(resource_type, RESOURCE_TYPES)
            ));
        }
        if !matches!(self.pattern_type, PATTERN_LITERAL | PATTERN_PREFIXED) {
            return Some(format!(
                "Invalid patternType {}",
                name(self.pattern_type, PATTERN_TYPES)
            ));
        }
        if matches!(known(self.operation, OPERATIONS), UNKNOWN | ANY) {
            return Some(format!(
                "Invalid operation {}",
                name(self.operation, OPERATIONS)
            ));
        }
        if !matches!(self.permission_type, PERMISSION_DENY | PERMISSION_ALLOW) {
            return Some(format!(
                "Invalid permissionType {}",
                name(self.permission_type, PERMISSION_TYPES)
            ));
        }
        if !self.principal.contains(':') {
            return Some(format!(
                "Could not parse principal from `{}` (no colon is present separating the principal type from the principal name)",
                self.principal
            ));
        }
        None
    }
}

/// A filter over bindings (DescribeAcls, DeleteAcls). ANY matches every
/// value of an enum, a `None` string every string; the MATCH pattern type
/// matches the patterns that would apply to the named resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclFilter {
    pub resource_type: i8,
    pub resource_name: Option<String>,
    pub pattern_type: i8,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: i8,
    pub permission_type: i8,
}

impl AclFilter {
    /// Why DeleteAcls refuses this filter (INVALID_REQUEST with this
    /// message; `AclControlManager.validateFilter`), if it does.
    pub fn invalid_reason(&self) -> Option<&'static str> {
        if known(self.resource_type, RESOURCE_TYPES) == UNKNOWN
            || known(self.pattern_type, PATTERN_TYPES) == UNKNOWN
        {
            Some("Unknown patternFilter.")
        } else if known(self.operation, OPERATIONS) == UNKNOWN
            || known(self.permission_type, PERMISSION_TYPES) == UNKNOWN
        {
            Some("Unknown entryFilter.")
        } else {
            None
        }
    }

    /// Whether `acl` passes this filter (`AclBindingFilter.matches`). A
    /// filter with an UNKNOWN field matches nothing.
    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl) && self.matches_entry(acl)
    }

    /// `ResourcePatternFilter.matches`.
    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        let resource_type = known(self.resource_type, RESOURCE_TYPES);
        if resource_type != ANY && resource_type != acl.resource_type {
            return false;
        }
        let pattern_type = known(self.pattern_type, PATTERN_TYPES);
        if pattern_type != ANY && pattern_type != PATTERN_MATCH && pattern_type != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if pattern_type == ANY || pattern_type == acl.pattern_type {
            return *name == acl.resource_name;
        }
        // MATCH: the patterns that apply to the resource called `name`.
        match acl.pattern_type {
            PATTERN_LITERAL => *name == acl.resource_name || acl.resource_name == WILDCARD,
            PATTERN_PREFIXED => name.starts_with(&acl.resource_name),
            _ => false,
        }
    }

    /// `AccessControlEntryFilter.matches`.
    fn matches_entry(&self, acl: &AclBinding) -> bool {
        if self.principal.as_ref().is_some_and(|p| *p != acl.principal) {
            return false;
        }
        if self.host.as_ref().is_some_and(|h| *h != acl.host) {
            return false;
        }
        let operation = known(self.operation, OPERATIONS);
        if operation != ANY && operation != acl.operation {
            return false;
        }
        let permission_type = known(self.permission_type, PERMISSION_TYPES);
        permission_type == ANY || permission_type == acl.permission_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: i8 = 2;
    const GROUP: i8 = 3;
    const READ: i8 = 3;
    const WRITE: i8 = 4;

    fn acl(resource_type: i8, name: &str, pattern_type: i8, principal: &str) -> AclBinding {
        AclBinding {
            resource_type,
            resource_name: name.into(),
            pattern_type,
            principal: principal.into(),
            host: "*".into(),
            operation: READ,
            permission_type: PERMISSION_ALLOW,
        }
    }

    fn filter(resource_type: i8, name: Option<&str>, pattern_type: i8) -> AclFilter {
        AclFilter {
            resource_type,
            resource_name: name.map(Into::into),
            pattern_type,
            principal: None,
            host: None,
            operation: ANY,
            permission_type: ANY,
        }
    }

    #[test]
    fn match_finds_the_literal_the_wildcard_and_the_prefixes_of_a_name() {
        let acls = [
            acl(TOPIC, "orders-eu", PATTERN_LITERAL, "User:a"),
            acl(TOPIC, "*", PATTERN_LITERAL, "User:b"),
            acl(TOPIC, "orders", PATTERN_PREFIXED, "User:c"),
            acl(TOPIC, "orders-eu", PATTERN_PREFIXED, "User:d"),
            acl(TOPIC, "orders-eu-1", PATTERN_PREFIXED, "User:e"),
            acl(TOPIC, "orders", PATTERN_LITERAL, "User:f"),
            acl(GROUP, "orders-eu", PATTERN_LITERAL, "User:g"),
            acl(TOPIC, "*", PATTERN_PREFIXED, "User:h"),
        ];
        let matched = |f: &AclFilter| -> Vec<&str> {
            acls.iter()
                .filter(|a| f.matches(a))
                .map(|a| a.principal.as_str())
                .collect()
        };
        assert_eq!(
            matched(&filter(TOPIC, Some("orders-eu"), PATTERN_MATCH)),
            ["User:a", "User:b", "User:c", "User:d"]
        );
        assert_eq!(
            matched(&filter(TOPIC, Some("orders-eu"), PATTERN_LITERAL)),
            ["User:a"]
        );
        assert_eq!(
            matched(&filter(TOPIC, Some("orders"), PATTERN_PREFIXED)),
            ["User:c"]
        );
        // ANY compares names exactly, whatever the pattern type.
        assert_eq!(
            matched(&filter(ANY, Some("orders-eu"), ANY)),
            ["User:a", "User:d", "User:g"]
        );
        assert_eq!(matched(&filter(ANY, None, ANY)).len(), acls.len());
        // MATCH without a name matches every pattern.
        assert_eq!(matched(&filter(TOPIC, None, PATTERN_MATCH)).len(), 7);
        // The wildcard name as a LITERAL filter only finds the wildcard.
        assert_eq!(
            matched(&filter(TOPIC, Some("*"), PATTERN_LITERAL)),
            ["User:b"]
        );
        // Unrecognised codes are UNKNOWN and match nothing.
        assert!(matched(&filter(99, None, ANY)).is_empty());
        assert!(matched(&filter(TOPIC, None, 99)).is_empty());
    }

    #[test]
    fn entry_fields_narrow_the_filter() {
        let mut write = acl(TOPIC, "t", PATTERN_LITERAL, "User:a");
        write.operation = WRITE;
        write.host = "10.0.0.1".into();
        let read = acl(TOPIC, "t", PATTERN_LITERAL, "User:a");
        let mut f = filter(ANY, None, ANY);
        f.operation = WRITE;
        assert!(f.matches(&write) && !f.matches(&read));
        f.operation = ANY;
        f.host = Some("*".into());
        assert!(!f.matches(&write) && f.matches(&read));
        f.host = None;
        f.principal = Some("User:b".into());
        assert!(!f.matches(&write) && !f.matches(&read));
        f.principal = None;
        f.permission_type = PERMISSION_DENY;
        assert!(!f.matches(&read));
        f.permission_type = 42;
        assert!(!f.matches(&read));
    }

    #[test]
    fn creations_are_validated_as_kafka_does() {
        let ok = acl(TOPIC, "t", PATTERN_PREFIXED, "User:a");
        assert_eq!(ok.invalid_reason(), None);
        let reason = |f: &dyn Fn(&mut AclBinding)| {
            let mut a = ok.clone();
            f(&mut a);
            a.invalid_reason().unwrap_or_default()
        };
        assert_eq!(
            reason(&|a| a.resource_type = ANY),
            "Invalid resourceType ANY"
        );
        assert_eq!(
            reason(&|a| a.resource_type = 99),
            "Invalid resourceType UNKNOWN"
        );
        assert_eq!(reason(&|a| a.pattern_type = ANY), "Invalid patternType ANY");
        assert_eq!(
            reason(&|a| a.pattern_type = PATTERN_MATCH),
            "Invalid patternType MATCH"
        );
        assert_eq!(reason(&|a| a.operation = ANY), "Invalid operation ANY");
        assert_eq!(reason(&|a| a.operation = 16), "Invalid operation UNKNOWN");
        assert_eq!(
            reason(&|a| a.permission_type = ANY),
            "Invalid permissionType ANY"
        );
        assert_eq!(
            reason(&|a| a.resource_name.clear()),
            "Invalid empty resource name"
        );
        assert_eq!(
            reason(&|a| a.principal = "alice".into()),
            "Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)"
        );
        assert_eq!(
            reason(&|a| a.resource_type = RESOURCE_CLUSTER),
            "The only valid name for the CLUSTER resource is kafka-cluster"
        );
        assert_eq!(
            reason(&|a| {
                a.resource_type = RESOURCE_CLUSTER;
                a.resource_name = CLUSTER_NAME.into();
            }),
            ""
        );
    }

    #[test]
    fn delete_filters_with_unknown_parts_are_refused() {
        assert_eq!(filter(ANY, None, ANY).invalid_reason(), None);
        assert_eq!(
            filter(99, None, ANY).invalid_reason(),
            Some("Unknown patternFilter.")
        );
        let mut f = filter(TOPIC, None, PATTERN_MATCH);
        f.operation = 77;
        assert_eq!(f.invalid_reason(), Some("Unknown entryFilter."));
    }
}
