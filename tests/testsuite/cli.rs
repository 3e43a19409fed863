//! The command line itself: help text, exit codes and messages for bad input. Input errors are run
//! against a recording moto server to prove they reach AWS with no write (and, where the input is
//! checked before connecting, with no request at all).

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

use crate::support::Moto;

const TD_TEMPLATE: &str = "templates/task-definition.json.j2";

/// envctl with no AWS settings and a fixed help width, so help text does not depend on the
/// caller's terminal or environment (clap prints `[env: NAME=value]` for variables that are set).
fn bare(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("envctl").expect("envctl binary");
    cmd.current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    for var in [
        "ENVCTL_CONFIG",
        "ENVCTL_MAX_ATTEMPTS",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Out {
    let out = cmd.output().expect("run envctl");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A directory with `envctl init --app shop` output (init needs no AWS).
fn initialized() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(bare(dir.path()).args(["init", "--app", "shop"]));
    assert_eq!(out.code, 0, "init failed: {}", out.stderr);
    dir
}

/// envctl wired to `moto`, in `dir`.
fn with_moto(moto: &Moto, dir: &Path, args: &[&str]) -> Out {
    let mut cmd = moto.envctl(dir);
    cmd.env("ENVCTL_POLL_INTERVAL_MS", "200")
        .env_remove("ENVCTL_CONFIG")
        .timeout(Duration::from_secs(60))
        .args(args);
    run(&mut cmd)
}

/// Every AWS request moto received (not the harness's own readiness probes).
fn operations(moto: &Moto) -> Vec<String> {
    moto.requests()
        .into_iter()
        .filter(|r| !r.url.contains("/moto-api/"))
        .map(|r| r.operation)
        .collect()
}

/// 1-based number of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not found"))
        + 1
}

#[test]
fn help_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare(dir.path()).arg("--help"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn up_help_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare(dir.path()).args(["up", "--help"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("up_help", out.stdout);
}

#[test]
fn bad_env_names_exit_3_naming_the_problem_without_any_aws_request() {
    let moto = Moto::start();
    let dir = initialized();
    let cases = [
        (vec!["plan", "../x"], "\"../x\" looks like a path"),
        (vec!["plan", ""], "\"\" is empty"),
        (vec!["plan", "///"], "\"///\" looks like a path"),
        (vec!["up", "../x"], "\"../x\" looks like a path"),
        (vec!["down", "///", "--yes"], "\"///\" looks like a path"),
        (
            vec!["params", "set", "../x", "A=1"],
            "\"../x\" looks like a path",
        ),
    ];
    for (args, problem) in cases {
        let out = with_moto(&moto, dir.path(), &args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("error: env name {problem}")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("hint: "), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    assert_eq!(operations(&moto), Vec::<String>::new());
}

#[test]
fn malformed_config_exits_3_naming_file_and_line_without_any_aws_request() {
    let moto = Moto::start();
    let dir = initialized();
    let path = dir.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = line_of(&text, "memory = 512");
    std::fs::write(&path, text.replacen("memory = 512", "memory = = 512", 1)).unwrap();

    for args in [
        vec!["plan", "feature-x"],
        vec!["up", "feature-x"],
        vec!["down", "feature-x", "--yes"],
        vec!["bootstrap"],
    ] {
        let out = with_moto(&moto, dir.path(), &args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("error: envctl.toml: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("line {line}")),
            "{args:?}: expected line {line}: {}",
            out.stderr
        );
    }
    assert_eq!(operations(&moto), Vec::<String>::new());
}

#[test]
fn invalid_set_override_exits_3_naming_the_key_without_any_aws_request() {
    let moto = Moto::start();
    let dir = initialized();
    let out = with_moto(
        &moto,
        dir.path(),
        &["up", "feature-x", "--set", "services.web.count=1000"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("`services.web.count`"),
        "{}",
        out.stderr
    );
    assert_eq!(operations(&moto), Vec::<String>::new());
}

#[test]
fn undefined_template_variable_exits_3_naming_template_and_line_with_no_writes() {
    let moto = Moto::start();
    let dir = initialized();
    // Rendering needs the account's facts, so the app must be bootstrapped to get that far.
    let out = with_moto(&moto, dir.path(), &["bootstrap"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let path = dir.path().join(TD_TEMPLATE);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = line_of(&text, "\"stopTimeout\": 120");
    std::fs::write(
        &path,
        text.replacen(
            "\"stopTimeout\": 120",
            "\"stopTimeout\": {{ stop_timeout_typo }}",
            1,
        ),
    )
    .unwrap();

    moto.clear_recording();
    for args in [
        vec!["up", "feature-x"],
        vec!["plan", "feature-x"],
        vec!["render", "feature-x"],
    ] {
        let out = with_moto(&moto, dir.path(), &args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{TD_TEMPLATE}:{line}")),
            "{args:?}: expected {TD_TEMPLATE}:{line}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("undefined"), "{args:?}: {}", out.stderr);
    }
    let writes: Vec<String> = moto.writes().into_iter().map(|r| r.operation).collect();
    assert_eq!(writes, Vec::<String>::new());
}

#[test]
fn secure_value_on_the_command_line_is_refused_without_any_aws_request() {
    let moto = Moto::start();
    let dir = initialized();
    let out = with_moto(
        &moto,
        dir.path(),
        &["params", "set", "feature-x", "X=hunter2", "--secure"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("stdin"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert!(!out.stdout.contains("hunter2"), "{}", out.stdout);
    assert_eq!(operations(&moto), Vec::<String>::new());
}

#[test]
fn unknown_flag_and_missing_subcommand_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(bare(dir.path()).args(["up", "--bogus"]));
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("'--bogus'"), "{}", out.stderr);

    let out = run(&mut bare(dir.path()));
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("Usage: envctl"), "{}", out.stderr);
}

#[test]
fn init_twice_without_force_exits_3_and_changes_nothing() {
    let dir = initialized();
    let config = dir.path().join("envctl.toml");
    let service_template = dir.path().join("templates/service.json.j2");
    // Local edits, and one file missing: a refusal must neither undo the edit nor fill the gap.
    let edited = format!(
        "{}\n# local edit\n",
        std::fs::read_to_string(&config).unwrap()
    );
    std::fs::write(&config, &edited).unwrap();
    std::fs::remove_file(&service_template).unwrap();
    let td_before = std::fs::read_to_string(dir.path().join(TD_TEMPLATE)).unwrap();

    let out = run(bare(dir.path()).args(["init", "--app", "other"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("refusing to overwrite"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("envctl.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    assert!(!service_template.exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(TD_TEMPLATE)).unwrap(),
        td_before
    );

    // --force rewrites every file.
    let out = run(bare(dir.path()).args(["init", "--app", "other", "--force"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rewritten = std::fs::read_to_string(&config).unwrap();
    assert!(rewritten.contains("app = \"other\""), "{rewritten}");
    assert!(!rewritten.contains("# local edit"));
    assert!(service_template.exists());
}
