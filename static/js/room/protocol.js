// The wire protocol's codes, mirrored from the server (rooms/realtime/protocol/).
// A Python test parses these object literals and compares them with the
// server's enums, so keep each entry a plain literal on a line of its own.

// Close codes of ours. daphne lets an application close only with 1000 or
// 3000-4999, so they mirror the standard codes (4008 ~ 1008 policy violation,
// 4009 ~ 1009 too big, 4011 ~ 1011 internal error, 4012 ~ 1012 service
// restart, 4013 ~ 1013 try again later) and HTTP (4401, 4403, 4404).
export const CLOSE = Object.freeze({
  POLICY_VIOLATION: 4008,
  TOO_BIG: 4009,
  INTERNAL_ERROR: 4011,
  SERVICE_RESTART: 4012,
  TOO_SLOW: 4013,
  SIGNED_OUT: 4401,
  ACCESS_LOST: 4403,
  ROOM_CLOSED: 4404,
});

// The `code` of an error frame: a refused frame, the socket stays open.
export const ERROR = Object.freeze({
  INVALID_JSON: 'invalid_json',
  INVALID_FRAME: 'invalid_frame',
  EMPTY: 'empty',
  TOO_LONG: 'too_long',
  RATE_LIMITED: 'rate_limited',
  MUTED: 'muted',
  NOT_FOUND: 'not_found',
  NOT_AUTHOR: 'not_author',
  EDIT_WINDOW_OVER: 'edit_window_over',
  TOO_MANY_REACTIONS: 'too_many_reactions',
  INVALID_EMOJI: 'invalid_emoji',
  REFRESH_REFUSED: 'refresh_refused',
});
