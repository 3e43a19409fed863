//! Ctrl-C (SIGINT) sent to a running envctl (issue 11, item 7). A proxy in front of moto holds
//! one request, so a step is in flight for as long as the test wants.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::support::proxy::Proxy;
use crate::support::{App, Run, TD_TEMPLATE};

const ENV: &str = "feature-x";

/// A started envctl whose stderr lines the test reads as they come.
struct Watched {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watched {
    fn new(mut child: Child) -> Watched {
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watched {
            child,
            lines,
            seen: vec![],
        }
    }

    /// Reads stderr until a line contains `text` (a minute at most).
    fn wait_for_line(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.seen.iter().any(|l| l.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no stderr line with {text:?} within a minute:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(sent.success());
    }

    /// Waits for the exit; the code and the whole of stderr.
    fn finish(self, args: &[&str]) -> Run {
        let run = Run::finish(self.child, args);
        let mut stderr = self.seen;
        stderr.extend(self.lines.iter());
        Run {
            stderr: stderr.join("\n"),
            ..run
        }
    }
}

/// The first phase of a new env's `up`: its steps all go out at once (apply runs up to 16 at a
/// time), and the services wait for the next phase.
const FIRST_PHASE: [&str; 5] = [
    "CreateLogGroup",
    "CreateHttpNamespace",
    "CreateRepository",
    "RegisterTaskDefinition",
    "CreateScheduleGroup",
];

#[tokio::test]
async fn ctrl_c_during_up_waits_for_the_steps_in_flight_then_exits_130_and_up_finishes_the_job() {
    let app = App::bootstrapped();
    let proxy = Proxy::start(&app.moto.url);
    for op in FIRST_PHASE {
        proxy.hold(op);
    }
    // An option that changes what `up` converges on: the hint repeats it.
    let args = ["up", ENV, "--ttl", "72h"];
    let mut up = Watched::new(app.spawn_via(&proxy.url, &args));
    for op in FIRST_PHASE {
        proxy.wait_for(op, 1);
    }
    up.interrupt();
    up.wait_for_line("interrupted: waiting up to");
    // The calls in flight get their answers within the grace period.
    proxy.release();
    let r = up.finish(&args);
    assert_eq!(r.code, 130, "{r}");
    for step in [
        "create log group /envctl/shop/feature-x (retention 7 days)",
        "create Cloud Map namespace envctl-shop-feature-x (Service Connect)",
        "create ECR repository envctl/shop/feature-x/web",
        "register task definition shop-feature-x-web (new revision)",
    ] {
        assert!(r.stderr.contains(&format!("  … {step}")), "{step}: {r}");
        assert!(
            r.stderr.contains(&format!("  ✓ {step} (finished)")),
            "{step}: {r}"
        );
    }
    assert!(r.stderr.contains("The env is safe"), "{r}");
    assert!(
        r.stderr
            .contains("hint: run `envctl up feature-x --ttl 72h` to finish the job"),
        "{r}"
    );
    // Nothing new started after Ctrl-C: not the next phase's services, nor the schedules.
    let seen = proxy.seen();
    for op in ["CreateService", "CreateSchedule"] {
        assert!(!seen.iter().any(|o| o == op), "{op} in {seen:?}");
    }

    // Running `up` again finishes the job; then there is nothing left to do.
    app.ok(&args);
    app.expect(&["plan", ENV, "--ttl", "72h", "--detailed-exitcode"], 0);
}

#[tokio::test]
async fn a_second_ctrl_c_exits_at_once_without_waiting_for_the_step_in_flight() {
    let app = App::bootstrapped();
    let proxy = Proxy::start(&app.moto.url);
    proxy.hold("CreateService");
    let args = ["up", ENV];
    let mut up = Watched::new(app.spawn_via(&proxy.url, &args));
    proxy.wait_for("CreateService", 1);
    up.interrupt();
    up.wait_for_line("interrupted: waiting up to");
    up.interrupt();
    let r = up.finish(&args);

    assert_eq!(r.code, 130, "{r}");
    assert!(
        r.stderr
            .contains("interrupted again: exiting without waiting"),
        "{r}"
    );
    // envctl is gone while its CreateService is still unanswered.
    assert_eq!(proxy.held(), ["CreateService"]);
    proxy.release();

    app.ok(&["up", ENV]);
    app.expect(&["plan", ENV, "--detailed-exitcode"], 0);
}

/// `run` claims Ctrl-C: it stops the one-off task it started (moto keeps the task RUNNING here)
/// and exits 130 with its own message.
#[tokio::test]
async fn ctrl_c_during_run_still_stops_the_task() {
    let app = App::bootstrapped();
    // moto's RunTask fails (HTTP 500) unless each container has its own `memory`.
    app.edit(
        TD_TEMPLATE,
        "\"essential\": true,",
        "\"essential\": true,\n      \"memory\": {{ memory }},",
    );
    app.ok(&["up", ENV]);
    ureq::post(&format!(
        "{}/moto-api/state-manager/set-transition",
        app.moto.url
    ))
    .set("Content-Type", "application/json")
    .send_string(
        &serde_json::json!({
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": 1000},
        })
        .to_string(),
    )
    .expect("moto state manager");
    app.moto.clear_recording();

    let args = ["run", ENV, "web", "--", "sleep", "600"];
    let mut run = Watched::new(app.spawn_via(&app.moto.url, &args));
    run.wait_for_line("task arn:");
    // Polling (and so watching for Ctrl-C) has begun once the task was described.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !app
        .moto
        .requests()
        .iter()
        .any(|r| r.operation == "DescribeTasks")
    {
        assert!(
            Instant::now() < deadline,
            "no DescribeTasks within a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run.interrupt();
    let r = run.finish(&args);

    assert_eq!(r.code, 130, "{r}");
    assert!(r.stderr.contains("interrupted: stopped task"), "{r}");
    assert!(!r.stderr.contains("The env is safe"), "{r}");
    let stops = app
        .moto
        .requests()
        .into_iter()
        .filter(|r| r.operation == "StopTask")
        .count();
    assert_eq!(stops, 1);
}
