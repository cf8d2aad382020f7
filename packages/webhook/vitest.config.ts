import { journeyVitestConfig } from '../../vitest.shared.js';

export default journeyVitestConfig();
