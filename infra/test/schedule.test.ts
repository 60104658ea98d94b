import {
  awakeHoursPerMonth,
  awakeHoursPerWeek,
  describeDays,
  describeSchedule,
  HOURS_PER_WEEK,
  isAwakeAt,
  isTimeZone,
  readScheduleMetadata,
  scheduleMetadata,
  scheduleProblems,
  type Schedule,
} from '../lib/schedule.js';

const WORKDAYS: Schedule['days'] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];
const TOKYO: Schedule = { days: WORKDAYS, start: '08:00', end: '18:00', timeZone: 'Asia/Tokyo' };
const NEW_YORK: Schedule = { ...TOKYO, timeZone: 'America/New_York' };
const at = (iso: string): Date => new Date(iso);

describe('isAwakeAt', () => {
  it('is always awake without a schedule', () => {
    for (const iso of ['2026-06-06T03:00:00Z', '2026-06-08T23:59:59Z', '2026-12-25T12:00:00Z'])
      expect(isAwakeAt(undefined, at(iso))).toBe(true);
  });

  it.each([
    // 2026-06-08 is a Monday. Tokyo is UTC+9 all year.
    ['Monday 07:59 in Tokyo', '2026-06-07T22:59:00Z', false],
    ['Monday 08:00 in Tokyo (start is inclusive)', '2026-06-07T23:00:00Z', true],
    ['Monday 12:00 in Tokyo', '2026-06-08T03:00:00Z', true],
    ['Monday 17:59 in Tokyo', '2026-06-08T08:59:00Z', true],
    ['Monday 18:00 in Tokyo (end is exclusive)', '2026-06-08T09:00:00Z', false],
    ['Friday 17:30 in Tokyo', '2026-06-12T08:30:00Z', true],
    ['Saturday 10:00 in Tokyo', '2026-06-13T01:00:00Z', false],
    ['Sunday 10:00 in Tokyo', '2026-06-14T01:00:00Z', false],
  ])('on the wall clock of the time zone: %s', (_name, iso, awake) => {
    expect(isAwakeAt(TOKYO, at(iso))).toBe(awake);
  });

  it("takes the day of the schedule's time zone, not UTC's", () => {
    // Sunday 23:30 UTC is already Monday 08:30 in Tokyo; Friday 23:30 UTC is Saturday there.
    expect(isAwakeAt(TOKYO, at('2026-06-07T23:30:00Z'))).toBe(true);
    expect(isAwakeAt({ ...TOKYO, timeZone: 'UTC' }, at('2026-06-07T23:30:00Z'))).toBe(false);
    expect(isAwakeAt({ ...TOKYO, start: '00:00', end: '23:59' }, at('2026-06-12T23:30:00Z'))).toBe(false);
  });

  it('follows daylight saving time: the same wall-clock window, a different UTC hour', () => {
    // New York: EST (UTC-5) in January, EDT (UTC-4) in July.
    expect(isAwakeAt(NEW_YORK, at('2026-01-12T13:00:00Z'))).toBe(true); // Mon 08:00 EST
    expect(isAwakeAt(NEW_YORK, at('2026-01-12T12:59:00Z'))).toBe(false); // Mon 07:59 EST
    expect(isAwakeAt(NEW_YORK, at('2026-07-13T12:00:00Z'))).toBe(true); // Mon 08:00 EDT
    expect(isAwakeAt(NEW_YORK, at('2026-07-13T11:59:00Z'))).toBe(false); // Mon 07:59 EDT
    expect(isAwakeAt(NEW_YORK, at('2026-07-13T21:59:00Z'))).toBe(true); // Mon 17:59 EDT
    expect(isAwakeAt(NEW_YORK, at('2026-07-13T22:00:00Z'))).toBe(false); // Mon 18:00 EDT
  });

  it('is right on the days the clocks change', () => {
    // Sunday 2026-03-08 02:00 EST becomes 03:00 EDT; Sunday 2026-11-01 02:00 EDT becomes 01:00 EST.
    const sundays: Schedule = { days: ['Sun'], start: '01:30', end: '03:30', timeZone: 'America/New_York' };
    expect(isAwakeAt(sundays, at('2026-03-08T06:29:00Z'))).toBe(false); // 01:29 EST
    expect(isAwakeAt(sundays, at('2026-03-08T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(isAwakeAt(sundays, at('2026-03-08T07:00:00Z'))).toBe(true); // 03:00 EDT (02:00 never happens)
    expect(isAwakeAt(sundays, at('2026-03-08T07:30:00Z'))).toBe(false); // 03:30 EDT
    expect(isAwakeAt(sundays, at('2026-11-01T05:30:00Z'))).toBe(true); // 01:30 EDT
    expect(isAwakeAt(sundays, at('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST, the second time
    expect(isAwakeAt(sundays, at('2026-11-01T08:29:00Z'))).toBe(true); // 03:29 EST
    expect(isAwakeAt(sundays, at('2026-11-01T08:30:00Z'))).toBe(false); // 03:30 EST
    // Europe changes on another Sunday: 2026-03-29 01:00 UTC, Paris 02:00 CET becomes 03:00 CEST.
    const paris: Schedule = { days: ['Sun'], start: '03:00', end: '04:00', timeZone: 'Europe/Paris' };
    expect(isAwakeAt(paris, at('2026-03-29T00:59:00Z'))).toBe(false); // 01:59 CET
    expect(isAwakeAt(paris, at('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(isAwakeAt(paris, at('2026-03-29T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('wakes on weekends only when the schedule says so', () => {
    const weekend: Schedule = { days: ['Sat', 'Sun'], start: '10:00', end: '12:00', timeZone: 'Europe/London' };
    expect(isAwakeAt(weekend, at('2026-06-13T09:30:00Z'))).toBe(true); // Sat 10:30 BST
    expect(isAwakeAt(weekend, at('2026-06-14T10:59:00Z'))).toBe(true); // Sun 11:59 BST
    expect(isAwakeAt(weekend, at('2026-06-15T09:30:00Z'))).toBe(false); // Mon 10:30 BST
  });
});

describe('awake hours', () => {
  it('counts days × window a week, 168 without a schedule', () => {
    expect(awakeHoursPerWeek(TOKYO)).toBe(50);
    expect(awakeHoursPerWeek({ ...TOKYO, days: ['Sat'], start: '09:15', end: '12:45' })).toBe(3.5);
    expect(awakeHoursPerWeek(undefined)).toBe(HOURS_PER_WEEK);
  });

  it('turns a week into a month: hours per week × hours per month / 168', () => {
    expect(awakeHoursPerMonth(TOKYO)).toBeCloseTo((50 * 730) / 168, 10);
    expect(awakeHoursPerMonth(TOKYO).toFixed(2)).toBe('217.26');
    expect(awakeHoursPerMonth(TOKYO, 720)).toBeCloseTo((50 * 720) / 168, 10);
    expect(awakeHoursPerMonth(undefined)).toBe(730);
  });
});

describe('scheduleProblems', () => {
  it('finds none in a valid schedule', () => {
    expect(scheduleProblems(TOKYO)).toEqual([]);
    expect(scheduleProblems({ days: ['Sun'], start: '00:00', end: '23:59', timeZone: 'UTC' })).toEqual([]);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 'weekdays', '', /an object with days, start, end and timeZone/],
    ['no days', { ...TOKYO, days: [] }, 'days', /non-empty list of distinct days from Mon, Tue/],
    ['a day written out', { ...TOKYO, days: ['Monday'] }, 'days', /from Mon, Tue, Wed, Thu, Fri, Sat, Sun/],
    ['a day twice', { ...TOKYO, days: ['Mon', 'Mon'] }, 'days', /distinct days/],
    ['a start without its leading zero', { ...TOKYO, start: '8:00' }, 'start', /24-hour time HH:MM/],
    ['an end at 24:00', { ...TOKYO, end: '24:00' }, 'end', /24-hour time HH:MM from 00:00 to 23:59/],
    ['an end before the start', { ...TOKYO, start: '18:00', end: '08:00' }, 'end', /cannot cross midnight/],
    ['an empty window', { ...TOKYO, start: '08:00', end: '08:00' }, 'end', /later than start 08:00/],
    ['an unknown time zone', { ...TOKYO, timeZone: 'Mars/Olympus_Mons' }, 'timeZone', /an IANA time zone/],
    ['an offset instead of a zone', { ...TOKYO, timeZone: '+09:00' }, 'timeZone', /an IANA time zone/],
  ])('refuses %s, naming the field', (_name, schedule, field, expected) => {
    const problems = scheduleProblems(schedule);
    expect(problems.map((problem) => problem.field)).toEqual([field]);
    expect(problems[0]!.expected).toMatch(expected);
  });

  it('checks time zones with Intl', () => {
    for (const zone of ['Asia/Tokyo', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'UTC']) {
      expect(isTimeZone(zone)).toBe(true);
    }
    for (const zone of ['Asia/Tokio', 'tokyo', '', 'GMT+9', '+09:00']) expect(isTimeZone(zone)).toBe(false);
  });
});

describe('describing and recording a schedule', () => {
  it('names the days as ranges in week order', () => {
    expect(describeDays(WORKDAYS)).toBe('Mon–Fri');
    expect(describeDays(['Fri', 'Mon', 'Wed'])).toBe('Mon, Wed, Fri');
    expect(describeDays(['Sat', 'Sun'])).toBe('Sat, Sun');
    expect(describeDays(['Mon', 'Tue', 'Wed', 'Sat', 'Sun'])).toBe('Mon–Wed, Sat, Sun');
    expect(describeSchedule(TOKYO)).toBe('Mon–Fri 08:00–18:00 Asia/Tokyo');
  });

  it('records the schedule with its weekly hours, and reads it back', () => {
    const recorded = scheduleMetadata(TOKYO);
    expect(recorded).toEqual({ ...TOKYO, awakeHoursPerWeek: 50 });
    expect(readScheduleMetadata(JSON.parse(JSON.stringify(recorded)))).toEqual(recorded);
    // The hours come from the window, not from the record.
    expect(readScheduleMetadata({ ...recorded, awakeHoursPerWeek: 1 })).toEqual(recorded);
    expect(readScheduleMetadata(undefined)).toBeUndefined();
    expect(readScheduleMetadata({ ...recorded, end: '07:00' })).toBeUndefined();
  });
});
