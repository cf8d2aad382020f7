/**
 * Bytes of `value` written as JSON in UTF-8: what it weighs in a request body, and about what it weighs
 * stored. Counted over the text without encoding it; a lone surrogate is escaped by JSON.stringify, so every
 * non-ASCII unit left is part of a 2- or 3-byte character or half of a 4-byte pair.
 */
export function jsonByteLength(value: unknown): number {
  const text = JSON.stringify(value);
  if (text === undefined) return 0;
  let bytes = text.length;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) continue;
    bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/** `bytes` as people read sizes: "32 KiB", "1 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
