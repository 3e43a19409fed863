//! `envctl logs`: an env's container log lines from its CloudWatch log group, all services
//! interleaved by time like `docker compose logs`, optionally followed.
//!
//! Streams are named by the awslogs driver `<awslogs-stream-prefix>/<container>/<task id>`, and
//! the default task definition template sets the prefix to the service key, so a line belongs to
//! service `web` when its stream starts with `web/`. envctl relies on that convention rather than
//! rendering the task definitions (which needs account, network, role and parameter lookups)
//! just to read logs.
//!
//! Following polls FilterLogEvents (see docs/logs-and-exec.md for why not Live Tail). The pure
//! parts (since-parsing, labelling, merging, de-duplication, formatting) are plain functions;
//! the loop talks to AWS through `LogBackend` so it is tested with a fake.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::aws::{Aws, AwsResult};
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::model::{LogEvent, LogQuery};

/// How far back `logs` looks without `--since`.
pub const DEFAULT_SINCE: &str = "10m";
/// How often `--follow` polls, unless `ENVCTL_POLL_INTERVAL_MS` says otherwise.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(2);
/// Each follow poll searches again from this long before the newest line seen: the awslogs
/// driver ships a task's lines in batches (every 5 s by default), so a line can arrive after a
/// later line of another task has been shown. The event ids keep repeats off the screen.
pub const FOLLOW_LOOKBACK_MS: i64 = 10_000;

/// The one call `logs` needs.
pub trait LogBackend: Sync {
    /// Every event the query matches (all pages); `None` when the log group does not exist.
    fn fetch(
        &self,
        query: &LogQuery,
    ) -> impl Future<Output = AwsResult<Option<Vec<LogEvent>>>> + Send;
}

impl LogBackend for Aws {
    async fn fetch(&self, query: &LogQuery) -> AwsResult<Option<Vec<LogEvent>>> {
        self.filter_log_events(query).await
    }
}

/// Fails (exit 3, before any AWS call) when a `--service` names no service of the config.
pub fn check_services(cfg: &LoadedConfig, wanted: &[String]) -> Result<()> {
    let services = &cfg.config.services;
    match wanted.iter().find(|s| !services.contains_key(s.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(Error::invalid(
            format!(
                "service `{unknown}` is not defined in {}",
                cfg.path.display()
            ),
            Some(format!(
                "services are: {}",
                services.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        )),
    }
}

/// `--since`: a duration back from `now` (`90s`, `15m`, `2h`, `1h30m`, `2d`, plain seconds) or
/// an RFC 3339 time (`2025-06-01T12:00:00Z`), as milliseconds since the epoch.
pub fn parse_since(s: &str, now: jiff::Timestamp) -> std::result::Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let ms = if let Ok(secs) = s.parse::<i64>() {
        secs.checked_mul(1000)
            .ok_or_else(|| format!("`{s}` is too large"))?
    } else {
        let span: jiff::Span = s.parse().map_err(|_| {
            format!("`{s}` is neither a duration like 15m, 2h, 1d nor an RFC 3339 time like 2025-06-01T12:00:00Z")
        })?;
        // Days are 24 hours here: "since 1d" means the last 24 hours, whatever the calendar.
        let total = span
            .total((
                jiff::Unit::Millisecond,
                jiff::SpanRelativeTo::days_are_24_hours(),
            ))
            .map_err(|e| format!("`{s}`: {e}"))?;
        total as i64
    };
    if ms < 0 {
        return Err(format!("`{s}` is negative; give how long ago, e.g. 15m"));
    }
    Ok(now.as_millisecond().saturating_sub(ms))
}

/// What to read: the searches, and how to label and align what they find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPlan {
    pub group: String,
    pub queries: Vec<LogQuery>,
    /// Every service key of the config, to label streams.
    pub services: Vec<String>,
    /// `--service` flags; empty: every service.
    pub selected: Vec<String>,
    /// Width of the service column in text output.
    pub width: usize,
}

/// One search over the whole group without `--service` (one paginated call however many
/// services there are), else one per selected service with its stream prefix.
pub fn plan(
    group: &str,
    services: &[String],
    selected: &[String],
    start_ms: i64,
    pattern: Option<&str>,
) -> LogPlan {
    let mut selected: Vec<String> = selected.to_vec();
    selected.sort();
    selected.dedup();
    let query = |prefix: Option<String>| LogQuery {
        group: group.to_string(),
        stream_prefix: prefix,
        start_ms,
        pattern: pattern.map(str::to_string).filter(|p| !p.is_empty()),
    };
    let queries = if selected.is_empty() {
        vec![query(None)]
    } else {
        selected
            .iter()
            .map(|s| query(Some(format!("{s}/"))))
            .collect()
    };
    let shown = if selected.is_empty() {
        services
    } else {
        &selected
    };
    LogPlan {
        group: group.to_string(),
        queries,
        services: services.to_vec(),
        width: shown.iter().map(|s| s.chars().count()).max().unwrap_or(0),
        selected,
    }
}

/// The service a stream belongs to: the key whose `<key>/` starts it, else the stream's first
/// segment (a template with another `awslogs-stream-prefix`).
pub fn label<'a>(stream: &'a str, services: &'a [String]) -> &'a str {
    services
        .iter()
        .filter(|k| {
            stream
                .strip_prefix(k.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|k| k.len())
        .map(String::as_str)
        .unwrap_or_else(|| stream.split('/').next().unwrap_or(stream))
}

impl LogPlan {
    /// The searches' results as one list in time order, without repeats, and only streams of
    /// the selected services: the emulator ignores `logStreamNamePrefix`, and envctl does not
    /// rely on any endpoint to have applied it.
    pub fn merge(&self, batches: Vec<Vec<LogEvent>>) -> Vec<LogEvent> {
        let mut events: Vec<LogEvent> = batches
            .into_iter()
            .flatten()
            .filter(|e| {
                self.selected.is_empty()
                    || self
                        .selected
                        .iter()
                        .any(|s| s == label(&e.stream, &self.services))
            })
            .collect();
        // The stream and id only make the order of simultaneous lines stable.
        events.sort_by(|a, b| {
            (a.timestamp_ms, &a.stream, &a.event_id).cmp(&(b.timestamp_ms, &b.stream, &b.event_id))
        });
        let mut seen = std::collections::HashSet::new();
        events.retain(|e| seen.insert(e.event_id.clone()));
        events
    }

    /// The label of an event's stream.
    pub fn service_of<'a>(&'a self, e: &'a LogEvent) -> &'a str {
        label(&e.stream, &self.services)
    }
}

/// `--follow`'s memory: where the next search starts and which recent events were shown.
#[derive(Debug, Clone)]
pub struct Follow {
    start_ms: i64,
    /// Event id -> timestamp, for events at or after `start_ms`.
    seen: HashMap<String, i64>,
}

impl Follow {
    pub fn new(start_ms: i64) -> Self {
        Follow {
            start_ms,
            seen: HashMap::new(),
        }
    }

    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// The events not shown before (in the order given), remembering them; then moves the start
    /// up to the lookback window behind the newest line and forgets ids older than that.
    pub fn fresh(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|e| {
                self.seen
                    .insert(e.event_id.clone(), e.timestamp_ms)
                    .is_none()
            })
            .collect();
        if let Some(newest) = self.seen.values().copied().max() {
            self.start_ms = self.start_ms.max(newest - FOLLOW_LOOKBACK_MS);
        }
        let start = self.start_ms;
        self.seen.retain(|_, ts| *ts >= start);
        fresh
    }
}

/// `2025-06-01T12:00:00.123Z`.
pub fn iso_millis(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// `web  | message`, one output line per line of the message, the service padded to `width`
/// so the bars line up.
pub fn format_text(e: &LogEvent, service: &str, width: usize, timestamps: bool) -> String {
    let time = if timestamps {
        format!("{} ", iso_millis(e.timestamp_ms))
    } else {
        String::new()
    };
    let mut out = String::new();
    for (i, line) in e.message.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{service:<width$} | {time}{}",
            line.trim_end_matches('\r')
        ));
    }
    out
}

/// One line of `--output json`.
#[derive(Debug, Serialize)]
struct JsonLine<'a> {
    timestamp: String,
    service: &'a str,
    stream: &'a str,
    message: &'a str,
}

/// One JSON object on one line (JSON Lines), so `--follow` output can be piped to `jq`.
pub fn format_json(e: &LogEvent, service: &str) -> String {
    serde_json::to_string(&JsonLine {
        timestamp: iso_millis(e.timestamp_ms),
        service,
        stream: &e.stream,
        message: &e.message,
    })
    .unwrap_or_default()
}

async fn fetch_all<B: LogBackend>(
    backend: &B,
    plan: &LogPlan,
    start_ms: i64,
) -> Result<Vec<LogEvent>> {
    let searches = plan.queries.iter().map(|q| {
        let q = LogQuery {
            start_ms,
            ..q.clone()
        };
        async move { backend.fetch(&q).await }
    });
    let mut batches = Vec::new();
    for found in futures::future::try_join_all(searches).await? {
        match found {
            Some(events) => batches.push(events),
            None => {
                return Err(Error::Precondition {
                    message: format!(
                        "the log group {} does not exist: the env is not up",
                        plan.group
                    ),
                    hint: "check the env name with `envctl ls`, or create it with `envctl up ENV`"
                        .into(),
                })
            }
        }
    }
    Ok(plan.merge(batches))
}

/// Hands every event since `start_ms` to `emit` in time order; with `follow`, keeps polling at
/// that interval until `cancel` resolves (Ctrl-C: success) or `emit` returns false (stdout was
/// closed).
pub async fn run<B: LogBackend>(
    backend: &B,
    plan: &LogPlan,
    start_ms: i64,
    follow: Option<Duration>,
    emit: &mut dyn FnMut(&LogEvent, &str) -> bool,
    cancel: impl Future<Output = ()>,
) -> Result<usize> {
    tokio::pin!(cancel);
    let mut state = Follow::new(start_ms);
    let mut shown = 0;
    loop {
        let events = tokio::select! {
            _ = &mut cancel => return Ok(shown),
            events = fetch_all(backend, plan, state.start_ms()) => events?,
        };
        for e in state.fresh(events) {
            if !emit(&e, plan.service_of(&e)) {
                return Ok(shown);
            }
            shown += 1;
        }
        let Some(every) = follow else {
            return Ok(shown);
        };
        tokio::select! {
            _ = &mut cancel => return Ok(shown),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn ev(ts: i64, id: &str, stream: &str, msg: &str) -> LogEvent {
        LogEvent {
            timestamp_ms: ts,
            event_id: id.into(),
            stream: stream.into(),
            message: msg.into(),
        }
    }

    fn keys(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn since_takes_durations_and_rfc3339() {
        let now: jiff::Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        let at = |s: &str| iso_millis(parse_since(s, now).unwrap());
        assert_eq!(at("15m"), "2025-06-01T11:45:00.000Z");
        assert_eq!(at("2h"), "2025-06-01T10:00:00.000Z");
        assert_eq!(at("1h30m"), "2025-06-01T10:30:00.000Z");
        assert_eq!(at("1d"), "2025-05-31T12:00:00.000Z");
        assert_eq!(at("90"), "2025-06-01T11:58:30.000Z");
        assert_eq!(at("2025-06-01T09:15:00Z"), "2025-06-01T09:15:00.000Z");
        assert_eq!(at("2025-06-01T11:15:00+02:00"), "2025-06-01T09:15:00.000Z");
        for bad in ["yesterday", "", "-5m", "15x"] {
            let e = parse_since(bad, now).expect_err(bad);
            assert!(e.contains("15m") || e.contains("negative"), "{bad}: {e}");
        }
    }

    #[test]
    fn one_search_for_all_services_one_per_selected_service() {
        let all = keys(&["api", "web", "worker"]);
        let p = plan("/envctl/shop/x", &all, &[], 5, Some("ERROR"));
        assert_eq!(p.queries.len(), 1);
        assert_eq!(p.queries[0].stream_prefix, None);
        assert_eq!(p.queries[0].pattern.as_deref(), Some("ERROR"));
        assert_eq!(p.width, 6);
        let p = plan("/g", &all, &keys(&["web", "api", "web"]), 5, Some(""));
        let prefixes: Vec<_> = p.queries.iter().map(|q| q.stream_prefix.clone()).collect();
        assert_eq!(prefixes, [Some("api/".into()), Some("web/".into())]);
        assert_eq!(p.queries[0].pattern, None, "an empty --filter is no filter");
        assert_eq!(p.width, 3);
    }

    #[test]
    fn streams_are_labelled_by_their_service_prefix() {
        let all = keys(&["web", "web-api"]);
        assert_eq!(label("web/web/abc", &all), "web");
        assert_eq!(label("web-api/web-api/abc", &all), "web-api");
        assert_eq!(label("ecs/sidecar/abc", &all), "ecs");
        assert_eq!(label("webby/x/1", &all), "webby");
    }

    #[test]
    fn merge_interleaves_by_time_drops_repeats_and_other_services() {
        let all = keys(&["api", "web"]);
        let p = plan("/g", &all, &keys(&["web"]), 0, None);
        let merged = p.merge(vec![
            vec![
                ev(3, "c", "web/web/1", "three"),
                ev(1, "a", "web/web/1", "one"),
            ],
            // The emulator ignores the prefix: api lines come back too.
            vec![
                ev(2, "b", "api/api/9", "api"),
                ev(1, "a", "web/web/1", "one"),
            ],
        ]);
        let ids: Vec<_> = merged.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);

        let p = plan("/g", &all, &[], 0, None);
        let merged = p.merge(vec![vec![
            ev(5, "e", "web/web/1", "w2"),
            ev(2, "b", "api/api/9", "a1"),
            ev(2, "a", "web/web/1", "w1"),
        ]]);
        let got: Vec<_> = merged
            .iter()
            .map(|e| (p.service_of(e), e.message.as_str()))
            .collect();
        assert_eq!(got, [("api", "a1"), ("web", "w1"), ("web", "w2")]);
    }

    #[test]
    fn follow_shows_each_event_once_and_keeps_a_lookback_window() {
        let mut f = Follow::new(0);
        let first = f.fresh(vec![ev(100_000, "a", "s", "1"), ev(101_000, "b", "s", "2")]);
        assert_eq!(first.len(), 2);
        assert_eq!(f.start_ms(), 101_000 - FOLLOW_LOOKBACK_MS);
        // The next poll returns b again, plus a late line older than b, plus a new one.
        let second = f.fresh(vec![
            ev(101_000, "b", "s", "2"),
            ev(100_500, "late", "s2", "x"),
            ev(120_000, "c", "s", "3"),
        ]);
        let ids: Vec<_> = second.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["late", "c"]);
        assert_eq!(f.start_ms(), 120_000 - FOLLOW_LOOKBACK_MS);
        assert!(
            f.seen.len() == 1,
            "ids before the window are forgotten: {:?}",
            f.seen
        );
        assert!(f.fresh(vec![]).is_empty());
        assert_eq!(f.start_ms(), 110_000, "the start never moves back");
    }

    #[test]
    fn text_lines_are_prefixed_and_aligned() {
        let e = ev(0, "a", "web/web/1", "hello\nworld\r");
        assert_eq!(
            format_text(&e, "web", 6, false),
            "web    | hello\nweb    | world"
        );
        assert_eq!(
            format_text(&ev(1_500, "a", "s", "x"), "api", 3, true),
            "api | 1970-01-01T00:00:01.500Z x"
        );
    }

    #[test]
    fn json_lines_are_one_object_per_line() {
        let line = format_json(
            &ev(1_717_243_200_123, "a", "web/web/1", "say \"hi\"\nbye"),
            "web",
        );
        assert!(!line.contains('\n'), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "timestamp": "2024-06-01T12:00:00.123Z",
                "service": "web",
                "stream": "web/web/1",
                "message": "say \"hi\"\nbye",
            })
        );
    }

    /// Serves a list of answers, one per fetch, recording the start times asked for.
    struct FakeLogs {
        answers: Mutex<Vec<Option<Vec<LogEvent>>>>,
        starts: Mutex<Vec<i64>>,
    }

    impl FakeLogs {
        fn new(answers: Vec<Option<Vec<LogEvent>>>) -> Self {
            FakeLogs {
                answers: Mutex::new(answers),
                starts: Mutex::new(vec![]),
            }
        }
    }

    impl LogBackend for FakeLogs {
        async fn fetch(&self, q: &LogQuery) -> AwsResult<Option<Vec<LogEvent>>> {
            self.starts.lock().unwrap().push(q.start_ms);
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                return Ok(Some(vec![]));
            }
            Ok(answers.remove(0))
        }
    }

    #[tokio::test]
    async fn follow_polls_from_the_newest_line_and_stops_on_ctrl_c() {
        let fake = FakeLogs::new(vec![
            Some(vec![ev(50_000, "a", "web/web/1", "one")]),
            Some(vec![
                ev(50_000, "a", "web/web/1", "one"),
                ev(52_000, "b", "api/api/2", "two"),
            ]),
            Some(vec![ev(52_000, "b", "api/api/2", "two")]),
        ]);
        let p = plan("/g", &keys(&["api", "web"]), &[], 1_000, None);
        let mut lines = Vec::new();
        let shown = run(
            &fake,
            &p,
            1_000,
            Some(Duration::from_millis(1)),
            &mut |e, s| {
                lines.push(format!("{s}:{}", e.message));
                true
            },
            tokio::time::sleep(Duration::from_millis(100)),
        )
        .await
        .expect("Ctrl-C ends following cleanly");
        assert_eq!(lines, ["web:one", "api:two"]);
        assert_eq!(shown, 2);
        let starts = fake.starts.lock().unwrap().clone();
        assert_eq!(
            starts[..3],
            [
                1_000,
                50_000 - FOLLOW_LOOKBACK_MS,
                52_000 - FOLLOW_LOOKBACK_MS
            ]
        );
        assert!(starts.len() > 3, "kept polling until cancelled: {starts:?}");
    }

    #[tokio::test]
    async fn a_closed_stdout_ends_following() {
        let fake = FakeLogs::new(vec![Some(vec![
            ev(1, "a", "web/web/1", "x"),
            ev(2, "b", "web/web/1", "y"),
        ])]);
        let p = plan("/g", &keys(&["web"]), &[], 0, None);
        let shown = run(
            &fake,
            &p,
            0,
            Some(Duration::from_millis(1)),
            &mut |_, _| false,
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(shown, 0);
    }

    #[tokio::test]
    async fn a_missing_log_group_says_the_env_is_not_up() {
        let fake = FakeLogs::new(vec![None]);
        let p = plan("/envctl/shop/x", &keys(&["web"]), &[], 0, None);
        let err = run(&fake, &p, 0, None, &mut |_, _| true, std::future::pending())
            .await
            .expect_err("no group");
        assert_eq!(err.exit_code(), crate::error::exit::CONFLICT);
        assert!(err.to_string().contains("/envctl/shop/x"), "{err}");
        assert!(
            err.hint().unwrap_or_default().contains("envctl up"),
            "{err}"
        );
    }
}
