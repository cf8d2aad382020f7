// `npm start`: install what is missing, start embedded MongoDB / Redis unless MONGODB_URI / REDIS_URL
// are given, then run the API and the workers. Ctrl-C stops everything it started.
import { bootstrap, runCli } from './bootstrap.mjs';

runCli(bootstrap(), 'start');
