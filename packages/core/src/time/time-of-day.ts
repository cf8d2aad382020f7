/** A 24-hour wall-clock time `HH:mm`, `00:00` to `23:59`. */
export const TIME_OF_DAY_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;

export interface TimeOfDay {
  hour: number;
  minute: number;
}

export function parseTimeOfDay(text: string): TimeOfDay | null {
  const match = TIME_OF_DAY_PATTERN.exec(text);
  if (match === null) return null;
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

export function requireTimeOfDay(text: string): TimeOfDay {
  const time = parseTimeOfDay(text);
  if (time === null) throw new RangeError(`not a time of day HH:mm: ${JSON.stringify(text)}`);
  return time;
}
