/**
 * `context.businessHours` for policies. Cedar's datetime has no weekday or time zone
 * (REFERENCE.md section 4), so the broker computes it from the configured zone.
 */
export interface BusinessHours {
  readonly timeZone: string;
  /** ISO weekdays, 1 = Monday .. 7 = Sunday. */
  readonly days: readonly number[];
  /** Local hour the window opens (inclusive) and closes (exclusive), 0..24. */
  readonly startHour: number;
  readonly endHour: number;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `epochMs` falls inside the business-hours window in its time zone. */
export function isBusinessHours(epochMs: number, hours: BusinessHours): boolean {
  let fmt = formatters.get(hours.timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: hours.timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
    formatters.set(hours.timeZone, fmt);
  }
  let weekday = 0;
  let hour = 0;
  for (const part of fmt.formatToParts(new Date(epochMs))) {
    if (part.type === 'weekday') weekday = WEEKDAY[part.value] ?? 0;
    if (part.type === 'hour') hour = Number(part.value);
  }
  return hours.days.includes(weekday) && hour >= hours.startHour && hour < hours.endHour;
}
