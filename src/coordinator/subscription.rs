//! The topics a consumer subscribes to, read from the opaque member metadata
//! it sends in JoinGroup.
//!
//! For protocol type "consumer", every assignor's metadata starts with a
//! `ConsumerProtocolSubscription` (`ConsumerProtocolSubscription.json`,
//! never flexible): `version: int16, topics: [string], user_data: bytes, ...`.
//! OffsetDelete needs the topics to refuse deleting offsets a live member
//! still consumes (KIP-496, GROUP_SUBSCRIBED_TO_TOPIC).

use crate::protocol::primitives::{Reader, Result};

/// The subscribed topics, or an error if the metadata is not a consumer
/// subscription.
pub fn subscribed_topics(metadata: &[u8]) -> Result<Vec<String>> {
    let mut r = Reader::new(metadata);
    let _version = r.i16()?;
    r.array(false, |r| r.string(false))
}

#[cfg(test)]
mod tests {
    use super::subscribed_topics;
    use crate::protocol::Writer;

    #[test]
    fn reads_the_topics_of_a_subscription() {
        let mut w = Writer::new();
        w.i16(1);
        w.i32(2);
        w.string(false, "orders");
        w.string(false, "payments");
        w.bytes(false, b"user data");
        w.i32(0); // owned partitions (v1+)
        let topics = subscribed_topics(&w.into_inner()).expect("valid subscription");
        assert_eq!(topics, ["orders", "payments"]);
    }

    #[test]
    fn rejects_what_is_not_a_subscription() {
        assert!(subscribed_topics(&[0, 1, 0, 0, 0, 9]).is_err());
        assert!(subscribed_topics(&[]).is_err());
    }
}
