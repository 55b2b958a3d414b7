/**
 * A stream's query list changes while it runs (standing queries come and go on the queries
 * topic): these pure helpers say whether a list changed and which query of the old list each
 * query of the new one is, so the window tracker keeps the moments, momentIds and alert cooldown
 * of the queries that stay.
 */

export interface QueryRef {
  readonly id: string;
  readonly text: string;
}

/** Same ids and texts in the same order. */
export function sameQueries(a: readonly QueryRef[], b: readonly QueryRef[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((q, i) => q.id === b[i]!.id && q.text === b[i]!.text);
}

/**
 * For each query of `next`, the index in `prev` of the same query (same id and same text), or
 * -1 for a new one. Each index of `prev` is used at most once, first come first served, so
 * queries listed twice (a stream's own query and a standing one with the same id and text) stay
 * two queries. A query whose text changed is a new query.
 */
export function remapQueries(prev: readonly QueryRef[], next: readonly QueryRef[]): number[] {
  const free = new Map<string, number[]>();
  prev.forEach((q, i) => {
    const k = key(q);
    const list = free.get(k);
    if (list) list.push(i);
    else free.set(k, [i]);
  });
  return next.map((q) => free.get(key(q))?.shift() ?? -1);
}

function key(q: QueryRef): string {
  return JSON.stringify([q.id, q.text]);
}
