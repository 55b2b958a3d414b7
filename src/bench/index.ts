/**
 * Benchmark front door: `runBench` measures everything of design.md 6 in one run and returns a
 * `clipstream.bench.v1` report; the renderers print it. See docs/performance.md.
 */
export { runBench } from './run.js';
export type { BenchHooks } from './run.js';
export { BenchOptionsSchema, parseBenchOptions, planFor } from './options.js';
export type { BenchOptions, BenchPlan } from './options.js';
export { BENCH_SCHEMA, summarise, roundReport } from './report.js';
export type { BenchReport, Measurements, Summary } from './report.js';
export { renderMarkdown, renderText } from './render.js';
export { SCENARIO_NAMES } from './scenarios.js';
export type { ScenarioName, ScenarioResult } from './scenarios.js';
