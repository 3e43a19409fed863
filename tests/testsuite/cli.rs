//! The command line itself: help text, exit codes and messages for bad input. Input errors are run
//! against a recording moto server to prove they reach AWS with no write (and, where the input is
//! checked before connecting, with no request at all).

use tempfile::TempDir;

use crate::support::{offline, App, Run, TD_TEMPLATE};

/// A directory with `envctl init --app shop` output (init needs no AWS).
fn initialized() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Run::of(offline(dir.path()), &["init", "--app", "shop"]);
    assert_eq!(out.code, 0, "init failed: {}", out.stderr);
    dir
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
    let out = Run::of(offline(dir.path()), &["--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("help", out.stdout);
}

#[test]
fn up_help_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["up", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("up_help", out.stdout);
}

#[test]
fn bad_env_names_exit_3_naming_the_problem_without_any_aws_request() {
    let app = App::init();
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
        let out = app.run(&args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("error: env name {problem}")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("hint: "), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[test]
fn malformed_config_exits_3_naming_file_and_line_without_any_aws_request() {
    let app = App::init();
    let path = app.path().join("envctl.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = line_of(&text, "memory = 512");
    std::fs::write(&path, text.replacen("memory = 512", "memory = = 512", 1)).unwrap();

    for args in [
        vec!["plan", "feature-x"],
        vec!["up", "feature-x"],
        vec!["down", "feature-x", "--yes"],
        vec!["bootstrap"],
    ] {
        let out = app.run(&args);
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
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[test]
fn invalid_set_override_exits_3_naming_the_key_without_any_aws_request() {
    let app = App::init();
    let out = app.run(&["up", "feature-x", "--set", "services.web.count=1000"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("`services.web.count`"),
        "{}",
        out.stderr
    );
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[test]
fn undefined_template_variable_exits_3_naming_template_and_line_with_no_writes() {
    // Rendering needs the account's facts, so the app must be bootstrapped to get that far.
    let app = App::bootstrapped();
    let text = std::fs::read_to_string(app.path().join(TD_TEMPLATE)).unwrap();
    let line = line_of(&text, "\"stopTimeout\": 120");
    app.edit(
        TD_TEMPLATE,
        "\"stopTimeout\": 120",
        "\"stopTimeout\": {{ stop_timeout_typo }}",
    );

    app.moto.clear_recording();
    for args in [
        vec!["up", "feature-x"],
        vec!["plan", "feature-x"],
        vec!["render", "feature-x"],
    ] {
        let out = app.run(&args);
        assert_eq!(out.code, 3, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{TD_TEMPLATE}:{line}")),
            "{args:?}: expected {TD_TEMPLATE}:{line}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("undefined"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(app.moto.write_ops(), Vec::<String>::new());
}

#[test]
fn secure_value_on_the_command_line_is_refused_without_any_aws_request() {
    let app = App::init();
    let out = app.run(&["params", "set", "feature-x", "X=hunter2", "--secure"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("stdin"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert!(!out.stdout.contains("hunter2"), "{}", out.stdout);
    assert_eq!(app.moto.aws_operations(), Vec::<String>::new());
}

#[test]
fn unknown_flag_and_missing_subcommand_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["up", "--bogus"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("'--bogus'"), "{}", out.stderr);

    let out = Run::of(offline(dir.path()), &[]);
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

    let out = Run::of(offline(dir.path()), &["init", "--app", "other"]);
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
    let out = Run::of(offline(dir.path()), &["init", "--app", "other", "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rewritten = std::fs::read_to_string(&config).unwrap();
    assert!(rewritten.contains("app = \"other\""), "{rewritten}");
    assert!(!rewritten.contains("# local edit"));
    assert!(service_template.exists());
}
