export const STEP_TYPES = ['message', 'delay', 'audience_split', 'action_paths', 'experiment', 'user_update', 'exit'] as const;

/** Step types that make the user wait, so a loop through one of them cannot run away. */
export const WAITING_STEP_TYPES = ['delay', 'action_paths'] as const;
