//! `envctl iam-policy`: docs/iam.md embeds what it prints (a test fails when they differ; run it
//! with `UPDATE_DOCS=1` to rewrite the blocks), and the `up` policy grants every action `up`
//! really calls on the emulator. moto enforces no IAM, so the recorded requests are what shows a
//! gap before a real caller meets AccessDenied.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{offline, repo_root, App, Run};

const FOR: [&str; 6] = ["up", "down", "gc", "ci", "janitor", "cost"];

/// The app docs/iam.md shows: `init --app shop`, `web` public with preview URLs, and `api` built
/// by CodeBuild, so every kind of statement appears.
const DOC_EXTRA: &str = "\n[services.api]\ncpu = 256\nmemory = 512\nport = 8080\n\n[services.api.build]\npreset = \"npm\"\nrepository_url = \"https://github.com/acme/shop.git\"\n\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n";

fn make_public(dir: &std::path::Path, extra: &str) {
    let path = dir.join("envctl.toml");
    let text = std::fs::read_to_string(&path).expect("envctl.toml");
    let text = text.replacen("\n[services.web]\n", "\n[services.web]\npublic = true\n", 1);
    std::fs::write(&path, format!("{text}{extra}")).expect("write envctl.toml");
}

fn generated(dir: &std::path::Path, command: &str) -> String {
    let r = Run::of(
        offline(dir),
        &[
            "iam-policy",
            "--for",
            command,
            "--account",
            "123456789012",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.is_empty(), "no placeholders: {r}");
    r.stdout
}

fn markers(command: &str) -> (String, String) {
    (
        format!("<!-- generated: envctl iam-policy --for {command} -->\n```json\n"),
        "```\n<!-- end generated -->".to_string(),
    )
}

#[test]
fn docs_iam_md_embeds_the_generated_policies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = Run::of(offline(dir.path()), &["init", "--app", "shop"]);
    assert_eq!(r.code, 0, "{r}");
    make_public(dir.path(), DOC_EXTRA);
    let doc_path = repo_root().join("docs/iam.md");
    let mut doc = std::fs::read_to_string(&doc_path).expect("docs/iam.md");
    let update = std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for command in FOR {
        let policy = generated(dir.path(), command);
        let (open, close) = markers(command);
        let start = doc
            .find(&open)
            .unwrap_or_else(|| panic!("docs/iam.md has no block `{open}`"))
            + open.len();
        let end = start
            + doc[start..]
                .find(&close)
                .unwrap_or_else(|| panic!("the block for {command} is not closed"));
        if doc[start..end] != policy {
            stale.push(command);
            doc.replace_range(start..end, &policy);
        }
    }
    if update {
        std::fs::write(&doc_path, &doc).expect("write docs/iam.md");
        return;
    }
    assert!(
        stale.is_empty(),
        "docs/iam.md differs from `envctl iam-policy` for {stale:?}: run \
         `UPDATE_DOCS=1 cargo test --test testsuite iam_policy::` and commit the result"
    );
}

fn actions(policy: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for st in policy["Statement"].as_array().expect("statements") {
        match &st["Action"] {
            Value::Array(a) => out.extend(a.iter().filter_map(|x| x.as_str()).map(String::from)),
            Value::String(a) => {
                out.insert(a.clone());
            }
            other => panic!("Action is {other}"),
        }
    }
    out
}

#[test]
fn up_policy_grants_every_action_up_plan_and_params_read_call() {
    let app = App::init();
    make_public(
        app.path(),
        "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n",
    );
    app.ok(&["bootstrap"]);
    let policy: Value =
        serde_json::from_str(&app.ok(&["iam-policy", "--for", "up"]).stdout).expect("JSON");
    let granted = actions(&policy);
    app.ok(&[
        "params",
        "set",
        "feature-x",
        "API_URL=https://api.example.test",
    ]);
    app.set_secret("feature-x", "DB_PASSWORD", "s3cret");

    app.moto.clear_recording();
    // A new env, a changed one, one whose service left the config, and a plan.
    app.ok(&["up", "feature-x"]);
    app.ok(&[
        "up",
        "feature-x",
        "--image",
        "web=public.ecr.aws/nginx/nginx:1.26-alpine",
        "--ttl",
        "never",
    ]);
    app.ok(&["plan", "feature-x"]);
    let called = called_actions(&app);
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "up/plan call actions `iam-policy --for up` does not grant: {missing:?}"
    );
    assert!(called.contains("ecs:CreateService"), "{called:?}");
    assert!(
        called.contains("elasticloadbalancing:CreateRule"),
        "{called:?}"
    );

    // The CI role runs up, down and gc: it gets both tables.
    let ci: Value =
        serde_json::from_str(&app.ok(&["iam-policy", "--for", "ci"]).stdout).expect("JSON");
    let gc: Value =
        serde_json::from_str(&app.ok(&["iam-policy", "--for", "gc"]).stdout).expect("JSON");
    let ci = actions(&ci);
    assert!(granted.is_subset(&ci) && actions(&gc).is_subset(&ci));
    let sids = ci_sids(&app);
    let unique: BTreeSet<&String> = sids.iter().collect();
    assert_eq!(
        unique.len(),
        sids.len(),
        "statement ids are unique: {sids:?}"
    );
}

/// The IAM actions of every request the emulator recorded since the last clear.
fn called_actions(app: &App) -> BTreeSet<String> {
    app.moto
        .requests()
        .iter()
        .filter(|r| !r.url.contains("/moto-api/"))
        .map(|r| r.iam_action())
        .collect()
}

fn ci_sids(app: &App) -> Vec<String> {
    let ci: Value =
        serde_json::from_str(&app.ok(&["iam-policy", "--for", "ci"]).stdout).expect("JSON");
    ci["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn bad_account_is_an_input_error_and_placeholders_are_announced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = Run::of(offline(dir.path()), &["init", "--app", "shop"]);
    assert_eq!(r.code, 0, "{r}");
    let r = Run::of(offline(dir.path()), &["iam-policy", "--account", "12"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stderr.contains("not a 12-digit AWS account id"), "{r}");
    let r = Run::of(offline(dir.path()), &["iam-policy", "--for", "down"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stderr.contains("account 123456789012 (pass --account)")
            && r.stderr.contains("region eu-west-1 (pass --region)"),
        "{r}"
    );
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert!(actions(&v).contains("ecs:DeleteService"));
}

#[test]
fn cost_policy_grants_every_action_cost_ls_and_actual_call_and_nothing_that_writes() {
    let app = App::init();
    make_public(
        app.path(),
        "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n",
    );
    app.ok(&["bootstrap"]);
    app.ok(&["up", "feature-x"]);
    app.moto.queue_cost_and_usage(vec![serde_json::json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"},
            "Total": {},
            "Groups": [{"Keys": ["envctl:env$feature-x"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}}],
            "Estimated": false
        }],
        "DimensionValueAttributes": []
    })]);
    let policy: Value =
        serde_json::from_str(&app.ok(&["iam-policy", "--for", "cost"]).stdout).expect("JSON");
    let granted = actions(&policy);

    app.moto.clear_recording();
    app.ok(&["cost"]);
    app.ok(&["cost", "feature-x", "--explain"]);
    app.ok(&["cost", "--actual"]);
    app.ok(&["ls"]);
    let called = called_actions(&app);
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "cost/ls call actions `iam-policy --for cost` does not grant: {missing:?}"
    );
    assert!(called.contains("ce:GetCostAndUsage"), "{called:?}");
    // Least privilege: with previews on, every granted action is one of these commands' calls.
    let unused: Vec<&String> = granted.difference(&called).collect();
    assert!(unused.is_empty(), "granted but never called: {unused:?}");
    // Read-only: no action of the policy writes.
    let writes: Vec<&String> = granted
        .iter()
        .filter(|a| {
            let op = a.split(':').nth(1).unwrap_or_default();
            !["Describe", "List", "Get"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect();
    assert!(writes.is_empty(), "the cost policy writes: {writes:?}");
}
