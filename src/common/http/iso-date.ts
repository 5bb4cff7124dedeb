import { applyDecorators } from '@nestjs/common';
import { MaxDate, MinDate } from 'class-validator';

// The contract's range, inside what DATETIME stores: a zone offset can push 9999-12-31T23:00-05:00
// past the year 9999, which the database would refuse with a 500.
const EARLIEST = new Date('2000-01-01T00:00:00.000Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');
export function InDateRange(field: string): PropertyDecorator {
  return applyDecorators(
    MinDate(EARLIEST, { message: `${field} must not be before 2000` }),
    MaxDate(LATEST, { message: `${field} must not be after 9999` }),
  );
}
// Strict ISO-8601 with an explicit zone, so "2026-12-01 19:00" cannot silently mean local time.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
// Date.parse rolls 2030-02-31 over into March; a calendar check refuses it instead.
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  return (
    month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
  );
}
/** class-transformer step: a strict ISO instant becomes a Date; anything else stays as sent. */
export const toDate = ({ value }: { value: unknown }) =>
  typeof value === 'string' &&
  ISO_INSTANT.test(value) &&
  isCalendarDate(value) &&
  !Number.isNaN(Date.parse(value))
    ? new Date(value)
    : value;
