// `npm test`: install what is missing, start private Redis and MongoDB servers on free loopback ports,
// typecheck and test every package, stop the servers, exit non-zero on any failure.
import { bootstrap, runCli } from './bootstrap.mjs';

runCli(bootstrap({ buildFilter: '@journey/embedded' }), 'test');
