//! InitProducerId: a producer id and epoch for an idempotent producer.
//!
//! Without a transactional id Kafka always hands out a fresh producer id
//! at epoch 0 (the id and epoch in the request are only used to bump the
//! epoch of a transactional producer, KIP-360).

use super::{log_storage_error, storage_error_code, Ctx};
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::ErrorCode;
use crate::storage::producers;

pub fn handle(ctx: &Ctx<'_>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    let mut response = InitProducerIdResponse {
        throttle_time_ms: 0,
        error_code: ErrorCode::None.code(),
        producer_id: -1,
        producer_epoch: -1,
    };
    if request.transactional_id.is_some() {
        // Transactions are not supported yet (README); refuse clearly
        // rather than hand out an id no transaction coordinator backs.
        response.error_code = ErrorCode::TransactionalIdAuthorizationFailed.code();
        return response;
    }
    match ctx.broker.pool.run(producers::allocate_producer_id) {
        Ok(id) => {
            response.producer_id = id;
            response.producer_epoch = 0;
        }
        Err(err) => {
            log_storage_error(ctx, "allocating a producer id", &err);
            response.error_code = storage_error_code(&err).code();
        }
    }
    response
}
