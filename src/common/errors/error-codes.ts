/**
 * Every stable error code of the public contract. The HTTP status of each lives in exactly one
 * table below; `satisfies Record<ErrorCode, ...>` makes a missing mapping a compile error.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',

  ADMIN_KEY_INVALID: 'ADMIN_KEY_INVALID',
  AUTH_TOKEN_INVALID: 'AUTH_TOKEN_INVALID',
  CREDENTIALS_INVALID: 'CREDENTIALS_INVALID',
  QUEUE_TOKEN_INVALID: 'QUEUE_TOKEN_INVALID',
  QUEUE_TOKEN_NOT_ACTIVE: 'QUEUE_TOKEN_NOT_ACTIVE',
  QUEUE_TOKEN_OTHER_CONCERT: 'QUEUE_TOKEN_OTHER_CONCERT',

  USER_NOT_FOUND: 'USER_NOT_FOUND',
  CONCERT_NOT_FOUND: 'CONCERT_NOT_FOUND',
  SCHEDULE_NOT_FOUND: 'SCHEDULE_NOT_FOUND',
  SEAT_NOT_FOUND: 'SEAT_NOT_FOUND',
  RESERVATION_NOT_FOUND: 'RESERVATION_NOT_FOUND',
  PAYMENT_NOT_FOUND: 'PAYMENT_NOT_FOUND',

  EMAIL_TAKEN: 'EMAIL_TAKEN',
  WAITING_ROOM_NOT_OPEN: 'WAITING_ROOM_NOT_OPEN',

  SEAT_UNAVAILABLE: 'SEAT_UNAVAILABLE',
  BOOKING_CLOSED: 'BOOKING_CLOSED',
  HOLD_LIMIT_REACHED: 'HOLD_LIMIT_REACHED',
  PURCHASE_LIMIT_REACHED: 'PURCHASE_LIMIT_REACHED',
  RESERVATION_NOT_HELD: 'RESERVATION_NOT_HELD',
  RESERVATION_EXPIRED: 'RESERVATION_EXPIRED',
  PAYMENT_ALREADY_REFUNDED: 'PAYMENT_ALREADY_REFUNDED',
  REFUND_WINDOW_CLOSED: 'REFUND_WINDOW_CLOSED',

  INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
  BALANCE_LIMIT_EXCEEDED: 'BALANCE_LIMIT_EXCEEDED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'IDEMPOTENCY_KEY_IN_PROGRESS',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

interface ErrorSpec {
  status: number;
  title: string;
}

export const ERROR_SPECS = {
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable' },

  ADMIN_KEY_INVALID: { status: 401, title: 'Admin key missing or invalid' },
  AUTH_TOKEN_INVALID: { status: 401, title: 'Access token missing or invalid' },
  CREDENTIALS_INVALID: { status: 401, title: 'Email or password is wrong' },
  QUEUE_TOKEN_INVALID: { status: 401, title: 'Queue token missing, unknown or expired' },
  QUEUE_TOKEN_NOT_ACTIVE: { status: 403, title: 'Queue token is still waiting' },
  QUEUE_TOKEN_OTHER_CONCERT: {
    status: 403,
    title: "Queue token is for another concert's waiting room",
  },

  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  CONCERT_NOT_FOUND: { status: 404, title: 'Concert not found' },
  SCHEDULE_NOT_FOUND: { status: 404, title: 'Schedule not found' },
  SEAT_NOT_FOUND: { status: 404, title: 'Seat not found' },
  RESERVATION_NOT_FOUND: { status: 404, title: 'Reservation not found' },
  PAYMENT_NOT_FOUND: { status: 404, title: 'Payment not found' },

  EMAIL_TAKEN: { status: 409, title: 'Email already registered' },
  WAITING_ROOM_NOT_OPEN: { status: 409, title: 'Waiting room is not open yet' },

  SEAT_UNAVAILABLE: { status: 409, title: 'Seat is not available' },
  BOOKING_CLOSED: { status: 409, title: 'Booking window is closed' },
  HOLD_LIMIT_REACHED: { status: 409, title: 'Hold limit reached' },
  PURCHASE_LIMIT_REACHED: { status: 409, title: 'Purchase limit for this schedule reached' },
  RESERVATION_NOT_HELD: { status: 409, title: 'Reservation is not held' },
  RESERVATION_EXPIRED: { status: 410, title: 'Reservation has expired' },
  PAYMENT_ALREADY_REFUNDED: { status: 409, title: 'Payment already refunded' },
  REFUND_WINDOW_CLOSED: { status: 409, title: 'Refund window is closed' },

  INSUFFICIENT_BALANCE: { status: 422, title: 'Insufficient balance' },
  BALANCE_LIMIT_EXCEEDED: { status: 422, title: 'Balance limit exceeded' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with a different request' },
  IDEMPOTENCY_KEY_IN_PROGRESS: {
    status: 409,
    title: 'A request with this idempotency key is in progress',
  },
} as const satisfies Record<ErrorCode, ErrorSpec>;

export function problemType(code: ErrorCode): string {
  return `https://concert-booking.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}
