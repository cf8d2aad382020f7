/** The branch id recorded when an audience split falls through to `else`; no branch may use it. */
export const ELSE_BRANCH_ID = 'else';

/** The branch id recorded when an action_paths window closes without a matching event; no path may use it. */
export const TIMEOUT_BRANCH_ID = 'timeout';
