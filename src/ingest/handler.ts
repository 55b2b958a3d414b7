/**
 * One video event, from bytes to committed offset: validate, run the pipeline (retrying
 * transient faults), publish the result (or a DLQ record), then commit offset + 1. Anything
 * that cannot finish here (shutdown, rebalance, broker trouble) throws, so the offset stays
 * uncommitted and Kafka delivers the event again.
 */
import { performance } from 'node:perf_hooks';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { ClipstreamError, toClipstreamError } from '../errors.js';
import { checkUri } from '../frames/index.js';
import type { Logger } from '../log.js';
import { processVideo } from '../pipeline/index.js';
import type { PipelineContext, VideoOutcome } from '../pipeline/index.js';
import {
  ATTR,
  OUTCOME,
  STAGE,
  createTrace,
  extractContext,
  markError,
  startVideoSpan,
  traceHeaders,
} from '../telemetry/index.js';
import type { Instruments, TraceFn } from '../telemetry/index.js';
import type { AttemptLedger } from './attempts.js';
import { buildDlqMessage } from './dlq.js';
import { videoAlerts } from '../live/alerts.js';
import { embeddingChunks } from './embeddings.js';
import { parseEvent } from './event.js';
import type { ParsedEvent } from './event.js';
import type { IngestOptions } from './options.js';
import type { OutgoingMessage, Publisher } from './publisher.js';
import { decide, sleep } from './retry.js';
import type { RetryPolicy } from './retry.js';
import type { StandingQueries } from './standing.js';
import { withStanding } from './standing.js';

export type HandlerSettings = Pick<
  IngestOptions,
  | 'outputTopic'
  | 'dlqTopic'
  | 'embeddingsTopic'
  | 'publishEmbeddings'
  | 'maxMessageBytes'
  | 'group'
  | 'testCrashOnVideo'
  | 'alertsTopic'
  | 'alertCooldownSec'
>;

export interface HandlerDeps {
  readonly settings: HandlerSettings;
  readonly retry: RetryPolicy;
  /** What every video runs with (embedder, source policy, limits, matcher); log and trace are per video. */
  readonly context: PipelineContext;
  readonly publisher: Publisher;
  readonly standing: StandingQueries;
  readonly instruments: Instruments;
  readonly log: Logger;
  /** Crash-loop protection: attempts counted across process deaths (absent: not counted). */
  readonly attempts?: AttemptLedger;
  /** Commits `offset` (the next one to read) for the partition; throws when it cannot. */
  readonly commit: (topic: string, partition: number, nextOffset: string) => Promise<void>;
}

export interface Delivery {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export type Outcome = 'result' | 'dlq';

/** Room left in a message for headers and framing, in bytes. */
const MESSAGE_OVERHEAD = 4096;

export class EventHandler {
  constructor(private readonly d: HandlerDeps) {}

  /**
   * Handles one delivery to the end (published and committed) and says how it ended, or throws
   * a coded error (the event is handed back uncommitted).
   */
  async handle(delivery: Delivery, signal: AbortSignal): Promise<Outcome> {
    const { topic, partition, message } = delivery;
    const t0 = performance.now();
    const { span, ctx } = startVideoSpan(extractContext(message.headers), {
      [ATTR.messagingSystem]: 'kafka',
      [ATTR.messagingDestination]: topic,
      [ATTR.messagingPartition]: String(partition),
      [ATTR.messagingOffset]: Number(message.offset),
      [ATTR.messagingGroup]: this.d.settings.group,
      ...(message.key ? { [ATTR.messagingKey]: message.key.toString('utf8').slice(0, 256) } : {}),
    });
    const trace = createTrace({ parent: ctx, instruments: this.d.instruments });
    const log = this.d.log.child({ topic, partition, offset: message.offset });
    let outcome: string = OUTCOME.handedBack;
    try {
      const result = await this.run(delivery, signal, trace, log, (key, value) =>
        span.setAttribute(key, value),
      );
      outcome = result;
      return result;
    } catch (err) {
      markError(span, err);
      throw err;
    } finally {
      span.setAttribute(ATTR.outcome, outcome);
      span.end();
      this.d.instruments.events.add(1, { [ATTR.outcome]: outcome });
      this.d.instruments.videoDuration.record((performance.now() - t0) / 1000, { [ATTR.outcome]: outcome });
    }
  }

  private async run(
    delivery: Delivery,
    signal: AbortSignal,
    trace: TraceFn,
    log: Logger,
    annotate: (key: string, value: string | number) => void,
  ): Promise<Outcome> {
    const ledger = this.d.attempts;
    if (ledger) {
      let claim;
      try {
        claim = await ledger.claim(delivery.topic, delivery.partition, delivery.message.offset);
      } catch (err) {
        throw new ClipstreamError(
          'CLIPSTREAM_KAFKA_UNAVAILABLE',
          `could not record the attempt: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (claim.spent) {
        const error = new ClipstreamError(
          'CLIPSTREAM_WORKER_CRASHED',
          `a worker process ended while processing this event ${claim.previous} times ` +
            `(crash-loop budget ${ledger.budget}): not tried again`,
        );
        return this.deadLetter(delivery, error, trace, log);
      }
    }
    let event: ParsedEvent;
    try {
      event = await trace(STAGE.validate, async () => {
        const e = parseEvent(delivery.message.value);
        // The cheap part of the source policy (scheme, local files refused) before any work.
        checkUri(e.uri, this.d.context.policy);
        return e;
      });
    } catch (err) {
      return this.deadLetter(delivery, toClipstreamError(err), trace, log);
    }
    annotate(ATTR.videoId, event.videoId);
    if (
      this.d.settings.testCrashOnVideo !== undefined &&
      event.videoId === this.d.settings.testCrashOnVideo
    ) {
      // TEST ONLY (CLIPSTREAM_TEST_CRASH_ON_VIDEO): die as an out-of-memory kill would, at once.
      log.error('test fault switch: killing the worker process', { videoId: event.videoId });
      process.kill(process.pid, 'SIGKILL');
    }
    const { queries, dropped } = withStanding(event.queries, this.d.standing.list());
    if (dropped > 0) {
      log.warn('standing queries did not fit in the query limit and were left out of this video', {
        videoId: event.videoId,
        dropped,
      });
    }
    const request = { ...event, queries };

    let outcome: VideoOutcome | undefined;
    for (let attempt = 1; outcome === undefined; attempt++) {
      annotate(ATTR.attempt, attempt);
      try {
        outcome = await trace(STAGE.process, (pctx) =>
          processVideo(
            request,
            {
              ...this.d.context,
              log,
              trace: createTrace({ parent: pctx, instruments: this.d.instruments }),
            },
            signal,
          ),
        );
      } catch (err) {
        if (signal.aborted) throw aborted(signal);
        const decision = decide(err, attempt, this.d.retry);
        if (decision.action === 'hand-back') throw decision.error;
        if (decision.action === 'dlq') return this.deadLetter(delivery, decision.error, trace, log);
        this.d.instruments.retries.add(1, { [ATTR.errorCode]: decision.error.code });
        log.warn('retrying a video after a transient fault', {
          videoId: event.videoId,
          attempt,
          delayMs: decision.delayMs,
          code: decision.error.code,
          error: decision.error.message,
        });
        await sleep(decision.delayMs, signal);
      }
    }

    const { result, track } = outcome;
    annotate(ATTR.resultId, result.resultId);
    const value = JSON.stringify(result);
    const limit = this.d.settings.maxMessageBytes - MESSAGE_OVERHEAD;
    if (Buffer.byteLength(value) > limit) {
      return this.deadLetter(
        delivery,
        new ClipstreamError(
          'CLIPSTREAM_RESULT_TOO_LARGE',
          `the result has ${Buffer.byteLength(value)} bytes, more than ${limit}`,
        ),
        trace,
        log,
      );
    }
    try {
      await trace(STAGE.publish, async (pctx) => {
        const headers = traceHeaders(pctx);
        const messages: OutgoingMessage[] = [];
        if (this.d.settings.publishEmbeddings) {
          // Before the result, in the same acknowledged send: whoever sees a result can find its
          // embeddings.
          for (const chunk of embeddingChunks(result, track, limit)) {
            messages.push({
              topic: this.d.settings.embeddingsTopic,
              key: result.videoId,
              value: JSON.stringify(chunk),
              headers,
            });
          }
        }
        messages.push({ topic: this.d.settings.outputTopic, key: result.videoId, value, headers });
        const { alertsTopic } = this.d.settings;
        if (alertsTopic !== undefined) {
          for (const a of videoAlerts(result, this.d.settings.alertCooldownSec))
            messages.push({ topic: alertsTopic, key: result.videoId, value: JSON.stringify(a), headers });
        }
        await this.d.publisher.send(messages);
      });
    } catch (err) {
      const e = toClipstreamError(err);
      if (e.code === 'CLIPSTREAM_RESULT_TOO_LARGE') return this.deadLetter(delivery, e, trace, log);
      throw e;
    }
    await this.commit(delivery, trace);
    this.d.instruments.frames.add(result.sampling.frames);
    log.info('published result', {
      videoId: result.videoId,
      resultId: result.resultId,
      frames: result.sampling.frames,
      totalMs: result.timings.totalMs,
    });
    return 'result';
  }

  private async deadLetter(
    delivery: Delivery,
    error: ClipstreamError,
    trace: TraceFn,
    log: Logger,
  ): Promise<Outcome> {
    const { topic, partition, message } = delivery;
    const source = { topic, partition, offset: message.offset };
    const original = {
      key: message.key ?? null,
      value: message.value ?? null,
      headers: message.headers as IHeaders | undefined,
    };
    await trace(STAGE.dlq, async () => {
      const record = buildDlqMessage(error, source, original, this.d.settings.maxMessageBytes);
      try {
        await this.d.publisher.send([{ topic: this.d.settings.dlqTopic, ...record }]);
      } catch (err) {
        // The broker allows less than we were told: keep the record, drop the original bytes,
        // rather than block the partition on a record that can never be written.
        if (toClipstreamError(err).code !== 'CLIPSTREAM_RESULT_TOO_LARGE') throw err;
        const bare = buildDlqMessage(
          error,
          source,
          { key: original.key, value: null },
          this.d.settings.maxMessageBytes,
        );
        const json = JSON.parse(bare.value) as Record<string, unknown>;
        json.valueTruncated = true;
        json.valueBytes = original.value?.length ?? 0;
        await this.d.publisher.send([
          { topic: this.d.settings.dlqTopic, key: bare.key, value: JSON.stringify(json), headers: {} },
        ]);
      }
    });
    await this.commit(delivery, trace);
    this.d.instruments.dlq.add(1, { [ATTR.errorCode]: error.code });
    log.warn('event sent to the DLQ', {
      code: error.code,
      error: error.message,
      key: message.key?.toString('utf8').slice(0, 256),
    });
    return 'dlq';
  }

  private async commit(delivery: Delivery, trace: TraceFn): Promise<void> {
    const next = (BigInt(delivery.message.offset) + 1n).toString();
    await trace(STAGE.commit, async () => {
      try {
        await this.d.commit(delivery.topic, delivery.partition, next);
      } catch (err) {
        throw new ClipstreamError(
          'CLIPSTREAM_KAFKA_UNAVAILABLE',
          `committing offset ${next} failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    });
  }
}

function aborted(signal: AbortSignal): ClipstreamError {
  const reason: unknown = signal.reason;
  if (reason instanceof ClipstreamError) return reason;
  return new ClipstreamError('CLIPSTREAM_ABORTED', 'aborted', { cause: reason });
}
