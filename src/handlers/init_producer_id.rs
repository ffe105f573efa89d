//! InitProducerId: a producer id and epoch for an idempotent or
//! transactional producer.
//!
//! Without a transactional id Kafka always hands out a fresh producer id
//! at epoch 0. With one, the transaction coordinator fences the previous
//! producer of that id by bumping its epoch (KIP-98, KIP-360).

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
    if let Some(id) = request.transactional_id.as_deref() {
        let expected =
            (request.producer_id >= 0).then_some((request.producer_id, request.producer_epoch));
        match ctx.broker.transactions.init_producer_id(
            ctx.broker,
            id,
            request.transaction_timeout_ms,
            expected,
            ctx.version,
        ) {
            Ok((producer_id, producer_epoch)) => {
                response.producer_id = producer_id;
                response.producer_epoch = producer_epoch;
            }
            Err(code) => response.error_code = code.code(),
        }
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
