/**
 * Real video to blurred/sharp pairs, exactly as the GoPro dataset was made (Nah et al. 2017):
 * a window of N consecutive sharp frames (N odd, GoPro used 7 to 13 frames of 240 fps
 * video) is averaged into one blurred frame, in linear light (gamma 2.2, GoPro's
 * `blur_gamma`) and of stored values (GoPro's `blur`); the sharp target is the middle frame
 * of the window. Windows do not overlap unless `stride` < `window`.
 *
 * Pure (browser-compatible): frames come from any (async) iterable. Decoding a video file
 * with ffmpeg is in lib/data/video_io.ts.
 */
import { averageFrames, DEFAULT_GAMMA } from "./blur.ts";
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";

export interface VideoPairOptions {
  /** Frames averaged per blurred image: odd, >= 1 (GoPro: 7 to 13). */
  window: number;
  /** Frames between the starts of consecutive windows (default `window`: no overlap). */
  stride?: number;
  gamma?: number;
  /** Stop after this many pairs. */
  maxPairs?: number;
}

export interface VideoPair {
  /** 0-based pair index. */
  index: number;
  /** Index (in the input stream) of the first frame of the window. */
  firstFrame: number;
  /** Linear-light average (GoPro blur_gamma). */
  blurGamma: RgbImage;
  /** Stored-value average (GoPro blur). */
  blur: RgbImage;
  /** The middle frame. */
  sharp: RgbImage;
}

export function checkVideoPairOptions(
  o: VideoPairOptions,
): Required<Omit<VideoPairOptions, "maxPairs">> {
  if (!Number.isInteger(o.window) || o.window < 1 || o.window % 2 === 0) {
    throw new InputError(`window must be an odd number of frames >= 1, got ${o.window}`);
  }
  const stride = o.stride ?? o.window;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new InputError(`stride must be a positive integer, got ${stride}`);
  }
  return { window: o.window, stride, gamma: o.gamma ?? DEFAULT_GAMMA };
}

/** Group consecutive frames into windows and average each (streaming; keeps one window). */
export async function* framesToPairs(
  frames: AsyncIterable<RgbImage> | Iterable<RgbImage>,
  opts: VideoPairOptions,
): AsyncGenerator<VideoPair> {
  const { window, stride, gamma } = checkVideoPairOptions(opts);
  const buf: { i: number; f: RgbImage }[] = [];
  let next = 0; // index of the first frame of the next window
  let i = 0, index = 0;
  for await (const f of frames as AsyncIterable<RgbImage>) {
    if (opts.maxPairs !== undefined && index >= opts.maxPairs) return;
    if (i >= next) buf.push({ i, f });
    i++;
    if (buf.length > 0 && buf.length === window) {
      const win = buf.map((b) => b.f);
      yield {
        index: index++,
        firstFrame: buf[0].i,
        blurGamma: averageFrames(win, "linear", gamma),
        blur: averageFrames(win, "stored", gamma),
        sharp: win[(window - 1) >> 1],
      };
      next += stride;
      while (buf.length && buf[0].i < next) buf.shift();
    }
  }
}
