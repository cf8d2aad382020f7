import type { RedisTarget } from '@journey/config';

// Types what the global setup provides to tests (vitest `provide` / `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    redis: RedisTarget;
    mongoUri: string;
  }
}

export {};
