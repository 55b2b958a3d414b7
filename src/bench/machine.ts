/** What the benchmark ran on: printed with every result, since figures mean nothing without it. */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';

export interface MachineInfo {
  cpu: string;
  /** logical CPUs this process may use */
  cores: number;
  memoryGiB: number;
  arch: string;
  platform: string;
  node: string;
  onnxruntime: string;
  ffmpeg: string;
  /** 1, 5 and 15 minute load averages when the run started */
  loadAtStart: [number, number, number];
  /** the same when it ended */
  loadAtEnd?: [number, number, number];
}

export function load(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c].map((x) => Math.round(x * 100) / 100) as [number, number, number];
}

export function machineInfo(ffmpegVersion: string): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    arch: process.arch,
    platform: process.platform,
    node: process.version,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    ffmpeg: ffmpegVersion,
    loadAtStart: load(),
  };
}
