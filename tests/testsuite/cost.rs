//! `envctl cost` against the emulator: the estimate of one env and of the fleet from what AWS
//! holds (counts, stop state) and the rendered model (sizes, schedules), and `--actual` from
//! Cost Explorer, whose replies moto serves from a queue the test fills (moto tracks no costs).

use serde_json::{json, Value};

use crate::support::App;

fn env<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["envs"]
        .as_array()
        .expect("envs")
        .iter()
        .find(|e| e["env"] == name)
        .unwrap_or_else(|| panic!("no env {name} in {v:#}"))
}

#[test]
fn cost_of_one_env_reads_only_and_shows_spot_at_a_tenth_of_always_on() {
    let app = App::bootstrapped();
    app.ok(&["up", "feature-x"]);
    app.moto.clear_recording();
    let r = app.ok(&["cost", "feature-x", "--output", "json"]);
    assert!(
        app.moto.writes().is_empty(),
        "cost wrote: {:?}",
        app.moto.write_ops()
    );
    let v = r.json();
    assert_eq!(v["scope"], "env");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["shared"], json!([]));
    let e = env(&v, "feature-x");
    assert_eq!(e["state"], "running");
    assert_eq!(e["services"][0]["service"], "web");
    assert_eq!(e["services"][0]["tasks"], 1);
    assert_eq!(e["services"][0]["spot_tasks"], 1.0);
    assert_eq!(e["services"][0]["vcpu"], 0.25);
    assert_eq!(e["services"][0]["memory_gb"], 0.5);
    // The init config: Spot, weekdays 08:00-20:00 (60 of 168 hours).
    let percent = e["percent_of_always_on"].as_f64().expect("number");
    assert!((10.0..=12.5).contains(&percent), "{percent}% in {v:#}");
    assert!(e["next_stop"].as_str().expect("next stop").ends_with('Z'));
    assert!(
        v.get("explain").is_none(),
        "explain lines only with --explain"
    );
    let explained = app
        .ok(&["cost", "feature-x", "--explain", "--output", "json"])
        .json();
    assert!(explained["explain"][0]
        .as_str()
        .expect("lines")
        .starts_with("window: "));

    let r = app.ok(&["cost", "feature-x", "--explain"]);
    assert!(r.stdout.contains("web: 1 task(s) × 0.25 vCPU × "), "{r}");
    assert!(
        r.stdout.contains(
            "always on, on-demand: 1 × 730 h × (0.25 × $0.04048 + 0.5 × $0.004445) = $9.01"
        ),
        "{r}"
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("feature-x  running")),
        "{r}"
    );
    assert!(
        r.stderr.contains("as of 2026-12-02 (embedded price table)"),
        "{r}"
    );
}

#[test]
fn fleet_cost_counts_every_env_and_a_stopped_one_costs_nothing_until_it_starts() {
    let app = App::bootstrapped();
    // Always on (no schedules) with three tasks, then stopped by hand.
    // moto runs one task per service at most: do not wait for three.
    app.ok(&[
        "up",
        "lt-1",
        "--always-on",
        "--no-wait",
        "--set",
        "services.web.count=3",
    ]);
    app.ok(&["up", "feature-x"]);
    app.ok(&["stop", "lt-1"]);
    let v = app.ok(&["cost", "--output", "json"]).json();
    assert_eq!(v["scope"], "fleet");
    assert_eq!(v["envs"].as_array().expect("envs").len(), 2, "{v:#}");
    let lt = env(&v, "lt-1");
    assert_eq!(lt["state"], "stopped");
    // The count `stop` recorded, not the config's 1.
    assert_eq!(lt["services"][0]["tasks"], 3);
    assert_eq!(lt["month"], 0.0);
    let fx = env(&v, "feature-x");
    assert!(fx["month"].as_f64().expect("number") > 0.0);
    // No preview ALB and no janitor in this app: nothing shared.
    assert_eq!(v["shared"], json!([]));
    assert_eq!(v["total"]["month"], fx["month"]);

    let r = app.ok(&["cost"]);
    assert!(r.stdout.lines().any(|l| l.starts_with("TOTAL")), "{r}");
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("lt-1") && l.contains("stopped")),
        "{r}"
    );
}

#[test]
fn prices_for_another_region_come_from_a_prices_file() {
    let app = App::bootstrapped();
    app.ok(&["up", "feature-x"]);
    // An unknown region is bad input naming --prices, before any AWS call.
    app.moto.clear_recording();
    let r = app.expect(&["cost", "feature-x", "--region", "ap-south-2"], 3);
    assert!(
        r.stderr.contains("no prices for region `ap-south-2`"),
        "{r}"
    );
    assert!(r.stderr.contains("--prices FILE"), "{r}");
    assert!(
        app.moto.aws_operations().is_empty(),
        "{:?}",
        app.moto.aws_operations()
    );
    // The same table with doubled Fargate prices doubles the figures.
    let embedded = include_str!("../../src/cost/prices.toml");
    let doubled = embedded
        .replace("fargate_vcpu_hour = 0.04048", "fargate_vcpu_hour = 0.08096")
        .replace("fargate_gb_hour = 0.004445", "fargate_gb_hour = 0.00889");
    std::fs::write(app.path().join("prices.toml"), doubled).expect("write prices");
    let base = app.ok(&["cost", "feature-x", "--output", "json"]).json();
    let twice = app
        .ok(&[
            "cost",
            "feature-x",
            "--prices",
            "prices.toml",
            "--output",
            "json",
        ])
        .json();
    let f = |v: &Value| {
        env(v, "feature-x")["always_on_on_demand_month"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (f(&twice) - 2.0 * f(&base)).abs() < 0.001,
        "{base:#} {twice:#}"
    );
    assert_eq!(twice["prices"]["origin"], "prices.toml");
    let bad = app.expect(&["cost", "--prices", "nope.toml"], 3);
    assert!(bad.stderr.contains("--prices nope.toml"), "{bad}");
}

#[test]
fn actual_costs_come_from_cost_explorer_grouped_by_the_env_tag() {
    let app = App::bootstrapped();
    app.moto.queue_cost_and_usage(vec![json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"},
            "Total": {},
            "Groups": [
                {"Keys": ["envctl:env$feature-x"], "Metrics": {"UnblendedCost": {"Amount": "1.2345", "Unit": "USD"}}},
                {"Keys": ["envctl:env$pr-12"], "Metrics": {"UnblendedCost": {"Amount": "0.5", "Unit": "USD"}}},
                {"Keys": ["envctl:env$"], "Metrics": {"UnblendedCost": {"Amount": "16.4", "Unit": "USD"}}}
            ],
            "Estimated": true
        }],
        "DimensionValueAttributes": []
    })]);
    let r = app.ok(&["cost", "--actual", "--output", "json"]);
    let v = r.json();
    assert_eq!(
        v["envs"],
        json!([{"env": "feature-x", "amount": 1.2345}, {"env": "pr-12", "amount": 0.5}])
    );
    assert_eq!(v["untagged"], 16.4);
    assert_eq!(v["total"], 18.1345);
    assert_eq!(v["estimated"], true);
    assert_eq!(v["metric"], "UnblendedCost");
    // What envctl asked: the app's tag as the filter, grouped by the env tag, one call.
    let calls: Vec<_> = app
        .moto
        .requests()
        .into_iter()
        .filter(|r| r.operation == "GetCostAndUsage")
        .collect();
    assert_eq!(calls.len(), 1);
    let body = calls[0].json();
    assert_eq!(
        body["GroupBy"],
        json!([{"Type": "TAG", "Key": "envctl:env"}])
    );
    assert_eq!(body["Filter"]["Tags"]["Key"], "envctl:app");
    assert_eq!(body["Filter"]["Tags"]["Values"], json!(["shop"]));

    // Nothing queued for a new request: moto answers no data, which says to activate the tag.
    let r = app.ok(&["cost", "feature-x", "--actual", "--days", "7"]);
    assert!(r.stdout.contains("TOTAL"), "{r}");
    assert!(app
        .moto
        .requests()
        .iter()
        .filter(|r| r.operation == "GetCostAndUsage")
        .any(|r| r.json()["Filter"]["And"].is_array()));
}

#[test]
fn the_preview_alb_bootstrap_made_is_one_shared_fleet_line_not_part_of_an_env() {
    let app = App::init();
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml");
    let text = text.replacen("\n[services.web]\n", "\n[services.web]\npublic = true\n", 1);
    std::fs::write(
        &path,
        format!("{text}\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n"),
    )
    .expect("write envctl.toml");
    app.ok(&["bootstrap"]);
    app.ok(&["up", "feature-x"]);
    let fleet = app.ok(&["cost", "--output", "json"]).json();
    assert_eq!(fleet["shared"][0]["item"], "preview ALB", "{fleet:#}");
    // 730 h × ($0.0225 + 1 LCU × $0.008) in us-east-1.
    assert_eq!(fleet["shared"][0]["month"], 22.265);
    let one = app.ok(&["cost", "feature-x", "--output", "json"]).json();
    assert_eq!(one["shared"], json!([]));
    // Two runs a moment apart: the env's hours may differ by a few seconds' worth.
    let own = env(&one, "feature-x")["month"].as_f64().unwrap();
    let total = fleet["total"]["month"].as_f64().unwrap();
    assert!(
        (total - (own + 22.265)).abs() < 0.001,
        "{total} vs {own} + 22.265"
    );
}
