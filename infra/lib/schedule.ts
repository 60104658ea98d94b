/**
 * When an environment is awake: its optional `schedule` (days of the week and a daily window in
 * one IANA time zone), and the arithmetic the stacks, the cost estimate and the docs share. No
 * dependency (only `Intl`), so the bundled actions can use it as well as the CDK app.
 *
 * An environment without a schedule is always awake. Outside its schedule an environment sleeps:
 * its interface endpoints are deleted and its service runs no task (the `Awake` parameter of its
 * network and service stacks, see NetworkStack).
 */

/** The days of the week, Monday first, as the configuration writes them. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Hours in a week. */
export const HOURS_PER_WEEK = 168;

/** The hours in a month the price table and the cost estimate count (365 × 24 / 12). */
export const DEFAULT_HOURS_PER_MONTH = 730;

/**
 * When an environment is awake: on each of `days`, from `start` (inclusive) to `end` (exclusive),
 * wall-clock time in `timeZone`. Windows do not cross midnight (`start` < `end`).
 */
export interface Schedule {
  /** Days of the week, each once, e.g. `["Mon", "Tue", "Wed", "Thu", "Fri"]`. */
  readonly days: readonly Weekday[];
  /** `HH:MM`, 24-hour, e.g. `08:00`. */
  readonly start: string;
  /** `HH:MM`, 24-hour, later than `start`, e.g. `18:00`. */
  readonly end: string;
  /** An IANA time zone, e.g. `Asia/Tokyo`. */
  readonly timeZone: string;
}

/**
 * The parameter of the network and service stacks that puts an environment to sleep (`false`) or
 * wakes it (`true`, its default), and the condition the sleeping resources follow (infra/lib/
 * network-stack.ts's addAwakeSwitch). Here, without CDK, for the actions that flip it.
 */
export const AWAKE_PARAMETER = 'Awake';
export const AWAKE_CONDITION = 'IsAwake';

/** The key under which templates record the schedule (template and resource `Metadata`). */
export const SCHEDULE_METADATA_KEY = 'gitops:schedule';

/** What a template records of the schedule, for readers that see only templates (the cost estimate). */
export interface ScheduleMetadata extends Schedule {
  readonly awakeHoursPerWeek: number;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** An IANA zone name (`Asia/Tokyo`, `America/Argentina/Buenos_Aires`, `UTC`), not an offset. */
const IANA_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** Minutes since midnight of an `HH:MM` time; NaN if it is not one. */
export function minutesOfDay(time: string): number {
  const match = TIME.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
}

/** Whether `timeZone` is an IANA time zone name this runtime's Intl knows. */
export function isTimeZone(timeZone: string): boolean {
  if (!IANA_ZONE.test(timeZone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** One problem of a schedule: the field (under `schedule.`), what was expected, what was found. */
export interface ScheduleProblem {
  readonly field: 'days' | 'start' | 'end' | 'timeZone' | '';
  readonly expected: string;
  readonly found: unknown;
}

/** Every problem of a schedule as written in the configuration; none for a valid one. */
export function scheduleProblems(schedule: unknown): ScheduleProblem[] {
  if (typeof schedule !== 'object' || schedule === null || Array.isArray(schedule)) {
    return [{ field: '', expected: 'an object with days, start, end and timeZone', found: schedule }];
  }
  const { days, start, end, timeZone } = schedule as Record<string, unknown>;
  const problems: ScheduleProblem[] = [];
  const validDays =
    Array.isArray(days) &&
    days.length > 0 &&
    days.every((day) => (WEEKDAYS as readonly unknown[]).includes(day)) &&
    new Set(days).size === days.length;
  if (!validDays) {
    problems.push({
      field: 'days',
      expected: `a non-empty list of distinct days from ${WEEKDAYS.join(', ')}`,
      found: days,
    });
  }
  const times: Array<['start' | 'end', unknown]> = [
    ['start', start],
    ['end', end],
  ];
  for (const [field, value] of times) {
    if (typeof value !== 'string' || Number.isNaN(minutesOfDay(value))) {
      problems.push({ field, expected: 'a 24-hour time HH:MM from 00:00 to 23:59', found: value });
    }
  }
  if (typeof start === 'string' && typeof end === 'string') {
    const [from, to] = [minutesOfDay(start), minutesOfDay(end)];
    if (!Number.isNaN(from) && !Number.isNaN(to) && from >= to) {
      problems.push({
        field: 'end',
        expected: `a time later than start ${start} on the same day (a window cannot cross midnight: split it, e.g. end 23:59 and start 00:00 the next day)`,
        found: end,
      });
    }
  }
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) {
    problems.push({
      field: 'timeZone',
      expected: 'an IANA time zone such as Asia/Tokyo or Europe/Paris',
      found: timeZone,
    });
  }
  return problems;
}

/** The weekday and minutes since midnight of an instant, on the wall clock of `timeZone`. */
function wallClock(date: Date, timeZone: string): { day: Weekday; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  const day = part('weekday') as Weekday;
  if (!WEEKDAYS.includes(day)) throw new Error(`Intl gave the weekday '${day}' for ${date.toISOString()}`);
  return { day, minutes: Number(part('hour')) * 60 + Number(part('minute')) };
}

/**
 * Whether an environment with this schedule is awake at `date`: on one of its days, at or after
 * `start` and before `end`, on the wall clock of its time zone (so across daylight-saving changes
 * too). Without a schedule, always.
 */
export function isAwakeAt(schedule: Schedule | undefined, date: Date): boolean {
  if (schedule === undefined) return true;
  const { day, minutes } = wallClock(date, schedule.timeZone);
  return schedule.days.includes(day) && minutes >= minutesOfDay(schedule.start) && minutes < minutesOfDay(schedule.end);
}

/**
 * Awake hours in a week, on the wall clock: days × (end − start). Without a schedule, 168. (On the
 * two days a year a daylight-saving change falls inside the window, the window really lasts one
 * hour more or less; a monthly estimate ignores it.)
 */
export function awakeHoursPerWeek(schedule: Schedule | undefined): number {
  if (schedule === undefined) return HOURS_PER_WEEK;
  return (schedule.days.length * (minutesOfDay(schedule.end) - minutesOfDay(schedule.start))) / 60;
}

/** Awake hours in a month of `hoursPerMonth` hours: hours per week × hoursPerMonth / 168. */
export function awakeHoursPerMonth(schedule: Schedule | undefined, hoursPerMonth = DEFAULT_HOURS_PER_MONTH): number {
  return (awakeHoursPerWeek(schedule) * hoursPerMonth) / HOURS_PER_WEEK;
}

/** The days as ranges in week order: `Mon–Fri`, `Mon, Wed, Fri`, `Mon–Wed, Sat–Sun`. */
export function describeDays(days: readonly Weekday[]): string {
  const indexes = [...new Set(days.map((day) => WEEKDAYS.indexOf(day)))].filter((i) => i >= 0).sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const index of indexes) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === index - 1) run.push(index);
    else runs.push([index]);
  }
  return runs
    .flatMap((run) =>
      run.length >= 3
        ? [`${WEEKDAYS[run[0]!]}–${WEEKDAYS[run[run.length - 1]!]}`]
        : run.map((index) => WEEKDAYS[index]!),
    )
    .join(', ');
}

/** The schedule in a few words: `Mon–Fri 08:00–18:00 Asia/Tokyo`. */
export function describeSchedule(schedule: Schedule): string {
  return `${describeDays(schedule.days)} ${schedule.start}–${schedule.end} ${schedule.timeZone}`;
}

/** What a template records of the schedule (a copy: the configuration's arrays stay unshared). */
export function scheduleMetadata(schedule: Schedule): ScheduleMetadata {
  return {
    days: [...schedule.days],
    start: schedule.start,
    end: schedule.end,
    timeZone: schedule.timeZone,
    awakeHoursPerWeek: awakeHoursPerWeek(schedule),
  };
}

/**
 * The schedule a template recorded, read back; undefined when absent or not a valid schedule (a
 * reader of templates prices such a resource as always on, which never under-estimates).
 */
export function readScheduleMetadata(value: unknown): ScheduleMetadata | undefined {
  // The hours are recomputed from the window rather than trusted from the record.
  return scheduleProblems(value).length > 0 ? undefined : scheduleMetadata(value as Schedule);
}
