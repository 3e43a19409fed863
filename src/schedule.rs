//! Schedule arithmetic without AWS, so envctl can validate and explain stop/start schedules and
//! TTLs before it creates anything: time zones, EventBridge Scheduler cron expressions and when
//! they fire next, durations, and flexible-window sizing.
//!
//! Everything here is pure (no I/O, no clock): callers pass "now" in, which keeps it testable.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// The expected shape of a cron expression, shown in error messages.
const CRON_FORMAT: &str = concat!(
    "expected cron(minutes hours day-of-month month day-of-week year), ",
    "e.g. cron(0 20 ? * MON-FRI *)"
);

/// Examples shown when a duration does not parse.
const DURATION_EXAMPLES: &str = "e.g. 72h, 7d, 90m, 1d12h or 2w (or never, off, 0 for no limit)";

/// How far ahead [`AwsCron::next_after`] looks before giving up (two years, counting a leap day).
const SEARCH_DAYS: u32 = 2 * 366;

/// Longest TTL or extension accepted; anything longer is almost certainly a typo for `never`.
const MAX_DURATION_DAYS: i64 = 3650;

/// ECS `UpdateService` sustained request rate (calls per second), the budget that stop/start
/// schedules share when they fire at the same time.
pub const UPDATE_SERVICE_RATE_PER_SECOND: f64 = 5.0;

/// The largest flexible time window EventBridge Scheduler accepts, in minutes (24 hours).
pub const MAX_FLEXIBLE_WINDOW_MINUTES: i32 = 1440;

/// Looks up an IANA time zone (the same names EventBridge Scheduler's
/// `ScheduleExpressionTimezone` accepts), e.g. `Europe/Berlin` or `UTC`.
///
/// The bundled database matches names case-insensitively, but AWS wants the canonical spelling, so
/// a name that only matches in another case is rejected with the canonical one as a hint.
pub fn timezone(name: &str) -> Result<TimeZone, String> {
    let not_known = || {
        format!(
            "`{name}` is not a known IANA time zone; use a name like `Europe/Berlin`, \
             `America/New_York` or `UTC`"
        )
    };
    if name.trim().is_empty() {
        return Err(not_known());
    }
    let tz = TimeZone::get(name).map_err(|_| not_known())?;
    match tz.iana_name() {
        Some(canonical) if canonical != name => Err(format!(
            "`{name}` is not spelled like the IANA time zone; did you mean `{canonical}`?"
        )),
        _ => Ok(tz),
    }
}

/// A set of small integers `min..=max` (at most 256 of them), one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ValueSet {
    min: u16,
    bits: [u64; 4],
}

impl ValueSet {
    fn empty(min: u16) -> Self {
        ValueSet { min, bits: [0; 4] }
    }

    fn insert(&mut self, value: u16) {
        let i = usize::from(value - self.min);
        self.bits[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, value: i64) -> bool {
        let Some(i) = value
            .checked_sub(i64::from(self.min))
            .and_then(|i| usize::try_from(i).ok())
        else {
            return false;
        };
        i < 256 && self.bits[i / 64] & (1 << (i % 64)) != 0
    }
}

/// Which days a cron expression fires on; AWS requires exactly one of the two day fields to be `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Days {
    /// Day-of-month values (day-of-week is `?`).
    OfMonth(ValueSet),
    /// `L` in day-of-month: the last day of each month.
    LastOfMonth,
    /// Day-of-week values, 1 = SUN … 7 = SAT (day-of-month is `?`).
    OfWeek(ValueSet),
}

/// A parsed EventBridge Scheduler `cron(...)` expression.
///
/// Supports `*`, `,` lists, `-` ranges, `/` increments, `?` and `L` alone in day-of-month; `W`,
/// `#` and `nL` are rejected. Build one with [`parse_cron`]; `Display` gives the expression back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCron {
    /// The expression as written, with whitespace normalized.
    expression: String,
    minutes: ValueSet,
    hours: ValueSet,
    days: Days,
    months: ValueSet,
    years: ValueSet,
}

impl std::fmt::Display for AwsCron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expression)
    }
}

impl std::str::FromStr for AwsCron {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_cron(s)
    }
}

/// One of the six cron fields: its name in messages, its range and its value names, if any.
struct FieldSpec {
    name: &'static str,
    min: u16,
    max: u16,
    /// Names for `min`, `min + 1`, … (month and day-of-week only).
    names: &'static [&'static str],
}

const MINUTES: FieldSpec = FieldSpec {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: FieldSpec = FieldSpec {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};
const YEAR: FieldSpec = FieldSpec {
    name: "year",
    min: 1970,
    max: 2199,
    names: &[],
};

impl FieldSpec {
    /// The accepted values, for messages: `0-59`, `1-12 or JAN-DEC`.
    fn range(&self) -> String {
        match (self.names.first(), self.names.last()) {
            (Some(first), Some(last)) => format!("{}-{} or {first}-{last}", self.min, self.max),
            _ => format!("{}-{}", self.min, self.max),
        }
    }

    /// Prefixes a problem with the field's name and, when it concerns only one item of a list,
    /// the whole field: "hours field `25` …" or "minutes field `1,99`: `99` …".
    fn err(&self, field: &str, item: &str, problem: &str) -> String {
        if field == item {
            format!("{} field `{field}` {problem}", self.name)
        } else {
            format!("{} field `{field}`: `{item}` {problem}", self.name)
        }
    }

    fn value(&self, field: &str, text: &str) -> Result<u16, String> {
        let value = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u16>().ok()
        } else if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            u16::try_from(i).ok().map(|i| self.min + i)
        } else {
            let kind = if self.names.is_empty() {
                "a number"
            } else {
                "a number or name"
            };
            return Err(self.err(field, text, &format!("is not {kind} in {}", self.range())));
        };
        match value {
            Some(v) if (self.min..=self.max).contains(&v) => Ok(v),
            _ => Err(self.err(field, text, &format!("is out of range {}", self.range()))),
        }
    }

    /// Parses a field made of `,`-separated items: `*`, `v`, `a-b`, each optionally `/step`.
    fn parse(&self, field: &str) -> Result<ValueSet, String> {
        let mut set = ValueSet::empty(self.min);
        for item in field.split(',') {
            if item.is_empty() {
                return Err(format!(
                    "{} field `{field}` has an empty list item",
                    self.name
                ));
            }
            if item.contains('?') {
                return Err(self.err(
                    field,
                    item,
                    "uses `?`, which may only stand alone in day-of-month or day-of-week",
                ));
            }
            let (base, step) = match item.split_once('/') {
                Some((base, step)) => {
                    let step = step
                        .parse::<u16>()
                        .ok()
                        .filter(|s| *s >= 1)
                        .ok_or_else(|| {
                            self.err(
                                field,
                                item,
                                "has an increment that is not a whole number of at least 1",
                            )
                        })?;
                    (base, Some(step))
                }
                None => (item, None),
            };
            let (start, end) = if base == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = base.split_once('-') {
                let (a, b) = (self.value(field, a)?, self.value(field, b)?);
                if a > b {
                    return Err(self.err(
                        field,
                        item,
                        "is a range that runs backwards; list the values instead, e.g. `5,6,7,1`",
                    ));
                }
                (a, b)
            } else {
                let v = self.value(field, base)?;
                // `a/n` means "from a to the end of the range, every n".
                (v, if step.is_some() { self.max } else { v })
            };
            let step = usize::from(step.unwrap_or(1));
            for v in (start..=end).step_by(step) {
                set.insert(v);
            }
        }
        Ok(set)
    }
}

/// Rejects the day-field extensions envctl does not evaluate, naming each one.
fn reject_unsupported(spec: &FieldSpec, field: &str) -> Result<(), String> {
    let upper = field.to_ascii_uppercase();
    let problem = if spec.name == DAY_OF_MONTH.name && upper.contains('W') {
        Some("uses `W` (nearest weekday), which is not supported by envctl")
    } else if upper.contains('#') {
        Some("uses `#` (nth weekday of the month), which is not supported by envctl")
    } else if upper.contains('L') {
        Some(if spec.name == DAY_OF_MONTH.name {
            "uses `L` in a way not supported by envctl; only `L` alone (last day of the month) is"
        } else {
            "uses `L` (last weekday of the month), which is not supported by envctl"
        })
    } else {
        None
    };
    match problem {
        Some(problem) => Err(spec.err(field, field, problem)),
        None => Ok(()),
    }
}

/// Parses an EventBridge Scheduler cron expression such as `cron(0 20 ? * MON-FRI *)`.
///
/// Fields: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7
/// (1 = SUN) or SUN-SAT, year 1970-2199. Exactly one of day-of-month and day-of-week must be `?`.
/// Names are case-insensitive. Errors name the field and show the expected format.
pub fn parse_cron(expr: &str) -> Result<AwsCron, String> {
    let trimmed = expr.trim();
    let inner = trimmed
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("cron("))
        .and_then(|_| trimmed[5..].strip_suffix(')'))
        .ok_or_else(|| format!("`{trimmed}` is not a cron expression; {CRON_FORMAT}"))?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let expression = format!("cron({})", fields.join(" "));
    let in_expr = |msg: String| format!("{msg} in `{expression}`; {CRON_FORMAT}");
    let [minutes, hours, dom, month, dow, year] = fields[..] else {
        return Err(format!(
            "`{expression}` has {} fields, not 6; {CRON_FORMAT}",
            fields.len()
        ));
    };

    let minutes = MINUTES.parse(minutes).map_err(in_expr)?;
    let hours = HOURS.parse(hours).map_err(in_expr)?;
    let dom = match dom {
        "?" => None,
        "L" | "l" => Some(Days::LastOfMonth),
        _ => {
            reject_unsupported(&DAY_OF_MONTH, dom).map_err(in_expr)?;
            Some(Days::OfMonth(DAY_OF_MONTH.parse(dom).map_err(in_expr)?))
        }
    };
    let months = MONTH.parse(month).map_err(in_expr)?;
    let dow = match dow {
        "?" => None,
        _ => {
            reject_unsupported(&DAY_OF_WEEK, dow).map_err(in_expr)?;
            Some(Days::OfWeek(DAY_OF_WEEK.parse(dow).map_err(in_expr)?))
        }
    };
    let years = YEAR.parse(year).map_err(in_expr)?;
    let days =
        match (dom, dow) {
            (Some(days), None) | (None, Some(days)) => days,
            (None, None) => {
                return Err(in_expr(
                    "`?` is in both day-of-month and day-of-week; it must be in exactly one \
                 (e.g. cron(0 20 ? * MON-FRI *) or cron(0 20 1 * ? *))"
                        .to_string(),
                ))
            }
            (Some(_), Some(_)) => return Err(in_expr(
                "day-of-month and day-of-week are both set; AWS requires one of them to be `?` \
                 (e.g. cron(0 20 ? * MON-FRI *) or cron(0 20 1 * ? *))"
                    .to_string(),
            )),
        };
    Ok(AwsCron {
        expression,
        minutes,
        hours,
        days,
        months,
        years,
    })
}

impl AwsCron {
    /// The expression, e.g. `cron(0 20 ? * MON-FRI *)`.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    fn matches_day(&self, date: Date) -> bool {
        if !self.years.contains(date.year().into()) || !self.months.contains(date.month().into()) {
            return false;
        }
        match self.days {
            Days::OfMonth(set) => set.contains(date.day().into()),
            Days::LastOfMonth => date.day() == date.days_in_month(),
            Days::OfWeek(set) => set.contains(date.weekday().to_sunday_one_offset().into()),
        }
    }

    /// The first time the schedule fires strictly after `after`, with the fields read as wall-clock
    /// time in `tz` (EventBridge Scheduler's `ScheduleExpressionTimezone`), or `None` if it does
    /// not fire within about two years.
    ///
    /// Daylight saving time follows what AWS documents for EventBridge Scheduler:
    /// - a wall-clock time that does not exist (spring forward, e.g. 02:30 on the last Sunday of
    ///   March in `Europe/Berlin`) is **skipped**: no invocation that day, not moved to 03:00;
    /// - a wall-clock time that happens twice (fall back) fires **once**, at its first occurrence
    ///   (AWS says "once" without saying which; envctl assumes the earlier one).
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut date = tz.to_datetime(after).date();
        for _ in 0..=SEARCH_DAYS {
            if i64::from(date.year()) > i64::from(YEAR.max) {
                return None;
            }
            if self.matches_day(date) {
                if let Some(found) = self.first_on(date, after, tz) {
                    return Some(found);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The earliest firing on `date` after `after`. Taking the earlier instant of a repeated
    /// wall-clock time keeps instants increasing with wall-clock time, so the first hit is the
    /// answer.
    fn first_on(&self, date: Date, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        for hour in 0..=23i8 {
            if !self.hours.contains(hour.into()) {
                continue;
            }
            for minute in 0..=59i8 {
                if !self.minutes.contains(minute.into()) {
                    continue;
                }
                let wall: DateTime = date.at(hour, minute, 0, 0);
                let offset = match tz.to_ambiguous_timestamp(wall).offset() {
                    AmbiguousOffset::Unambiguous { offset } => offset,
                    AmbiguousOffset::Fold { before, .. } => before,
                    AmbiguousOffset::Gap { .. } => continue,
                };
                match offset.to_timestamp(wall) {
                    Ok(at) if at > after => return Some(at),
                    _ => {}
                }
            }
        }
        None
    }
}

/// Day names in AWS order (index 0 = SUN = 1).
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const DAY_FULL_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

fn day_index(name: &str, days: &str) -> Result<usize, String> {
    let found = DAY_NAMES
        .iter()
        .zip(DAY_FULL_NAMES)
        .position(|(short, full)| {
            short.eq_ignore_ascii_case(name) || full.eq_ignore_ascii_case(name)
        });
    match found {
        Some(i) => Ok(i),
        None if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "days `{days}`: use day names like MON-FRI, not numbers (AWS counts 1 = SUN)"
        )),
        None => Err(format!(
            "days `{days}`: `{name}` is not a day; use names like MON-FRI, MON,WED,FRI, \
             SAT-SUN, weekdays, weekends or daily"
        )),
    }
}

/// Turns a user's `days` (`MON-FRI`, `MON,WED,FRI`, `SAT-SUN`, `*`, `daily`, `weekdays`,
/// `weekends`) into an AWS day-of-week field. Ranges may wrap past Sunday; the output never does,
/// since ranges like `SAT-SUN` run backwards in AWS numbering: `SAT-SUN` becomes `SAT,SUN`.
fn day_of_week_field(days: &str) -> Result<String, String> {
    let trimmed = days.trim();
    let mut set = [false; 7];
    match trimmed.to_ascii_lowercase().as_str() {
        "" => return Err("days is empty; use e.g. MON-FRI, MON,WED,FRI, SAT-SUN or daily".into()),
        "*" | "daily" => set = [true; 7],
        "weekdays" => set[1..=5].fill(true),
        "weekends" => (set[0], set[6]) = (true, true),
        _ => {
            for item in trimmed.split(',').map(str::trim) {
                let (a, b) = match item.split_once('-') {
                    Some((a, b)) => (day_index(a.trim(), days)?, day_index(b.trim(), days)?),
                    None => (day_index(item, days)?, day_index(item, days)?),
                };
                let mut i = a;
                loop {
                    set[i] = true;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
        }
    }
    if set.iter().all(|d| *d) {
        return Ok("*".into());
    }
    // Monday first, Sunday last: ranges stay within MON..SAT, which AWS numbers 2..7.
    let mut parts = Vec::new();
    let mut i = 1;
    while i <= 6 {
        if !set[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < 6 && set[i + 1] {
            i += 1;
        }
        match i - start {
            0 => parts.push(DAY_NAMES[start].to_string()),
            1 => parts.push(format!("{},{}", DAY_NAMES[start], DAY_NAMES[i])),
            _ => parts.push(format!("{}-{}", DAY_NAMES[start], DAY_NAMES[i])),
        }
        i += 1;
    }
    if set[0] {
        parts.push("SUN".into());
    }
    Ok(parts.join(","))
}

/// Builds the schedule expression for a stop or start time.
///
/// `at` is either `HH:MM` (24-hour, in the schedule's time zone) combined with `days`, giving
/// e.g. `cron(0 20 ? * MON-FRI *)`, or a complete `cron(...)` expression, which is validated and
/// returned unchanged (`days` is then ignored).
pub fn schedule_expression(at: &str, days: &str) -> Result<String, String> {
    let at = at.trim();
    if at.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("cron(")) {
        parse_cron(at)?;
        return Ok(at.to_string());
    }
    let not_time = || {
        format!(
            "\"{at}\" is not a time of day HH:MM (24-hour, e.g. 20:00) or a cron(...) expression \
             like cron(0 20 ? * MON-FRI *)"
        )
    };
    let (h, m) = at.split_once(':').ok_or_else(not_time)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(not_time());
    }
    let (hour, minute): (u8, u8) = (
        h.parse().map_err(|_| not_time())?,
        m.parse().map_err(|_| not_time())?,
    );
    if hour > 23 || minute > 59 {
        return Err(not_time());
    }
    let dow = day_of_week_field(days)?;
    Ok(format!("cron({minute} {hour} ? * {dow} *)"))
}

/// Parses a TTL or extension: `72h`, `7d`, `90m`, `1d12h`, `2w`. `never`, `off` and `0` mean no
/// limit (`None`).
///
/// Units are w (7 days), d (24 hours), h and m (minutes, not months), largest first, each at most
/// once. Days are fixed 24-hour periods: a TTL is elapsed time, not a calendar date, so a DST
/// change does not stretch it. Negative, zero and over-ten-year durations are errors.
pub fn parse_duration_spec(s: &str) -> Result<Option<SignedDuration>, String> {
    let spec = s.trim().to_ascii_lowercase();
    if matches!(spec.as_str(), "never" | "off" | "0") {
        return Ok(None);
    }
    let bad = |why: &str| format!("`{}` {why}; {DURATION_EXAMPLES}", s.trim());
    if spec.is_empty() {
        return Err(format!("empty duration; {DURATION_EXAMPLES}"));
    }
    if spec.starts_with('-') {
        return Err(bad("is negative"));
    }
    let mut minutes: i64 = 0;
    let mut last_unit: Option<usize> = None;
    let mut rest = spec.as_str();
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("is not a duration"));
        }
        let number: i64 = rest[..digits].parse().map_err(|_| bad("is too long"))?;
        let unit = rest[digits..]
            .chars()
            .next()
            .ok_or_else(|| bad("is missing a unit (w, d, h or m)"))?;
        const UNITS: [(char, i64); 4] = [('w', 7 * 24 * 60), ('d', 24 * 60), ('h', 60), ('m', 1)];
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(bad(&format!(
                "has unknown unit `{unit}`; units are w (weeks), d (days), h (hours), m (minutes)"
            )));
        };
        if last_unit.is_some_and(|last| index <= last) {
            return Err(bad(
                "must list units from largest to smallest, each once (like 1d12h)",
            ));
        }
        last_unit = Some(index);
        minutes = number
            .checked_mul(UNITS[index].1)
            .and_then(|m| m.checked_add(minutes))
            .ok_or_else(|| bad("is too long"))?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    if minutes == 0 {
        return Err(bad(
            "is zero; use never, off or 0 for no limit, or a positive duration",
        ));
    }
    if minutes > MAX_DURATION_DAYS * 24 * 60 {
        return Err(bad("is longer than 10 years; use never for no limit"));
    }
    Ok(Some(SignedDuration::from_mins(minutes)))
}

/// Formats a duration compactly for tables: `3d4h`, `5h`, `45m`, `-2h`. Whole days, hours and
/// minutes are shown and seconds dropped, except that a duration under a minute shows its seconds
/// (`30s`) rather than `0m`. For whole minutes, [`parse_duration_spec`] reads the output back.
pub fn format_duration(d: SignedDuration) -> String {
    let sign = if d.is_negative() { "-" } else { "" };
    let secs = d.unsigned_abs().as_secs();
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let mut out = String::from(sign);
    for (value, unit) in [(days, 'd'), (hours, 'h'), (minutes, 'm')] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.len() == sign.len() {
        if secs > 0 {
            out.push_str(&format!("{secs}s"));
        } else {
            out = "0m".into();
        }
    }
    out
}

/// The smallest EventBridge Scheduler flexible time window, in minutes, that keeps the ECS
/// `UpdateService` calls of `services` schedules firing at the same time under `rate_per_second`.
///
/// ECS throttles `UpdateService` at about 5 calls per second sustained
/// ([`UPDATE_SERVICE_RATE_PER_SECOND`]). With a flexible window of `W` minutes, EventBridge
/// Scheduler spreads invocations uniformly over the window, so `N` services stopping at the same
/// time make on average `N / (60·W)` calls per second. The smallest whole `W` with
/// `N / (60·W) ≤ rate` is `ceil(N / (60·rate))`:
///
/// | services | rate | window |
/// |---------:|-----:|-------:|
/// | 0        | any  | 0 (window off) |
/// | 1–300    | 5/s  | 1 minute |
/// | 600      | 5/s  | 2 minutes |
/// | 3000     | 5/s  | 10 minutes |
///
/// The result is at least 1 when there is any service and at most 1440 (the Scheduler's maximum
/// window, 24 hours); a rate that is zero, negative or not a number also gives 1440. The spread is
/// random, so the rate is an average, not a ceiling: short bursts above it happen and are absorbed
/// by the SDK retrying throttled calls; pass a rate below 5 for more headroom.
pub fn min_flexible_window_minutes(services: usize, rate_per_second: f64) -> i32 {
    if services == 0 {
        return 0;
    }
    if rate_per_second.is_nan() || rate_per_second <= 0.0 {
        return MAX_FLEXIBLE_WINDOW_MINUTES;
    }
    let minutes = (services as f64 / (60.0 * rate_per_second)).ceil();
    if minutes >= f64::from(MAX_FLEXIBLE_WINDOW_MINUTES) {
        MAX_FLEXIBLE_WINDOW_MINUTES
    } else {
        // In 1..1440 here, so the conversion is exact.
        (minutes as i32).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Zoned;

    fn utc(s: &str) -> Timestamp {
        s.parse()
            .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
    }

    /// A wall-clock time in a zone, e.g. `2025-03-28T21:00[Europe/Berlin]`.
    fn local(s: &str) -> Timestamp {
        s.parse::<Zoned>()
            .unwrap_or_else(|e| panic!("bad zoned {s}: {e}"))
            .timestamp()
    }

    fn berlin() -> TimeZone {
        timezone("Europe/Berlin").unwrap()
    }

    fn next(expr: &str, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        parse_cron(expr)
            .unwrap_or_else(|e| panic!("{e}"))
            .next_after(after, tz)
    }

    fn err(expr: &str) -> String {
        match parse_cron(expr) {
            Ok(c) => panic!("`{expr}` parsed as {c:?}, expected an error"),
            Err(e) => e,
        }
    }

    // ---- timezone ----

    #[test]
    fn timezone_accepts_iana_names() {
        for name in ["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"] {
            let tz = timezone(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(tz.iana_name(), Some(name));
        }
    }

    #[test]
    fn timezone_rejects_unknown_names_with_an_example() {
        assert_eq!(
            timezone("Mars/Olympus_Mons").unwrap_err(),
            "`Mars/Olympus_Mons` is not a known IANA time zone; use a name like `Europe/Berlin`, \
             `America/New_York` or `UTC`"
        );
        for name in ["", "  ", "CEST", "+02:00", "Berlin"] {
            let e = timezone(name).unwrap_err();
            assert!(e.contains("is not a known IANA time zone"), "{name}: {e}");
            assert!(e.contains("Europe/Berlin"), "{e}");
        }
    }

    #[test]
    fn timezone_rejects_miscased_names_with_the_canonical_spelling() {
        assert_eq!(
            timezone("europe/berlin").unwrap_err(),
            "`europe/berlin` is not spelled like the IANA time zone; did you mean `Europe/Berlin`?"
        );
    }

    // ---- parse_cron: valid ----

    #[test]
    fn valid_cron_expressions_parse() {
        for expr in [
            "cron(0 20 ? * MON-FRI *)",
            "cron(0 8 ? * * *)",
            "cron(0/15 * * * ? *)",
            "cron(*/5 * * * ? *)",
            "cron(0 5 L * ? *)",
            "cron(0 9 1 JAN,JUL ? *)",
            "cron(0 9 ? * 2 *)",
            "cron(0 9 ? * 1-7 *)",
            "cron(0 8-18/2 ? * MON-FRI *)",
            "cron(15,45 6,18 1-15 1-6 ? 2025-2030)",
            "cron(0 0 1 1 ? 2199)",
            "cron(59 23 31 12 ? 1970)",
            "cron(0 20 ? * mon-fri *)",
            "CRON(0 20 ? * MON-FRI *)",
            "  cron( 0  20 ? *  MON-FRI * )  ",
            "cron(0 0 ? * SUN,SAT *)",
            "cron(0 0 ? DEC * 2030/5)",
        ] {
            parse_cron(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }

    #[test]
    fn display_gives_the_normalized_expression() {
        let cron = parse_cron("  cron( 0  20 ? *  MON-FRI * ) ").unwrap();
        assert_eq!(cron.to_string(), "cron(0 20 ? * MON-FRI *)");
        assert_eq!(cron.expression(), "cron(0 20 ? * MON-FRI *)");
        assert_eq!(
            "cron(0 8 ? * * *)".parse::<AwsCron>().unwrap().to_string(),
            "cron(0 8 ? * * *)"
        );
    }

    #[test]
    fn equivalent_spellings_parse_to_the_same_schedule() {
        let a = parse_cron("cron(0 20 ? * MON-FRI *)").unwrap();
        let b = parse_cron("cron(0 20 ? * 2-6 *)").unwrap();
        assert_eq!(
            (a.minutes, a.hours, a.days, a.months),
            (b.minutes, b.hours, b.days, b.months)
        );
        let c = parse_cron("cron(0/15 * * * ? *)").unwrap();
        let d = parse_cron("cron(0,15,30,45 * * * ? *)").unwrap();
        assert_eq!(c.minutes, d.minutes);
        let e = parse_cron("cron(*/20 * * * ? *)").unwrap();
        let f = parse_cron("cron(0,20,40 * * * ? *)").unwrap();
        assert_eq!(e.minutes, f.minutes);
    }

    // ---- parse_cron: invalid ----

    #[test]
    fn out_of_range_values_name_the_field_and_show_the_format() {
        assert_eq!(
            err("cron(0 25 ? * * *)"),
            "hours field `25` is out of range 0-23 in `cron(0 25 ? * * *)`; expected \
             cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 20 ? * MON-FRI *)"
        );
        let cases = [
            (
                "cron(60 0 ? * * *)",
                "minutes field `60` is out of range 0-59",
            ),
            (
                "cron(0,15,99 0 ? * * *)",
                "minutes field `0,15,99`: `99` is out of range 0-59",
            ),
            (
                "cron(0 0 32 * ? *)",
                "day-of-month field `32` is out of range 1-31",
            ),
            (
                "cron(0 0 0 * ? *)",
                "day-of-month field `0` is out of range 1-31",
            ),
            (
                "cron(0 0 1 13 ? *)",
                "month field `13` is out of range 1-12 or JAN-DEC",
            ),
            (
                "cron(0 0 ? * 8 *)",
                "day-of-week field `8` is out of range 1-7 or SUN-SAT",
            ),
            (
                "cron(0 0 ? * 0 *)",
                "day-of-week field `0` is out of range 1-7 or SUN-SAT",
            ),
            (
                "cron(0 0 1 * ? 1969)",
                "year field `1969` is out of range 1970-2199",
            ),
            (
                "cron(0 0 1 * ? 2200)",
                "year field `2200` is out of range 1970-2199",
            ),
            (
                "cron(0 0 1 * ? 99999999)",
                "year field `99999999` is out of range 1970-2199",
            ),
        ];
        for (expr, want) in cases {
            let e = err(expr);
            assert!(
                e.starts_with(want),
                "{expr}: got {e:?}, want prefix {want:?}"
            );
            assert!(e.contains("cron(0 20 ? * MON-FRI *)"), "{e}");
        }
    }

    #[test]
    fn malformed_values_are_explained() {
        let cases = [
            (
                "cron(x 0 ? * * *)",
                "minutes field `x` is not a number in 0-59",
            ),
            (
                "cron(0 0 1 FOO ? *)",
                "month field `FOO` is not a number or name in 1-12 or JAN-DEC",
            ),
            (
                "cron(0 0 ? * MONDAY *)",
                "day-of-week field `MONDAY` is not a number or name",
            ),
            (
                "cron(0 0 ? JAN-MON * *)",
                "month field `JAN-MON`: `MON` is not a number or name",
            ),
            (
                "cron(0 0 ? * FRI-MON *)",
                "day-of-week field `FRI-MON` is a range that runs backwards",
            ),
            (
                "cron(0 0/0 ? * * *)",
                "hours field `0/0` has an increment that is not a whole number of at least 1",
            ),
            (
                "cron(0/x 0 ? * * *)",
                "minutes field `0/x` has an increment",
            ),
            (
                "cron(0,,5 0 ? * * *)",
                "minutes field `0,,5` has an empty list item",
            ),
            (
                "cron(-5 0 ? * * *)",
                "minutes field `-5`: `` is not a number in 0-59",
            ),
            (
                "cron(? 0 1 * ? *)",
                "minutes field `?` uses `?`, which may only stand alone",
            ),
            (
                "cron(0 0 ?,1 * ? *)",
                "day-of-month field `?,1`: `?` uses `?`",
            ),
        ];
        for (expr, want) in cases {
            let e = err(expr);
            assert!(
                e.starts_with(want),
                "{expr}: got {e:?}, want prefix {want:?}"
            );
        }
    }

    #[test]
    fn question_mark_must_be_in_exactly_one_day_field() {
        let e = err("cron(0 9 * * MON-FRI *)");
        assert!(
            e.starts_with(
                "day-of-month and day-of-week are both set; AWS requires one of them to be `?`"
            ),
            "{e}"
        );
        let e = err("cron(0 9 ? * ? *)");
        assert!(
            e.starts_with("`?` is in both day-of-month and day-of-week; it must be in exactly one"),
            "{e}"
        );
        let e = err("cron(0 9 L * MON *)");
        assert!(
            e.starts_with("day-of-month and day-of-week are both set"),
            "{e}"
        );
    }

    #[test]
    fn wrong_shape_is_rejected_with_the_format() {
        assert_eq!(
            err("0 20 * * ?"),
            "`0 20 * * ?` is not a cron expression; expected cron(minutes hours day-of-month month \
             day-of-week year), e.g. cron(0 20 ? * MON-FRI *)"
        );
        assert!(err("rate(5 minutes)").starts_with("`rate(5 minutes)` is not a cron expression"));
        assert!(err("cron(0 20 ? * MON-FRI *")
            .starts_with("`cron(0 20 ? * MON-FRI *` is not a cron expression"));
        assert!(err("").starts_with("`` is not a cron expression"));
        assert_eq!(
            err("cron(0 20 * * ?)"),
            "`cron(0 20 * * ?)` has 5 fields, not 6; expected cron(minutes hours day-of-month \
             month day-of-week year), e.g. cron(0 20 ? * MON-FRI *)"
        );
        assert!(err("cron(0 0 20 ? * MON-FRI *)")
            .starts_with("`cron(0 0 20 ? * MON-FRI *)` has 7 fields, not 6"));
        assert!(err("cron()").starts_with("`cron()` has 0 fields, not 6"));
    }

    #[test]
    fn unsupported_extensions_say_so() {
        let w = "uses `W` (nearest weekday), which is not supported by envctl";
        let nth = "uses `#` (nth weekday of the month), which is not supported by envctl";
        let last_weekday = "uses `L` (last weekday of the month), which is not supported by envctl";
        let l_dom =
            "uses `L` in a way not supported by envctl; only `L` alone (last day of the month) is";
        let cases = [
            (
                "cron(0 0 15W * ? *)",
                format!("day-of-month field `15W` {w}"),
            ),
            ("cron(0 0 LW * ? *)", format!("day-of-month field `LW` {w}")),
            (
                "cron(0 0 ? * 2#1 *)",
                format!("day-of-week field `2#1` {nth}"),
            ),
            (
                "cron(0 0 ? * MON#2 *)",
                format!("day-of-week field `MON#2` {nth}"),
            ),
            (
                "cron(0 0 ? * 6L *)",
                format!("day-of-week field `6L` {last_weekday}"),
            ),
            (
                "cron(0 0 ? * L *)",
                format!("day-of-week field `L` {last_weekday}"),
            ),
            (
                "cron(0 0 L-2 * ? *)",
                format!("day-of-month field `L-2` {l_dom}"),
            ),
            (
                "cron(0 0 1,L * ? *)",
                format!("day-of-month field `1,L` {l_dom}"),
            ),
        ];
        for (expr, want) in cases {
            let e = err(expr);
            assert!(
                e.starts_with(&want),
                "{expr}: got {e:?}, want prefix {want:?}"
            );
            assert!(e.ends_with("e.g. cron(0 20 ? * MON-FRI *)"), "{e}");
        }
        // JUL contains an L and WED a W: names are not mistaken for the extensions.
        parse_cron("cron(0 0 1 JUL ? *)").unwrap();
        parse_cron("cron(0 0 ? * WED *)").unwrap();
    }

    // ---- next_after ----

    #[test]
    fn weekday_evening_in_utc() {
        let tz = TimeZone::UTC;
        let cron = "cron(0 20 ? * MON-FRI *)";
        // Friday 2025-03-28.
        assert_eq!(
            next(cron, utc("2025-03-28T19:59:59Z"), &tz),
            Some(utc("2025-03-28T20:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-03-28T20:00:00Z"), &tz),
            Some(utc("2025-03-31T20:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-03-28T20:00:30Z"), &tz),
            Some(utc("2025-03-31T20:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-03-29T12:00:00Z"), &tz),
            Some(utc("2025-03-31T20:00:00Z"))
        );
    }

    #[test]
    fn friday_night_to_monday_evening_in_berlin_across_spring_forward() {
        // Friday 2025-03-28 21:00 CET; clocks go forward on Sunday 2025-03-30; Monday is CEST.
        let got = next(
            "cron(0 20 ? * MON-FRI *)",
            local("2025-03-28T21:00[Europe/Berlin]"),
            &berlin(),
        );
        assert_eq!(got, Some(local("2025-03-31T20:00[Europe/Berlin]")));
        assert_eq!(got, Some(utc("2025-03-31T18:00:00Z")));
        // Before the change the same wall-clock time is an hour later in UTC.
        let got = next(
            "cron(0 20 ? * MON-FRI *)",
            local("2025-03-27T21:00[Europe/Berlin]"),
            &berlin(),
        );
        assert_eq!(got, Some(utc("2025-03-28T19:00:00Z")));
    }

    #[test]
    fn daily_morning_keeps_local_time_across_dst() {
        let tz = berlin();
        let cron = "cron(0 8 ? * * *)";
        // Saturday 09:00 CET -> Sunday (DST day) 08:00 CEST -> Monday 08:00 CEST.
        let sunday = next(cron, local("2025-03-29T09:00[Europe/Berlin]"), &tz);
        assert_eq!(sunday, Some(utc("2025-03-30T06:00:00Z")));
        assert_eq!(
            next(cron, sunday.unwrap(), &tz),
            Some(utc("2025-03-31T06:00:00Z"))
        );
        // Autumn: Sunday 2025-10-26 goes back to CET.
        let sunday = next(cron, local("2025-10-25T09:00[Europe/Berlin]"), &tz);
        assert_eq!(sunday, Some(utc("2025-10-26T07:00:00Z")));
        // In UTC the same expression is 08:00Z every day.
        assert_eq!(
            next(cron, utc("2025-03-29T09:00:00Z"), &TimeZone::UTC),
            Some(utc("2025-03-30T08:00:00Z"))
        );
    }

    #[test]
    fn nonexistent_wall_clock_time_is_skipped_on_spring_forward() {
        // 02:30 does not exist in Berlin on 2025-03-30 (02:00 CET -> 03:00 CEST): no firing that
        // day, as EventBridge Scheduler documents; the next is Monday 02:30 CEST.
        let got = next(
            "cron(30 2 ? * * *)",
            local("2025-03-29T03:00[Europe/Berlin]"),
            &berlin(),
        );
        assert_eq!(got, Some(local("2025-03-31T02:30[Europe/Berlin]")));
        assert_eq!(got, Some(utc("2025-03-31T00:30:00Z")));
        // A yearly schedule whose 2025 date falls in the gap waits for 2026, when 30 March is an
        // ordinary day.
        let got = next(
            "cron(30 2 30 3 ? *)",
            utc("2025-01-01T00:00:00Z"),
            &berlin(),
        );
        assert_eq!(got, Some(local("2026-03-30T02:30[Europe/Berlin]")));
    }

    #[test]
    fn every_quarter_hour_across_spring_forward() {
        let tz = berlin();
        let cron = "cron(0/15 * * * ? *)";
        assert_eq!(
            next(cron, local("2025-03-30T01:40[Europe/Berlin]"), &tz),
            Some(utc("2025-03-30T00:45:00Z"))
        );
        // 02:00, 02:15, 02:30 and 02:45 do not exist; 01:45 CET is followed by 03:00 CEST.
        assert_eq!(
            next(cron, local("2025-03-30T01:50[Europe/Berlin]"), &tz),
            Some(utc("2025-03-30T01:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-03-30T01:00:00Z"), &tz),
            Some(local("2025-03-30T03:15[Europe/Berlin]"))
        );
    }

    #[test]
    fn repeated_wall_clock_time_fires_once_on_fall_back() {
        let tz = berlin();
        // 2025-10-26: 03:00 CEST -> 02:00 CET, so 02:30 happens at 00:30Z and at 01:30Z.
        let cron = "cron(30 2 ? * * *)";
        assert_eq!(
            next(cron, utc("2025-10-26T00:00:00Z"), &tz),
            Some(utc("2025-10-26T00:30:00Z"))
        );
        // Only the first one fires: the next is Monday 02:30 CET, not 01:30Z on Sunday.
        assert_eq!(
            next(cron, utc("2025-10-26T00:30:00Z"), &tz),
            Some(utc("2025-10-27T01:30:00Z"))
        );
        // Every 15 minutes: after the first 02:45 CEST comes 03:00 CET, skipping the repeat.
        let cron = "cron(0/15 * * * ? *)";
        assert_eq!(
            next(cron, utc("2025-10-26T00:45:00Z"), &tz),
            Some(utc("2025-10-26T02:00:00Z"))
        );
        // Starting inside the repeated hour also goes on to 03:00 CET.
        assert_eq!(
            next(cron, utc("2025-10-26T01:10:00Z"), &tz),
            Some(utc("2025-10-26T02:00:00Z"))
        );
    }

    #[test]
    fn every_fifteen_minutes_in_utc() {
        let tz = TimeZone::UTC;
        let cron = "cron(0/15 * * * ? *)";
        assert_eq!(
            next(cron, utc("2025-01-01T10:07:00Z"), &tz),
            Some(utc("2025-01-01T10:15:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-01-01T10:15:00Z"), &tz),
            Some(utc("2025-01-01T10:30:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-12-31T23:50:00Z"), &tz),
            Some(utc("2026-01-01T00:00:00Z"))
        );
        assert_eq!(
            next("cron(*/5 * * * ? *)", utc("2025-01-01T10:07:00Z"), &tz),
            Some(utc("2025-01-01T10:10:00Z"))
        );
    }

    #[test]
    fn last_day_of_month_handles_leap_years() {
        let tz = TimeZone::UTC;
        let cron = "cron(0 0 L * ? *)";
        assert_eq!(
            next(cron, utc("2024-02-10T00:00:00Z"), &tz),
            Some(utc("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2024-02-29T00:00:00Z"), &tz),
            Some(utc("2024-03-31T00:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-02-10T00:00:00Z"), &tz),
            Some(utc("2025-02-28T00:00:00Z"))
        );
        assert_eq!(
            next(cron, utc("2025-04-01T00:00:00Z"), &tz),
            Some(utc("2025-04-30T00:00:00Z"))
        );
        // In Berlin, 2024-02-29 00:00 CET is 23:00Z the day before.
        assert_eq!(
            next(
                "cron(0 0 L FEB ? *)",
                utc("2024-01-01T00:00:00Z"),
                &berlin()
            ),
            Some(utc("2024-02-28T23:00:00Z"))
        );
    }

    #[test]
    fn specific_days_months_and_years() {
        let tz = TimeZone::UTC;
        assert_eq!(
            next("cron(0 9 1 JAN,JUL ? *)", utc("2025-02-01T00:00:00Z"), &tz),
            Some(utc("2025-07-01T09:00:00Z"))
        );
        // 2 = MON.
        assert_eq!(
            next("cron(0 9 ? * 2 *)", utc("2025-03-28T00:00:00Z"), &tz),
            Some(utc("2025-03-31T09:00:00Z"))
        );
        assert_eq!(
            next("cron(0 9 ? * SUN *)", utc("2025-03-28T00:00:00Z"), &tz),
            Some(utc("2025-03-30T09:00:00Z"))
        );
        assert_eq!(
            next(
                "cron(0 8-18/4 ? * MON-FRI *)",
                utc("2025-03-28T12:30:00Z"),
                &tz
            ),
            Some(utc("2025-03-28T16:00:00Z"))
        );
        assert_eq!(
            next("cron(0 0 1 1 ? 2027)", utc("2025-06-01T00:00:00Z"), &tz),
            Some(utc("2027-01-01T00:00:00Z"))
        );
        assert_eq!(
            next("cron(0 0 1 1 ? 2020)", utc("2025-06-01T00:00:00Z"), &tz),
            None
        );
        // Day 31 only in months that have one.
        assert_eq!(
            next("cron(0 0 31 * ? *)", utc("2025-04-01T00:00:00Z"), &tz),
            Some(utc("2025-05-31T00:00:00Z"))
        );
        assert_eq!(
            next("cron(0 0 30 2 ? *)", utc("2025-01-01T00:00:00Z"), &tz),
            None
        );
    }

    #[test]
    fn search_stops_after_about_two_years() {
        let tz = TimeZone::UTC;
        // The next 29 February after 2025 is in 2028: too far.
        assert_eq!(
            next("cron(0 12 29 2 ? *)", utc("2025-01-01T00:00:00Z"), &tz),
            None
        );
        assert_eq!(
            next("cron(0 12 29 2 ? *)", utc("2027-06-01T00:00:00Z"), &tz),
            Some(utc("2028-02-29T12:00:00Z"))
        );
        // Nothing past the last year AWS accepts.
        assert_eq!(
            next("cron(0 0 ? * * *)", utc("2199-12-31T00:00:00Z"), &tz),
            None
        );
        assert_eq!(
            next("cron(0 0 ? * * *)", utc("2199-12-30T12:00:00Z"), &tz),
            Some(utc("2199-12-31T00:00:00Z"))
        );
    }

    // ---- schedule_expression ----

    #[test]
    fn time_and_days_become_cron() {
        let cases = [
            ("20:00", "MON-FRI", "cron(0 20 ? * MON-FRI *)"),
            ("07:30", "MON-FRI", "cron(30 7 ? * MON-FRI *)"),
            ("7:05", "mon-fri", "cron(5 7 ? * MON-FRI *)"),
            ("00:00", "*", "cron(0 0 ? * * *)"),
            ("23:59", "daily", "cron(59 23 ? * * *)"),
            ("08:00", "MON,WED,FRI", "cron(0 8 ? * MON,WED,FRI *)"),
            ("08:00", "SAT-SUN", "cron(0 8 ? * SAT,SUN *)"),
            ("08:00", "weekends", "cron(0 8 ? * SAT,SUN *)"),
            ("08:00", "weekdays", "cron(0 8 ? * MON-FRI *)"),
            ("08:00", "SUN-SAT", "cron(0 8 ? * * *)"),
            ("08:00", "FRI-MON", "cron(0 8 ? * MON,FRI,SAT,SUN *)"),
            ("08:00", "MON-WED, FRI", "cron(0 8 ? * MON-WED,FRI *)"),
            ("08:00", "monday,tuesday", "cron(0 8 ? * MON,TUE *)"),
            ("08:00", "SUN", "cron(0 8 ? * SUN *)"),
        ];
        for (at, days, want) in cases {
            let got = schedule_expression(at, days).unwrap_or_else(|e| panic!("{at} {days}: {e}"));
            assert_eq!(got, want, "{at} {days}");
            parse_cron(&got).unwrap_or_else(|e| panic!("{got}: {e}"));
        }
    }

    #[test]
    fn generated_expression_fires_when_expected() {
        let expr = schedule_expression("08:00", "SAT-SUN").unwrap();
        let got = next(&expr, local("2025-03-28T12:00[Europe/Berlin]"), &berlin());
        assert_eq!(got, Some(local("2025-03-29T08:00[Europe/Berlin]")));
    }

    #[test]
    fn full_cron_is_validated_and_returned_as_is() {
        assert_eq!(
            schedule_expression("cron(0 5 L * ? *)", "ignored").unwrap(),
            "cron(0 5 L * ? *)"
        );
        assert_eq!(
            schedule_expression(" cron(0 5 ? * MON *) ", "").unwrap(),
            "cron(0 5 ? * MON *)"
        );
        let e = schedule_expression("cron(0 25 ? * * *)", "MON-FRI").unwrap_err();
        assert!(
            e.starts_with("hours field `25` is out of range 0-23"),
            "{e}"
        );
    }

    #[test]
    fn bad_times_and_days_are_named() {
        for at in [
            "25:00",
            "24:00",
            "12:60",
            "12",
            "12:5",
            "123:00",
            "noon",
            "",
            "-1:00",
            "12:00:00",
            "rate(1 hour)",
        ] {
            let e = schedule_expression(at, "MON-FRI").unwrap_err();
            assert!(
                e.starts_with(&format!("\"{at}\" is not a time of day HH:MM")),
                "{at}: {e}"
            );
        }
        assert_eq!(
            schedule_expression("25:00", "MON-FRI").unwrap_err(),
            "\"25:00\" is not a time of day HH:MM (24-hour, e.g. 20:00) or a cron(...) expression \
             like cron(0 20 ? * MON-FRI *)"
        );
        assert_eq!(
            schedule_expression("20:00", "1-5").unwrap_err(),
            "days `1-5`: use day names like MON-FRI, not numbers (AWS counts 1 = SUN)"
        );
        assert_eq!(
            schedule_expression("20:00", "MON-FRY").unwrap_err(),
            "days `MON-FRY`: `FRY` is not a day; use names like MON-FRI, MON,WED,FRI, SAT-SUN, \
             weekdays, weekends or daily"
        );
        assert!(schedule_expression("20:00", " ")
            .unwrap_err()
            .starts_with("days is empty"));
        assert!(schedule_expression("20:00", "MON,,FRI")
            .unwrap_err()
            .contains("`` is not a day"));
    }

    // ---- durations ----

    fn dur(s: &str) -> Option<SignedDuration> {
        parse_duration_spec(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn durations_parse() {
        assert_eq!(dur("72h"), Some(SignedDuration::from_hours(72)));
        assert_eq!(dur("7d"), Some(SignedDuration::from_hours(7 * 24)));
        assert_eq!(dur("90m"), Some(SignedDuration::from_mins(90)));
        assert_eq!(dur("1d12h"), Some(SignedDuration::from_hours(36)));
        assert_eq!(dur("2w"), Some(SignedDuration::from_hours(14 * 24)));
        assert_eq!(
            dur("1w2d3h4m"),
            Some(SignedDuration::from_mins(((9 * 24) + 3) * 60 + 4))
        );
        assert_eq!(dur(" 8H "), Some(SignedDuration::from_hours(8)));
        assert_eq!(dur("0d5h"), Some(SignedDuration::from_hours(5)));
        assert_eq!(dur("3650d"), Some(SignedDuration::from_hours(3650 * 24)));
        for off in ["never", "off", "0", "NEVER", " Off "] {
            assert_eq!(dur(off), None, "{off}");
        }
    }

    #[test]
    fn bad_durations_show_examples() {
        let cases = [
            ("", "empty duration"),
            ("-1h", "`-1h` is negative"),
            ("-0", "`-0` is negative"),
            ("0h", "`0h` is zero; use never, off or 0 for no limit"),
            ("0d0h", "`0d0h` is zero"),
            ("72", "`72` is missing a unit (w, d, h or m)"),
            ("1d12", "`1d12` is missing a unit"),
            ("h", "`h` is not a duration"),
            ("1.5h", "`1.5h` has unknown unit `.`"),
            (
                "5y",
                "`5y` has unknown unit `y`; units are w (weeks), d (days), h (hours), m (minutes)",
            ),
            ("30s", "`30s` has unknown unit `s`"),
            (
                "1h1d",
                "`1h1d` must list units from largest to smallest, each once (like 1d12h)",
            ),
            ("1h2h", "`1h2h` must list units"),
            ("1 d", "`1 d` has unknown unit ` `"),
            ("3651d", "`3651d` is longer than 10 years"),
            (
                "99999999999999999999h",
                "`99999999999999999999h` is too long",
            ),
            ("999999999999999w", "`999999999999999w` is too long"),
            ("forever", "`forever` is not a duration"),
        ];
        for (input, want) in cases {
            let e = parse_duration_spec(input).unwrap_err();
            assert!(
                e.starts_with(want),
                "{input:?}: got {e:?}, want prefix {want:?}"
            );
            assert!(
                e.ends_with("e.g. 72h, 7d, 90m, 1d12h or 2w (or never, off, 0 for no limit)"),
                "{e}"
            );
        }
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(SignedDuration::from_hours(76)), "3d4h");
        assert_eq!(format_duration(SignedDuration::from_hours(5)), "5h");
        assert_eq!(format_duration(SignedDuration::from_mins(45)), "45m");
        assert_eq!(
            format_duration(SignedDuration::from_mins(24 * 60 + 1)),
            "1d1m"
        );
        assert_eq!(
            format_duration(SignedDuration::from_secs(3 * 3600 + 59)),
            "3h"
        );
        assert_eq!(format_duration(SignedDuration::from_secs(30)), "30s");
        assert_eq!(format_duration(SignedDuration::ZERO), "0m");
        assert_eq!(format_duration(SignedDuration::from_hours(-2)), "-2h");
        assert_eq!(format_duration(SignedDuration::from_hours(14 * 24)), "14d");
        assert_eq!(
            format_duration(SignedDuration::MIN).chars().next(),
            Some('-')
        );
    }

    #[test]
    fn durations_round_trip() {
        for s in ["72h", "7d", "90m", "1d12h", "2w", "3d4h5m", "45m", "3650d"] {
            let d = dur(s).unwrap();
            let formatted = format_duration(d);
            assert_eq!(dur(&formatted), Some(d), "{s} -> {formatted}");
        }
        for mins in [1, 59, 60, 61, 1439, 1440, 1441, 10_079, 10_080, 525_600] {
            let d = SignedDuration::from_mins(mins);
            assert_eq!(dur(&format_duration(d)), Some(d), "{mins} minutes");
        }
        assert_eq!(format_duration(dur("72h").unwrap()), "3d");
        assert_eq!(format_duration(dur("90m").unwrap()), "1h30m");
    }

    // ---- flexible window ----

    #[test]
    fn flexible_window_keeps_update_service_under_the_rate() {
        let rate = UPDATE_SERVICE_RATE_PER_SECOND;
        assert_eq!(min_flexible_window_minutes(600, rate), 2);
        assert_eq!(min_flexible_window_minutes(3000, rate), 10);
        assert_eq!(min_flexible_window_minutes(0, rate), 0);
        assert_eq!(min_flexible_window_minutes(1, rate), 1);
        assert_eq!(min_flexible_window_minutes(300, rate), 1);
        assert_eq!(min_flexible_window_minutes(301, rate), 2);
        assert_eq!(min_flexible_window_minutes(3001, rate), 11);
        assert_eq!(min_flexible_window_minutes(600, 2.5), 4);
        assert_eq!(min_flexible_window_minutes(6, 0.1), 1);
        assert_eq!(min_flexible_window_minutes(7, 0.1), 2);
    }

    #[test]
    fn flexible_window_is_capped_at_the_scheduler_maximum() {
        assert_eq!(min_flexible_window_minutes(432_000, 5.0), 1440);
        assert_eq!(min_flexible_window_minutes(432_001, 5.0), 1440);
        assert_eq!(min_flexible_window_minutes(usize::MAX, 5.0), 1440);
        assert_eq!(min_flexible_window_minutes(10, 0.0), 1440);
        assert_eq!(min_flexible_window_minutes(10, -1.0), 1440);
        assert_eq!(min_flexible_window_minutes(10, f64::NAN), 1440);
        assert_eq!(min_flexible_window_minutes(10, f64::INFINITY), 1);
    }

    #[test]
    fn flexible_window_rate_holds_for_every_count() {
        for n in 1..=20_000usize {
            let w = min_flexible_window_minutes(n, 5.0);
            assert!(n as f64 / (60.0 * f64::from(w)) <= 5.0, "{n}: {w}");
            if w > 1 {
                assert!(
                    n as f64 / (60.0 * f64::from(w - 1)) > 5.0,
                    "{n}: {w} is not the smallest"
                );
            }
        }
    }
}
