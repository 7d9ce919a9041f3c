/** Zips built in tests: a code package from a map of file names to their text. */
import { zipSync } from 'fflate';

export function zipOf(files: Record<string, string>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, Buffer.from(text, 'utf8')]))));
}

/** A zip whose central directory claims each file is `size` bytes once inflated (a zip bomb's shape). */
export function zipClaiming(files: Record<string, string>, size: number): Buffer {
  const zip = zipOf(files);
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at !== -1; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
    zip.writeUInt32LE(size, at + 24);
  }
  return zip;
}
