//! What envctl looks like in a terminal and what it leaves out of a pipe: colour under a
//! pseudo-terminal (util-linux `script`), none with NO_COLOR or when piped (tracing lines
//! included), help with sections and examples, completions, the man page and `--version`.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::support::{offline, App, Run};

const ESC: char = '\u{1b}';

/// A directory with `envctl init --app shop` output (init needs no AWS).
fn initialized() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Run::of(offline(dir.path()), &["init", "--app", "shop"]);
    assert_eq!(out.code, 0, "init failed: {}", out.stderr);
    dir
}

fn envctl_path() -> String {
    assert_cmd::cargo::cargo_bin("envctl")
        .to_string_lossy()
        .into_owned()
}

/// The colour-related variables a test sets itself, removed from what it inherits.
const COLOUR_VARS: &[&str] = &["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "COLUMNS"];

/// Settings for an AWS endpoint that refuses connections at once: a command that reaches AWS
/// fails fast, and `ENVCTL_LOG=debug` makes the SDK write tracing lines on the way.
fn refused_endpoint(cmd: &mut Command) {
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("ENVCTL_LOG", "debug")
        .env_remove("AWS_PROFILE")
        .env_remove("ENVCTL_CONFIG");
}

/// Runs envctl with `args` under a pseudo-terminal (stdout and stderr both on it) through
/// util-linux `script`; returns what the terminal showed and the exit code.
fn under_a_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, i32) {
    let mut line = shell_quote(&envctl_path());
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(dir);
    for v in COLOUR_VARS {
        cmd.env_remove(v);
    }
    refused_endpoint(&mut cmd);
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("util-linux `script` runs (apt-get install bsdutils)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `envctl plan` of a new env under a terminal (against the emulator): its `+` lines are green.
#[test]
fn a_plan_in_a_terminal_marks_creates_in_green_and_a_piped_one_plainly() {
    let app = App::bootstrapped();
    let mut line = shell_quote(&envctl_path());
    line.push_str(" plan feature-x");
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(app.path());
    for v in COLOUR_VARS {
        cmd.env_remove(v);
    }
    // The harness's env turns colour off for parsed output; this test is about colour.
    for (k, v) in app.moto.env().into_iter().filter(|(k, _)| *k != "NO_COLOR") {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE").env("TERM", "xterm-256color");
    let out = cmd.output().expect("util-linux `script` runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("  \u{1b}[32m+\u{1b}[0m create log group"),
        "no green `+`:\n{shown:?}"
    );

    let mut cmd = Command::new(envctl_path());
    cmd.args(["plan", "feature-x"]).current_dir(app.path());
    for v in COLOUR_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in app.moto.env().into_iter().filter(|(k, _)| *k != "NO_COLOR") {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE").env("TERM", "xterm-256color");
    let out = cmd.output().expect("run envctl");
    let piped = Run {
        args: vec!["plan".into(), "feature-x".into()],
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(
        piped.stdout.contains("  + create log group"),
        "{}",
        piped.stdout
    );
    assert!(!piped.stdout.contains(ESC), "{:?}", piped.stdout);
    assert!(!piped.stderr.contains(ESC), "{:?}", piped.stderr);
}

/// Runs envctl with stdout and stderr piped.
fn piped(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(envctl_path());
    cmd.current_dir(dir);
    for v in COLOUR_VARS {
        cmd.env_remove(v);
    }
    refused_endpoint(&mut cmd);
    cmd.env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run envctl");
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The bold red `error:` label anstyle writes.
const RED_ERROR: &str = "\u{1b}[1m\u{1b}[31merror:\u{1b}[0m";

#[test]
fn bad_input_in_a_terminal_has_a_red_error_label() {
    let dir = initialized();
    let (shown, code) = under_a_terminal(dir.path(), &["plan", "../x"], &[]);
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains(RED_ERROR), "no red `error:`:\n{shown:?}");
    assert!(shown.contains("looks like a path"), "{shown}");
}

#[test]
fn tracing_lines_in_a_terminal_are_coloured_too() {
    // The control for the pipe test below: the same lines do carry escape codes on a terminal.
    let dir = initialized();
    let (shown, code) = under_a_terminal(
        dir.path(),
        &[
            "-v",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--max-attempts",
            "1",
            "ls",
        ],
        &[],
    );
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("DEBUG"), "no tracing lines:\n{shown}");
    assert!(shown.contains(RED_ERROR), "{shown:?}");
}

#[test]
fn no_color_in_a_terminal_means_not_one_escape_byte() {
    let dir = initialized();
    for args in [
        vec!["plan", "../x"],
        vec![
            "-v",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--max-attempts",
            "1",
            "ls",
        ],
    ] {
        let (shown, code) = under_a_terminal(dir.path(), &args, &[("NO_COLOR", "1")]);
        assert_ne!(code, 0, "{args:?}: {shown}");
        assert!(shown.contains("error:"), "{args:?}: {shown}");
        assert!(!shown.contains(ESC), "{args:?} with NO_COLOR:\n{shown:?}");
    }
}

#[test]
fn piped_output_has_not_one_escape_byte_tracing_included() {
    // Regression: `WARN` lines from the tracing subscriber leaked ANSI codes into piped stderr.
    let dir = initialized();
    let bad = piped(dir.path(), &["plan", "../x"], &[]);
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    assert!(bad.stderr.starts_with("error: env name"), "{}", bad.stderr);
    let verbose = piped(
        dir.path(),
        &[
            "-v",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--max-attempts",
            "1",
            "ls",
        ],
        &[],
    );
    assert_eq!(verbose.code, 1, "{}", verbose.stderr);
    assert!(
        verbose.stderr.contains("DEBUG"),
        "no tracing lines: {}",
        verbose.stderr
    );
    for run in [&bad, &verbose] {
        assert!(
            !run.stderr.contains(ESC),
            "{:?}: {:?}",
            run.args,
            run.stderr
        );
        assert!(
            !run.stdout.contains(ESC),
            "{:?}: {:?}",
            run.args,
            run.stdout
        );
    }
}

#[test]
fn clicolor_force_colours_a_pipe_but_no_color_wins() {
    let dir = initialized();
    let forced = piped(dir.path(), &["plan", "../x"], &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stderr.contains(RED_ERROR), "{:?}", forced.stderr);
    let both = piped(
        dir.path(),
        &["plan", "../x"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!both.stderr.contains(ESC), "{:?}", both.stderr);
}

#[test]
fn help_groups_commands_into_sections_with_global_options_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let at = |needle: &str| {
        out.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{}", out.stdout))
    };
    assert!(at("Envs:") < at("Lifecycle:"));
    assert!(at("Lifecycle:") < at("Config:"));
    assert!(at("Config:") < at("CI:"));
    assert!(at("CI:") < at("Setup:"));
    assert!(at("Setup:") < at("Global options:"));
    assert!(!out.stdout.contains("Commands:"), "{}", out.stdout);
}

#[test]
fn ls_help_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["ls", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("ls_help", out.stdout);
}

#[test]
fn params_set_help_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["params", "set", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("params_set_help", out.stdout);
}

#[test]
fn bash_completions_name_the_subcommands_and_every_shell_gets_a_script() {
    let dir = tempfile::tempdir().unwrap();
    let bash = Run::of(offline(dir.path()), &["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    for word in [
        "envctl",
        "up",
        "down",
        "status",
        "janitor",
        "completions",
        "--output",
    ] {
        assert!(bash.stdout.contains(word), "bash completions lack {word}");
    }
    for shell in ["zsh", "fish", "powershell"] {
        let out = Run::of(offline(dir.path()), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("status"), "{shell}: {}", out.stdout);
    }
    let bad = Run::of(offline(dir.path()), &["completions", "tcsh"]);
    assert_eq!(bad.code, 64, "{}", bad.stderr);
}

#[test]
fn man_page_renders_with_commands_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(".ie"),
        "not roff: {}",
        &out.stdout[..80.min(out.stdout.len())]
    );
    assert!(out.stdout.contains(".TH envctl 1"), "{}", out.stdout);
    for needle in [
        ".SH NAME",
        ".SH SUBCOMMANDS",
        "envctl\\-up(1)",
        "GLOBAL OPTIONS",
    ] {
        assert!(out.stdout.contains(needle), "man page lacks {needle}");
    }

    // The pages the SUBCOMMANDS section points at, nested commands included, with examples.
    let pages = tempfile::tempdir().unwrap();
    let dir = pages.path().join("man1");
    let out = Run::of(
        offline(pages.path()),
        &["man", "--dir", dir.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    for page in [
        "envctl.1",
        "envctl-up.1",
        "envctl-params-set.1",
        "envctl-man.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} not written");
    }
    let up = std::fs::read_to_string(dir.join("envctl-up.1")).unwrap();
    assert!(up.contains("envctl up feature\\-x \\-\\-ttl 72h"), "{up}");
}

#[test]
fn version_gives_the_commit_and_the_build_date() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(offline(dir.path()), &["--version"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim();
    let rest = line
        .strip_prefix(&format!("envctl {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, rest) = rest
        .split_once(", built ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line}"
    );
    let date = rest.strip_suffix(')').unwrap_or_else(|| panic!("{line}"));
    assert!(date.parse::<jiff::civil::Date>().is_ok(), "{line}");
}
