//! `envctl logs` against moto: events put into the env's log group with the SDK, in streams
//! named the way the awslogs driver names them (`<service>/<container>/<task id>`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::support::App;

const ENV: &str = "feature-x";
const GROUP: &str = "/envctl/shop/feature-x";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// `init` plus a second service, `worker`, so the two prefixes differ in length.
fn two_services() -> App {
    let app = App::init();
    let mut cfg = std::fs::read_to_string(app.path().join("envctl.toml")).expect("config");
    cfg.push_str("\n[services.worker]\nimage = \"public.ecr.aws/docker/library/busybox:1.36\"\n");
    std::fs::write(app.path().join("envctl.toml"), cfg).expect("write config");
    app
}

fn logs_client(app: &App) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&app.moto.sdk_config())
}

/// Writes `(ms, message)` events to `stream` (created if needed) of the env's group.
async fn put(app: &App, stream: &str, events: &[(i64, &str)]) {
    let logs = logs_client(app);
    let _ = logs.create_log_group().log_group_name(GROUP).send().await;
    let _ = logs
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .send()
        .await;
    let mut req = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream);
    for (ts, msg) in events {
        req = req.log_events(
            InputLogEvent::builder()
                .timestamp(*ts)
                .message(*msg)
                .build()
                .expect("log event"),
        );
    }
    req.send().await.expect("put log events");
}

const WEB: &str = "web/web/1111aaaa";
const WORKER: &str = "worker/worker/2222bbbb";

/// Two services' lines, interleaved in time, plus one too old for the default `--since`.
async fn seeded() -> (App, i64) {
    let app = two_services();
    let t = now_ms() - 5 * 60_000;
    put(
        &app,
        WEB,
        &[
            (t - 30 * 60_000, "web old"),
            (t, "web one"),
            (t + 2000, "web ERROR two"),
        ],
    )
    .await;
    put(
        &app,
        WORKER,
        &[(t + 1000, "worker one"), (t + 3000, "worker ERROR two")],
    )
    .await;
    (app, t)
}

#[tokio::test]
async fn lines_of_all_services_are_interleaved_by_time_and_prefixed() {
    let (app, _) = seeded().await;
    let r = app.ok(&["logs", ENV]);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "web    | web one",
            "worker | worker one",
            "web    | web ERROR two",
            "worker | worker ERROR two",
        ],
        "{r}"
    );
    // One search over the whole group, from 10 minutes ago.
    let searches: Vec<_> = app
        .moto
        .requests()
        .into_iter()
        .filter(|q| q.operation == "FilterLogEvents")
        .collect();
    assert_eq!(searches.len(), 1);
    let body = searches[0].json();
    assert_eq!(body["logGroupName"], GROUP);
    assert!(body.get("logStreamNamePrefix").is_none(), "{body}");
    let start = body["startTime"].as_i64().expect("startTime");
    assert!((now_ms() - 10 * 60_000 - start).abs() < 60_000, "{body}");
}

#[tokio::test]
async fn service_filter_and_since_narrow_the_lines() {
    let (app, t) = seeded().await;
    let r = app.ok(&["logs", ENV, "--service", "worker"]);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["worker | worker one", "worker | worker ERROR two"],
        "{r}"
    );
    let body = app
        .moto
        .requests()
        .into_iter()
        .rfind(|q| q.operation == "FilterLogEvents")
        .expect("a search")
        .json();
    assert_eq!(body["logStreamNamePrefix"], "worker/", "{body}");

    let r = app.ok(&["logs", ENV, "--filter", "ERROR"]);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["web    | web ERROR two", "worker | worker ERROR two"],
        "{r}"
    );

    let r = app.ok(&["logs", ENV, "--service", "web", "--since", "1h"]);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["web | web old", "web | web one", "web | web ERROR two"],
        "{r}"
    );
    let since = jiff::Timestamp::from_millisecond(t + 1500)
        .unwrap()
        .to_string();
    let r = app.ok(&["logs", ENV, "--since", &since]);
    assert_eq!(r.stdout.lines().count(), 2, "{r}");

    let r = app.expect(&["logs", ENV, "--since", "yesterday"], 3);
    assert!(r.stderr.contains("--since"), "{r}");
}

#[tokio::test]
async fn json_output_is_one_object_per_line() {
    let (app, t) = seeded().await;
    let r = app.ok(&["logs", ENV, "--output", "json", "--service", "web"]);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{r}")))
        .collect();
    assert_eq!(lines.len(), 2, "{r}");
    let want = jiff::Timestamp::from_millisecond(t)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    assert_eq!(
        lines[0],
        serde_json::json!({"timestamp": want, "service": "web", "stream": WEB, "message": "web one"})
    );
}

#[tokio::test]
async fn an_unknown_service_is_an_input_error_before_any_aws_call() {
    let app = two_services();
    app.moto.clear_recording();
    let r = app.expect(&["logs", ENV, "--service", "db"], 3);
    assert!(r.stderr.contains("`db`"), "{r}");
    assert!(r.stderr.contains("web, worker"), "{r}");
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[tokio::test]
async fn an_env_without_a_log_group_is_not_up() {
    let app = two_services();
    let r = app.expect(&["logs", ENV], 4);
    assert!(
        r.stderr.contains(GROUP) && r.stderr.contains("not up"),
        "{r}"
    );
    assert!(!r.stderr.contains("ResourceNotFoundException"), "{r}");
}

#[tokio::test]
async fn follow_shows_new_lines_and_ctrl_c_exits_0() {
    let (app, _) = seeded().await;
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("envctl"));
    cmd.current_dir(app.path())
        .args(["logs", ENV, "-f", "--service", "web"])
        .env("ENVCTL_POLL_INTERVAL_MS", "200")
        .env_remove("ENVCTL_CONFIG")
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in app.moto.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start envctl logs -f");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a line within 30 s")
    };
    assert_eq!(next(), "web | web one");
    assert_eq!(next(), "web | web ERROR two");

    put(&app, WEB, &[(now_ms(), "web three")]).await;
    assert_eq!(next(), "web | web three");
    // Nothing is shown twice on the following polls.
    assert!(rx.recv_timeout(Duration::from_millis(800)).is_err());

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("envctl exits");
    assert_eq!(status.code(), Some(0), "Ctrl-C ends --follow cleanly");
}
