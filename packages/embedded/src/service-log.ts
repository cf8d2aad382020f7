/** What the embedded-service helpers say while they work; the CLI prints it, tests keep it quiet. */
export interface ServiceLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const consoleLog: ServiceLog = {
  info: (message, fields) => console.log(`[services] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
  warn: (message, fields) => console.warn(`[services] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
};
