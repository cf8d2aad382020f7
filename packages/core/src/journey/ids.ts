/** Step, branch, path and variant ids: they end up in Redis keys, message ids and dotted issue paths. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const ID_RULE = 'must be 1 to 64 letters, digits, "_" or "-"';
