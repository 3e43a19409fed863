//! The everyday commands of issue 14: `validate` (offline), config discovery from a
//! subdirectory, `params import` and multi-line `params set --secure`, `rollback`, `open` and
//! `status --watch`, against the emulator where AWS is involved.
//!
//! moto routes no traffic, so `open` is shown with `$BROWSER` set to a script that records the
//! URL it is handed, not with a browser.

use std::time::{Duration, Instant};

use crate::support::{offline, ops, App, Run, TD_TEMPLATE};

const ENV: &str = "feature-x";
const SERVICE: &str = "shop-feature-x-web";

/// A directory with what `envctl init --app shop` writes, made without AWS.
fn offline_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = Run::of(offline(dir.path()), &["init", "--app", "shop"]);
    assert_eq!(r.code, 0, "{r}");
    dir
}

/// envctl with no credentials, no region and an endpoint that refuses every connection: any
/// AWS call would fail.
fn no_aws(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = offline(dir);
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-such-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-such-aws-credentials"),
        );
    cmd
}

/// The `error:` and `hint:` lines of a run.
fn error_lines(r: &Run) -> Vec<&str> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("hint:"))
        .collect()
}

#[test]
fn validate_passes_a_good_config_with_no_credentials_and_no_network() {
    let dir = offline_app();
    let started = Instant::now();
    let r = Run::of(no_aws(dir.path()), &["validate", ENV]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no call was tried"
    );
    assert!(
        r.stdout
            .contains("ok       templates: 1 service(s) rendered for env `feature-x`"),
        "{r}"
    );
    assert!(r.stdout.contains("skipped  default VPC lookup"), "{r}");
    assert!(
        r.stderr
            .contains("envctl.toml is valid for env `feature-x`"),
        "{r}"
    );
    // JSON, and without an env outside a git repository.
    let r = Run::of(no_aws(dir.path()), &["validate", "--output", "json"]);
    assert_eq!(r.code, 0, "{r}");
    let v = r.json();
    assert_eq!(v["services"], serde_json::json!(["web"]));
    assert!(v["skipped"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn validate_refuses_what_up_refuses_with_the_same_message() {
    let app = App::bootstrapped();
    app.edit(TD_TEMPLATE, "\"cpu\": \"{{ cpu }}\"", "\"cpu\": \"abc\"");
    let up = app.expect(&["up", ENV], 3);
    let validate = Run::of(no_aws(app.path()), &["validate", ENV]);
    assert_eq!(validate.code, 3, "{validate}");
    assert!(!error_lines(&up).is_empty(), "{up}");
    assert_eq!(error_lines(&validate), error_lines(&up));

    // A config error: the same too (and no AWS call is needed to find it).
    app.edit(TD_TEMPLATE, "\"cpu\": \"abc\"", "\"cpu\": \"{{ cpu }}\"");
    app.edit("envctl.toml", "cpu = 256", "cpu = 300");
    let up = app.expect(&["up", ENV], 3);
    let validate = Run::of(no_aws(app.path()), &["validate", ENV]);
    assert_eq!(validate.code, 3, "{validate}");
    assert_eq!(error_lines(&validate), error_lines(&up));

    // An undefined template variable.
    app.edit("envctl.toml", "cpu = 300", "cpu = 256");
    app.edit(TD_TEMPLATE, "{{ image | tojson }}", "{{ imagee | tojson }}");
    let up = app.expect(&["up", ENV], 3);
    let validate = Run::of(no_aws(app.path()), &["validate", ENV]);
    assert_eq!(validate.code, 3, "{validate}");
    assert_eq!(error_lines(&validate), error_lines(&up));
}

#[test]
fn commands_find_the_config_from_a_subdirectory_and_templates_stay_relative_to_it() {
    let dir = offline_app();
    let deep = dir.path().join("services/web/src");
    std::fs::create_dir_all(&deep).expect("dirs");
    let r = Run::of(no_aws(&deep), &["validate", ENV]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("../../../envctl.toml is valid"), "{r}");
    // --config (and ENVCTL_CONFIG) stay exact: no search.
    let r = Run::of(no_aws(&deep), &["validate", ENV, "--config", "envctl.toml"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(r.stderr.contains("envctl.toml: cannot read"), "{r}");
}

#[test]
fn no_config_in_any_parent_names_the_start_directory_and_init() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = Run::of(no_aws(dir.path()), &["validate", ENV]);
    assert_eq!(r.code, 3, "{r}");
    let start = dir.path().canonicalize().expect("canonical");
    assert!(
        r.stderr.contains(&format!(
            "not found in {} or any directory above it",
            start.display()
        )),
        "{r}"
    );
    assert!(
        r.stderr.contains("hint: run `envctl init --app NAME`"),
        "{r}"
    );
}

async fn parameter(app: &App, name: &str) -> (String, String) {
    let ssm = aws_sdk_ssm::Client::new(&app.moto.sdk_config());
    let p = ssm
        .get_parameter()
        .name(format!("/envctl/shop/env/feature-x/{name}"))
        .with_decryption(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let p = p.parameter().expect("parameter");
    (
        p.r#type().expect("type").as_str().to_string(),
        p.value().expect("value").to_string(),
    )
}

const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n\n-----END CERTIFICATE-----";

#[tokio::test]
async fn params_import_sets_a_dotenv_file_with_secure_keys_and_never_prints_them() {
    let app = App::bootstrapped();
    let file = app.path().join(".env");
    std::fs::write(
        &file,
        format!(
            "# app settings\nexport API_URL=https://api.example.test # the API\nGREETING='hello world'\nDB_PASSWORD=\"s3cr3t-\\\"quoted\\\"\"\nTLS_CERT=\"{CERT}\"\n"
        ),
    )
    .expect("write .env");
    let r = app.ok(&[
        "params",
        "import",
        ENV,
        "--file",
        ".env",
        "--secure-keys",
        "DB_PASSWORD,TLS_CERT",
    ]);
    for secret in ["s3cr3t", "MIIBszCCAVmgAwIBAgIU"] {
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "printed a secret:\n{r}"
        );
    }
    assert!(
        r.stderr
            .contains("+ /envctl/shop/env/feature-x/DB_PASSWORD (SecureString)"),
        "{r}"
    );
    assert!(r.stderr.contains("4 created, 0 updated"), "{r}");
    assert_eq!(
        parameter(&app, "API_URL").await,
        ("String".into(), "https://api.example.test".into())
    );
    assert_eq!(
        parameter(&app, "GREETING").await,
        ("String".into(), "hello world".into())
    );
    assert_eq!(
        parameter(&app, "DB_PASSWORD").await,
        ("SecureString".into(), "s3cr3t-\"quoted\"".into())
    );
    assert_eq!(
        parameter(&app, "TLS_CERT").await,
        ("SecureString".into(), CERT.into())
    );
    // Again: every one is an update.
    let r = app.ok(&[
        "params",
        "import",
        ENV,
        "--file",
        ".env",
        "--secure-keys",
        "DB_PASSWORD,TLS_CERT",
    ]);
    assert!(r.stderr.contains("0 created, 4 updated"), "{r}");
}

#[test]
fn params_import_refuses_a_bad_file_before_any_write() {
    let app = App::bootstrapped();
    std::fs::write(app.path().join("dup.env"), "A=1\nB=2\nA=3\n").expect("write");
    std::fs::write(app.path().join("ok.env"), "A=1\n").expect("write");
    app.moto.clear_recording();
    let r = app.expect(&["params", "import", ENV, "--file", "dup.env"], 3);
    assert!(
        r.stderr
            .contains("error: dup.env:3: `A` is set again (first set on line 1)"),
        "{r}"
    );
    let r = app.expect(
        &[
            "params",
            "import",
            ENV,
            "--file",
            "ok.env",
            "--secure-keys",
            "NOPE",
        ],
        3,
    );
    assert!(
        r.stderr
            .contains("--secure-keys names NOPE not set in ok.env"),
        "{r}"
    );
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new());
}

#[tokio::test]
async fn params_set_secure_reads_a_multi_line_value_from_a_pipe_byte_exact() {
    let app = App::bootstrapped();
    // One trailing newline is dropped (what `echo` and heredocs add); the rest is kept.
    let piped = format!("{CERT}\n\n");
    let r = app.run_with(
        &["params", "set", ENV, "TLS_CERT", "--secure"],
        Some(&piped),
    );
    assert_eq!(r.code, 0, "{r}");
    assert!(
        !r.stdout.contains("MIIB") && !r.stderr.contains("MIIB"),
        "{r}"
    );
    assert_eq!(
        parameter(&app, "TLS_CERT").await,
        ("SecureString".into(), format!("{CERT}\n"))
    );
}

async fn task_definition_of(app: &App) -> String {
    app.service(SERVICE)
        .await
        .task_definition()
        .expect("task definition")
        .rsplit('/')
        .next()
        .expect("name")
        .to_string()
}

#[tokio::test]
async fn rollback_redeploys_the_previous_revision_and_up_rolls_forward() {
    let app = App::bootstrapped();
    // First revision: nothing to roll back to.
    app.ok(&["up", ENV]);
    let r = app.expect(&["rollback", ENV], 4);
    assert!(r.stderr.contains("no earlier ACTIVE revision"), "{r}");
    app.ok(&[
        "up",
        ENV,
        "--image",
        "web=public.ecr.aws/nginx/nginx:1.26-alpine",
    ]);
    assert_eq!(task_definition_of(&app).await, format!("{SERVICE}:2"));

    app.moto.clear_recording();
    let r = app.ok(&["rollback", ENV]);
    assert!(
        r.stderr
            .contains(&format!("~ web: {SERVICE}:2 -> {SERVICE}:1")),
        "{r}"
    );
    assert!(
        r.stderr
            .contains("the next `envctl up feature-x` rolls forward"),
        "{r}"
    );
    assert_eq!(ops(&app.moto.writes()), ["UpdateService"]);
    assert_eq!(task_definition_of(&app).await, format!("{SERVICE}:1"));

    // The given revision, by number for all services.
    let r = app.ok(&["rollback", ENV, "--to", "2", "--output", "json"]);
    assert_eq!(r.json()["plan"]["steps"][0]["to"], format!("{SERVICE}:2"));
    assert_eq!(task_definition_of(&app).await, format!("{SERVICE}:2"));

    // Back on :1 (nginx 1.27), the next `up` with the newer image rolls forward to what it
    // renders, and then there is nothing left to do.
    app.ok(&["rollback", ENV, "--to", "web:1"]);
    let newer = "web=public.ecr.aws/nginx/nginx:1.26-alpine";
    let r = app.run(&["plan", ENV, "--image", newer, "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r}");
    app.ok(&["up", ENV, "--image", newer]);
    assert_eq!(task_definition_of(&app).await, format!("{SERVICE}:2"));
    let r = app.run(&["plan", ENV, "--image", newer, "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r}");
}

#[tokio::test]
async fn rollback_refuses_a_revision_envctl_does_not_own_and_writes_nothing() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    // Someone registers a revision in the env's family by hand, without envctl's tags.
    app.ecs()
        .register_task_definition()
        .family(SERVICE)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("example.com/not-envctl:1")
                .build(),
        )
        .send()
        .await
        .expect("register a foreign revision");
    app.moto.clear_recording();
    let r = app.expect(&["rollback", ENV, "--to", "web:2"], 4);
    assert!(r.stderr.contains(&format!("{SERVICE}:2")), "{r}");
    let r2 = app.expect(&["rollback", ENV, "--to", "web:9"], 3);
    assert!(r2.stderr.contains("does not exist"), "{r2}");
    let r3 = app.expect(&["rollback", ENV, "--to", "api:1"], 3);
    assert!(r3.stderr.contains("its services are: web"), "{r3}");
    assert_eq!(ops(&app.moto.writes()), Vec::<&str>::new(), "{r}");
    assert_eq!(task_definition_of(&app).await, format!("{SERVICE}:1"));
}

const PREVIEW: &str = "\n[preview]\nenabled = true\ndomain = \"preview.example.test\"\n";

#[test]
fn open_hands_the_preview_url_to_the_browser_or_prints_it() {
    let app = App::init();
    app.edit(
        "envctl.toml",
        "\n[services.web]\n",
        "\n[services.web]\npublic = true\n",
    );
    let text = std::fs::read_to_string(app.path().join("envctl.toml")).expect("config");
    std::fs::write(app.path().join("envctl.toml"), format!("{text}{PREVIEW}")).expect("write");
    app.ok(&["bootstrap"]);
    app.ok(&["up", ENV]);
    let url = "http://feature-x.preview.example.test/";

    let r = app.ok(&["open", ENV, "--print"]);
    assert_eq!(r.stdout.trim(), url, "{r}");

    // $BROWSER gets the URL as its last argument.
    let seen = app.path().join("browser-saw");
    let script = app.path().join("browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$*\" > '{}'\n", seen.display()),
    )
    .expect("script");
    let mut cmd = app.envctl();
    cmd.env("BROWSER", format!("sh {} --new-tab", script.display()));
    let r = Run::of(cmd, &["open", ENV]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(
        std::fs::read_to_string(&seen).expect("the browser ran"),
        format!("--new-tab {url}")
    );

    // doctor counts the env's rule and target group against the account's ALB limits.
    let r = app.run(&["doctor", "--output", "json"]);
    let quotas: Vec<serde_json::Value> = r.json()["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["name"] == "quotas")
        .cloned()
        .collect();
    assert_eq!(quotas.len(), 1, "{r}");
    assert_eq!(quotas[0]["level"], "ok", "{r}");
    let message = quotas[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("listener rules 1/") && message.contains("target groups 1/"),
        "{r}"
    );

    // An env that was never brought up has no URL.
    let r = app.expect(&["open", "other-env", "--print"], 4);
    assert!(
        r.stderr.contains("env `other-env` has no preview URL"),
        "{r}"
    );
}

#[test]
fn open_without_previews_is_an_input_error_naming_the_fix() {
    let app = App::bootstrapped();
    app.moto.clear_recording();
    let r = app.expect(&["open", ENV, "--print"], 3);
    assert!(r.stderr.contains("previews are off in envctl.toml"), "{r}");
    assert!(r.stderr.contains("[preview] enabled = true"), "{r}");
    assert!(app.moto.requests().is_empty(), "no AWS call");
}

#[test]
fn status_watch_on_a_pipe_prints_each_change_once_and_ctrl_c_exits_0() {
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("envctl"));
    cmd.current_dir(app.path())
        .args(["status", ENV, "--watch", "--interval", "1"]);
    for (k, v) in app.moto.env() {
        cmd.env(k, v);
    }
    let child = cmd
        .env_remove("ENVCTL_CONFIG")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start status --watch");
    // Several refreshes of an unchanged env.
    std::thread::sleep(Duration::from_millis(3500));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let r = Run::finish(child, &["status", "--watch"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(
        r.stdout.matches("schedule stop-web").count(),
        1,
        "one snapshot for an env that did not change:\n{r}"
    );
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no screen clearing on a pipe:\n{r}"
    );
}

/// `doctor --output json` in the app, with `extra_path` first on PATH.
fn doctor(app: &App, extra_path: &std::path::Path) -> (Run, serde_json::Value) {
    let path = std::env::join_paths(std::iter::once(extra_path.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut cmd = app.envctl();
    cmd.env("PATH", path);
    let r = Run::of(cmd, &["doctor", "--output", "json"]);
    let v = r.json();
    (r, v)
}

fn levels(report: &serde_json::Value, name: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["name"] == name)
        .map(|c| c["level"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn doctor_passes_a_bootstrapped_app_and_reads_only() {
    let app = App::bootstrapped();
    let bin = app.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::fs::write(bin.join("session-manager-plugin"), "#!/bin/sh\n").expect("plugin");
    app.moto.clear_recording();
    let (r, v) = doctor(&app, &bin);
    assert_eq!(r.code, 0, "{r}");
    for name in ["config", "region", "credentials", "quotas", "exec plugin"] {
        assert_eq!(levels(&v, name), ["ok"], "{name}: {r}");
    }
    // The cluster and the execution, scheduler and task roles.
    assert_eq!(levels(&v, "bootstrap"), ["ok", "ok", "ok", "ok"], "{r}");
    // moto does not implement iam:SimulatePrincipalPolicy: the check says it could not run (a
    // warning, exit 0). The denied path is unit-tested (`ops::doctor::tests`).
    assert_eq!(levels(&v, "permissions"), ["warn"], "{r}");
    assert_eq!(
        ops(&app.moto.writes()),
        Vec::<&str>::new(),
        "doctor only reads"
    );
    // Without the plugin: a warning, still exit 0.
    let (r, v) = doctor(&app, &app.path().join("no-such-dir"));
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(levels(&v, "exec plugin"), ["warn"], "{r}");
}

#[test]
fn doctor_before_bootstrap_fails_with_the_fix_and_text_has_one_line_per_check() {
    let app = App::init();
    let r = app.run(&["doctor"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.lines().any(|l| l.starts_with("fail  bootstrap")
            && l.contains("cluster `envctl-shop` does not exist")),
        "{r}"
    );
    assert!(r.stdout.contains("fix: run `envctl bootstrap`"), "{r}");
    assert!(
        r.stdout.lines().any(|l| l.starts_with("ok    credentials")),
        "{r}"
    );
}

#[test]
fn doctor_without_credentials_fails_on_them_without_hanging() {
    let dir = offline_app();
    let mut cmd = no_aws(dir.path());
    cmd.env("AWS_REGION", "us-east-1");
    let started = Instant::now();
    let r = Run::of(cmd, &["doctor"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(started.elapsed() < Duration::from_secs(20), "{r}");
    assert!(
        r.stdout.lines().any(|l| l.starts_with("fail  credentials")),
        "{r}"
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with("ok    config")),
        "{r}"
    );
    let r = Run::of(no_aws(dir.path()), &["doctor", "--region", "garbage"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("fail  region") && l.contains("`garbage`")),
        "{r}"
    );
}

#[test]
fn status_watch_on_a_terminal_redraws_under_a_header_and_ctrl_c_exits_0() {
    // util-linux `script` gives envctl a pseudo-terminal; `timeout` sends the Ctrl-C (SIGINT).
    let app = App::bootstrapped();
    app.ok(&["up", ENV]);
    let envctl = assert_cmd::cargo::cargo_bin("envctl");
    let inner = format!(
        "timeout --preserve-status -s INT 3 {} status {ENV} --watch --interval 1",
        envctl.display()
    );
    let mut cmd = std::process::Command::new("script");
    cmd.current_dir(app.path())
        .args(["-qfec", &inner, "/dev/null"]);
    for (k, v) in app.moto.env() {
        cmd.env(k, v);
    }
    let out = cmd
        .env_remove("ENVCTL_CONFIG")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux `script` gives the pseudo-terminal");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.matches("\u{1b}[2J\u{1b}[H").count() >= 2,
        "cleared and redrawn at least twice:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("envctl status {ENV} — every 1s — ")),
        "{stdout}"
    );
    assert!(stdout.contains("shop-feature-x-web"), "{stdout}");
}
