// Where this browser keeps a session's owner token (localStorage).
export const tokenKey = (id) => `reclaimlab.token.${id}`;
