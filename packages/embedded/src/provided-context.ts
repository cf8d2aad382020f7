// Types what the global setup provides to tests (vitest `provide` / `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    mongoUri: string;
  }
}

export {};
