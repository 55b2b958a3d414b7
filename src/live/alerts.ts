/**
 * Alerts for videos (design.md 3.6): when the alerts topic is set, every moment of a finished
 * video's result opens one `clipstream.alert.v1`, sent with the result; a moment of a query that
 * opens within `cooldownSec` of the end of that query's previous moment does not alert. (Live
 * streams alert from the window tracker, when the moment opens.)
 */
import { createHash } from 'node:crypto';
import { ALERT_SCHEMA } from './messages.js';
import type { Alert } from './messages.js';

interface ResultLike {
  readonly videoId: string;
  readonly resultId: string;
  readonly queries: readonly {
    id: string;
    text: string;
    moments: readonly { startSec: number; endSec: number; score: number }[];
  }[];
}

export function videoAlerts(result: ResultLike, cooldownSec: number, nowMs: number = Date.now()): Alert[] {
  const out: Alert[] = [];
  for (const q of result.queries) {
    let lastEnd = -Infinity;
    for (const m of [...q.moments].sort((a, b) => a.startSec - b.startSec)) {
      const quiet = m.startSec - lastEnd < cooldownSec;
      lastEnd = Math.max(lastEnd, m.endSec);
      if (quiet) continue;
      out.push({
        schema: ALERT_SCHEMA,
        videoId: result.videoId,
        queryId: q.id,
        text: q.text,
        momentId: createHash('sha256')
          .update(JSON.stringify([result.resultId, q.id, m.startSec]))
          .digest('hex')
          .slice(0, 16),
        startSec: m.startSec,
        startTime: new Date(nowMs).toISOString(),
        score: m.score,
      });
    }
  }
  return out;
}
