/** Data types shared by the frames stage's modules. */
import type { KeyframeSpacing } from './strategy.js';

/** What the probe learnt about a source's video stream. */
export interface ProbeInfo {
  /** Container duration in seconds; 0 when the container does not say (decoding is still capped). */
  durationSec: number;
  /** Frame width in pixels as decoded, after autorotation. */
  width: number;
  /** Frame height in pixels as decoded, after autorotation. */
  height: number;
  /** Average frame rate in frames per second; 0 when unknown. */
  fps: number;
  /** The container's start time in seconds; frame times are reported relative to it. */
  startTimeSec: number;
  /** Video codec, as ffprobe names it (e.g. `h264`). */
  codec: string;
  /** Container format, as ffprobe names it (e.g. `mov,mp4,m4a,3gp,3g2,mj2`). */
  formatName: string;
  /** Display rotation in degrees as the stream's display matrix says; ffmpeg applies it. */
  rotation?: number;
  /** Source size in bytes, when known. */
  sizeBytes?: number;
  /** Index of the decoded stream in the container (the first video stream that is not cover art). */
  streamIndex: number;
  /** Sample (pixel) aspect ratio, width over height; 1 for square or unknown pixels. */
  sampleAspectRatio: number;
  /** Keyframe spacing of the stream's start, when the probe was asked for it (`keyframes`). */
  keyframes?: KeyframeSpacing;
}

/** One sampled frame. */
export interface Frame {
  /** 0, 1, 2, ... in output order. */
  index: number;
  /**
   * Seconds from the start of the video as a player shows it: the frame's presentation
   * timestamp minus the container's start time (ProbeInfo.startTimeSec).
   */
  timeSec: number;
  /** height * width * 3 bytes, rgb24, rows top to bottom. The buffer belongs to the consumer. */
  data: Uint8Array;
}
