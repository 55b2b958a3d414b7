import kafkajs from 'kafkajs';
import type { ClipstreamError } from '../errors.js';

/**
 * A hand-back travels to kafkajs as one of its own retriable errors: kafkajs then re-reads from
 * the event's offset without logging an "Error when calling eachMessage" (which is for bugs);
 * the coded reason is kept as the cause.
 */
class HandBackError extends kafkajs.KafkaJSError {
  constructor(readonly reason: ClipstreamError) {
    super(`handed back: ${reason.code}: ${reason.message}`, { retriable: true });
  }
}

export function handBack(reason: ClipstreamError): Error {
  return new HandBackError(reason);
}
