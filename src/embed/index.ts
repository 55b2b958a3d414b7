export { loadModelPack } from './pack.js';
export type { ModelPack } from './pack.js';
export type { Manifest } from './manifest.js';
export { Embedder } from './embedder.js';
export { embedderOptions } from './options.js';
export type { EmbedderExtras, EmbedOptions, EmbedOptionsInput } from './options.js';
export type { EmbedderOptions, TextEmbedding } from './embedder.js';
export { laneLayout } from './sessions.js';
export type { Provider } from './sessions.js';
