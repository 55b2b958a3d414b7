import type { ResultDocument } from '../pipeline/index.js';

function vttTime(sec: number): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** Cue text may not contain "-->" or blank lines; escape the three WebVTT-special characters. */
function vttText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** The captions as WebVTT (W3C WebVTT: header, blank line, cues with hh:mm:ss.ttt timings). */
export function toWebVtt(doc: ResultDocument): string {
  const lines = ['WEBVTT', `NOTE clipstream ${doc.videoId} ${doc.model.name}`, ''];
  doc.captions.forEach((c, i) => {
    if (c.endSec <= c.startSec) return;
    lines.push(String(i + 1), `${vttTime(c.startSec)} --> ${vttTime(c.endSec)}`, vttText(c.text), '');
  });
  return `${lines.join('\n')}\n`;
}

function sec(x: number): string {
  return `${x.toFixed(1)}s`;
}

/** A short summary for people. */
export function toTable(doc: ResultDocument): string {
  const out: string[] = [];
  const s = doc.source;
  out.push(`video   ${doc.videoId}  ${s.width}x${s.height} ${s.fps} fps ${sec(s.durationSec)}`);
  out.push(
    `model   ${doc.model.name} (${doc.model.sha256.slice(0, 12)}) on ${String(doc.model['provider'] ?? '?')}  sampling ${doc.sampling.strategy}${doc.sampling.fps ? ` ${doc.sampling.fps}/s` : ''}, ${doc.sampling.frames} frames`,
  );
  out.push(
    `time    decode ${doc.timings.decodeMs} ms, embed ${doc.timings.embedMs} ms, match ${doc.timings.matchMs} ms, total ${doc.timings.totalMs} ms`,
  );
  if (doc.queries.length > 0) {
    out.push('', 'QUERY'.padEnd(36) + 'SCORE  MATCH  MOMENTS');
    for (const q of doc.queries) {
      const moments = q.moments.map((m) => `${sec(m.startSec)}-${sec(m.endSec)}`).join(', ');
      out.push(
        `${clip(q.text, 34).padEnd(36)}${q.score.toFixed(2).padStart(5)}  ${(q.matched ? 'yes' : 'no').padEnd(5)}  ${moments || '-'}`,
      );
    }
  }
  if (doc.captions.length > 0) {
    out.push('', 'FROM     TO       CAPTION');
    for (const c of doc.captions) out.push(`${sec(c.startSec).padEnd(9)}${sec(c.endSec).padEnd(9)}${c.text}`);
  }
  return `${out.join('\n')}\n`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
