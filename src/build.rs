//! Cached CodeBuild image builds, the pure part: the buildspec, content-addressed image tags,
//! the files of a local build source and the skip rule. No AWS: `aws/codebuild.rs` starts the
//! builds, this module decides what they are.
//!
//! An image tag names its inputs (`git-<commit>`, `local-<commit>-<hash>`), so "is this tag in
//! the repository?" answers "was this exact input built already?", and the build is skipped.

use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use minijinja::Value;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{BuildConfig, BuildPreset, BuildSource};

/// The default buildspec template (`init` writes it to templates/buildspec.yml.j2).
pub const BUILDSPEC_TEMPLATE: &str = include_str!("../templates/buildspec.yml.j2");

/// The ECR tag the registry layer cache lives under, next to the images.
pub const CACHE_TAG: &str = "buildcache";

/// The dependency directories a build tool fills (CodeBuild cache path patterns).
pub fn preset_cache_paths(preset: BuildPreset) -> Vec<&'static str> {
    match preset {
        BuildPreset::Gradle => vec!["/root/.gradle/caches/**/*", "/root/.gradle/wrapper/**/*"],
        BuildPreset::Maven => vec!["/root/.m2/repository/**/*"],
        BuildPreset::Npm => vec!["/root/.npm/**/*"],
        BuildPreset::Cargo => vec!["/root/.cargo/registry/**/*", "/root/.cargo/git/**/*"],
        BuildPreset::Python => vec!["/root/.cache/pip/**/*"],
        BuildPreset::Custom => vec![],
    }
}

/// The preset's paths, then the configured extra ones, without repeats.
pub fn cache_paths(build: &BuildConfig) -> Vec<String> {
    let mut seen = BTreeSet::new();
    build
        .preset
        .map(preset_cache_paths)
        .unwrap_or_default()
        .into_iter()
        .map(str::to_string)
        .chain(build.cache_paths.iter().cloned())
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// What the buildspec template sees (documented at the top of templates/buildspec.yml.j2).
#[derive(Debug, Clone, Serialize)]
struct BuildspecContext<'a> {
    service: &'a str,
    source: &'static str,
    context: String,
    dockerfile: String,
    args: &'a std::collections::BTreeMap<String, String>,
    preset: Option<&'static str>,
    cache_paths: Vec<String>,
}

/// Renders the buildspec for one service. Paths in it are relative to the build's source root:
/// for `source = "local"` that is the uploaded context itself (`.`); for `source = "git"` it is
/// the repository root, so a caller whose envctl.toml is not at the repository root passes a
/// `build` whose `context` is already relative to the root.
pub fn render_buildspec(
    template: &str,
    service: &str,
    build: &BuildConfig,
) -> Result<String, String> {
    let context = match build.source {
        BuildSource::Local => PathBuf::from("."),
        BuildSource::Git => build.context.clone(),
    };
    let ctx = BuildspecContext {
        service,
        source: match build.source {
            BuildSource::Git => "git",
            BuildSource::Local => "local",
        },
        context: slash_path(&context),
        dockerfile: slash_path(&context.join(&build.dockerfile)),
        args: &build.args,
        preset: build.preset.map(preset_name),
        cache_paths: cache_paths(build),
    };
    // Values are quoted with `| sh` or `| tojson` where they need it.
    let mut jinja = crate::render::templates::environment();
    jinja.add_filter("sh", |s: String| shell_quote(&s));
    let error = |e: minijinja::Error| {
        let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
        let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
        format!(
            "buildspec template{line} (service `{service}`): {}{detail}; variables: service, \
             source, context, dockerfile, args, preset, cache_paths",
            e.kind()
        )
    };
    jinja
        .add_template_owned("buildspec.yml.j2", template.to_string())
        .map_err(error)?;
    jinja
        .get_template("buildspec.yml.j2")
        .and_then(|t| t.render(Value::from_serialize(&ctx)))
        .map_err(error)
}

fn preset_name(p: BuildPreset) -> &'static str {
    match p {
        BuildPreset::Gradle => "gradle",
        BuildPreset::Maven => "maven",
        BuildPreset::Npm => "npm",
        BuildPreset::Cargo => "cargo",
        BuildPreset::Python => "python",
        BuildPreset::Custom => "custom",
    }
}

/// `a/./b` → `a/b`, `./Dockerfile` → `Dockerfile`, always with `/` (the build runs on Linux).
fn slash_path(p: &Path) -> String {
    let parts: Vec<String> = p
        .components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Single-quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// The tag of an image built from a pushed commit: `git-<first 12 of the sha>`.
pub fn git_tag(commit_sha: &str) -> String {
    format!("git-{}", short(commit_sha))
}

/// The tag of an image built from the working tree: the commit it started from (or `nocommit`
/// in a repository without one) and the hash of the uploaded files (`inputs_hash`).
pub fn local_tag(commit_sha: Option<&str>, inputs_hash: &str) -> String {
    format!(
        "local-{}-{}",
        commit_sha.map(short).unwrap_or("nocommit"),
        short(inputs_hash)
    )
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git (is it installed?): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`git {}` in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// The commit checked out in `dir` (`git rev-parse HEAD`).
pub fn head_commit(dir: &Path) -> Result<String, String> {
    let out = git(dir, &["rev-parse", "--verify", "HEAD"])?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// The commit `origin/<branch>` pointed at when last fetched, or `None` when the branch was never
/// pushed (or fetched). Local knowledge only: no network.
pub fn pushed_commit(dir: &Path, branch: &str) -> Option<String> {
    let out = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/remotes/origin/{branch}^{{commit}}"),
        ],
    )
    .ok()?;
    let sha = String::from_utf8_lossy(&out).trim().to_string();
    (!sha.is_empty()).then_some(sha)
}

/// The files of a local build source, relative to the context and sorted: what git would track
/// (tracked plus untracked, without .gitignore'd ones: `git ls-files --cached --others
/// --exclude-standard`) that exist as files, minus what the context's `.dockerignore` excludes.
///
/// `context` is relative to `repo_root` (or absolute). Docker applies `.dockerignore` again when
/// it builds, so a pattern this reader does not support only makes the upload bigger, never the
/// build different: see [`DockerIgnore`] for what is supported.
pub fn collect_files(repo_root: &Path, context: &Path) -> Result<Vec<PathBuf>, String> {
    let dir = repo_root.join(context);
    if !dir.is_dir() {
        return Err(format!(
            "build context {} is not a directory",
            dir.display()
        ));
    }
    // In a subdirectory git lists only the files below it, relative to it.
    let out = git(
        &dir,
        &[
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ],
    )?;
    let ignore = match std::fs::read_to_string(dir.join(".dockerignore")) {
        Ok(text) => DockerIgnore::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => {
            return Err(format!(
                "cannot read {}: {e}",
                dir.join(".dockerignore").display()
            ))
        }
    };
    let mut files = BTreeSet::new();
    for raw in out.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = String::from_utf8_lossy(raw).into_owned();
        // `--cached` also lists files deleted from the working tree, and submodules as dirs.
        if !dir.join(&rel).is_file() || ignore.excludes(&rel) {
            continue;
        }
        files.insert(PathBuf::from(rel));
    }
    Ok(files.into_iter().collect())
}

/// A `.dockerignore`, read the way Docker does for the common cases. Patterns are relative to the
/// context root (a leading `/` and a trailing `/` change nothing); a pattern that matches a
/// directory excludes everything below it; the last matching pattern wins, and `!` re-includes.
/// `*` and `?` match within one path segment, `**` any number of segments.
///
/// Not supported (the pattern is skipped, so its files are uploaded and Docker drops them):
/// character classes `[...]` and backslash escapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerIgnore {
    /// (negated, pattern segments)
    rules: Vec<(bool, Vec<String>)>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (negated, pattern) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, l),
                };
                if pattern.contains('[') || pattern.contains('\\') {
                    return None;
                }
                let segments: Vec<String> = pattern
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .map(str::to_string)
                    .collect();
                (!segments.is_empty()).then_some((negated, segments))
            })
            .collect();
        DockerIgnore { rules }
    }

    /// Whether the file at `rel` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, rel: &str) -> bool {
        let path: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for (negated, pattern) in &self.rules {
            let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
            // The file itself or any directory above it.
            if (1..=path.len()).any(|n| match_segments(&pattern, &path[..n])) {
                excluded = !negated;
            }
        }
        excluded
    }
}

fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|i| match_segments(rest, &path[i..])),
        Some((first, rest)) => {
            !path.is_empty()
                && match_segment(first.as_bytes(), path[0].as_bytes())
                && match_segments(rest, &path[1..])
        }
    }
}

/// `*` (any run) and `?` (one byte) within one segment.
fn match_segment(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| match_segment(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && match_segment(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && match_segment(rest, &name[1..]),
    }
}

fn read(root: &Path, rel: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(root.join(rel))
        .map_err(|e| format!("cannot read {}: {e}", root.join(rel).display()))
}

#[cfg(unix)]
fn mode(root: &Path, rel: &Path) -> Result<u32, String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(root.join(rel))
        .map(|m| m.permissions().mode() & 0o777)
        .map_err(|e| format!("cannot stat {}: {e}", root.join(rel).display()))
}

#[cfg(not(unix))]
fn mode(_root: &Path, _rel: &Path) -> Result<u32, String> {
    Ok(0o644)
}

/// Whether the owner may execute it: the part of the mode a `COPY` carries into the image.
fn executable(mode: u32) -> bool {
    mode & 0o100 != 0
}

/// Hex SHA-256 over the files (sorted by path): each path, whether it is executable, its length
/// and its content. Unchanged inputs give the same hash on any machine; any change gives a new one.
pub fn inputs_hash(root: &Path, files: &[PathBuf]) -> Result<String, String> {
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for rel in sorted {
        let content = read(root, rel)?;
        h.update(slash_path(rel).as_bytes());
        h.update([0, u8::from(executable(mode(root, rel)?))]);
        h.update((content.len() as u64).to_le_bytes());
        h.update(&content);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A deflated zip of the files (paths relative to `root`), for CodeBuild's S3 source. Entries
/// carry a fixed timestamp, so the same files give the same bytes.
pub fn zip_files(root: &Path, files: &[PathBuf]) -> Result<Vec<u8>, String> {
    use zip::write::SimpleFileOptions;
    let mut sorted: Vec<&PathBuf> = files.iter().collect();
    sorted.sort();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for rel in sorted {
        let content = read(root, rel)?;
        let perms = if executable(mode(root, rel)?) {
            0o755
        } else {
            0o644
        };
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(perms)
            .large_file(content.len() >= u32::MAX as usize);
        zip.start_file(slash_path(rel), options)
            .and_then(|()| zip.write_all(&content).map_err(Into::into))
            .map_err(|e| format!("zipping {}: {e}", rel.display()))?;
    }
    zip.finish()
        .map(Cursor::into_inner)
        .map_err(|e| format!("finishing the zip: {e}"))
}

/// Whether to run a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildDecision {
    /// The tag is already in the repository: the image for these inputs exists.
    Skip {
        reason: String,
    },
    Build,
}

/// Build unless an image with the wanted tag exists; `force` (e.g. `--rebuild`) always builds,
/// for a build that is not reproducible from its inputs (a `latest` base image, a network fetch).
/// Tags are content addresses, so "exists" means "built from these exact inputs".
pub fn decide(image_exists: bool, force: bool) -> BuildDecision {
    if image_exists && !force {
        BuildDecision::Skip {
            reason: "an image with this tag is already in the repository".into(),
        }
    } else {
        BuildDecision::Build
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::Read;

    fn build(source: BuildSource, preset: Option<BuildPreset>) -> BuildConfig {
        BuildConfig {
            source,
            preset,
            repository_url: Some("https://github.com/acme/shop".into()),
            ..BuildConfig::default()
        }
    }

    fn render(b: &BuildConfig) -> String {
        render_buildspec(BUILDSPEC_TEMPLATE, "api", b).expect("default buildspec renders")
    }

    #[test]
    fn buildspec_gradle() {
        let mut b = build(BuildSource::Git, Some(BuildPreset::Gradle));
        b.context = PathBuf::from("services/api");
        b.dockerfile = PathBuf::from("docker/Dockerfile.prod");
        b.args = BTreeMap::from([
            ("JAVA_VERSION".to_string(), "21".to_string()),
            ("GREETING".to_string(), "it's a test".to_string()),
        ]);
        insta::assert_snapshot!(render(&b));
    }

    #[test]
    fn buildspec_maven() {
        insta::assert_snapshot!(render(&build(BuildSource::Git, Some(BuildPreset::Maven))));
    }

    #[test]
    fn buildspec_npm_local() {
        let mut b = build(BuildSource::Local, Some(BuildPreset::Npm));
        // Local sources upload the context itself: the buildspec builds `.`.
        b.context = PathBuf::from("web");
        insta::assert_snapshot!(render(&b));
    }

    #[test]
    fn buildspec_cargo_with_extra_paths() {
        let mut b = build(BuildSource::Git, Some(BuildPreset::Cargo));
        b.cache_paths = vec![
            "/root/.cargo/registry/**/*".into(), // repeats the preset's: listed once
            "target/**/*".into(),
        ];
        insta::assert_snapshot!(render(&b));
    }

    #[test]
    fn buildspec_python() {
        insta::assert_snapshot!(render(&build(BuildSource::Git, Some(BuildPreset::Python))));
    }

    #[test]
    fn buildspec_custom() {
        let mut b = build(BuildSource::Git, Some(BuildPreset::Custom));
        b.cache_paths = vec!["/root/.ivy2/**/*".into()];
        insta::assert_snapshot!(render(&b));
    }

    #[test]
    fn buildspec_without_preset_has_no_cache_section() {
        let out = render(&build(BuildSource::Git, None));
        assert!(!out.contains("cache:"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn buildspec_template_errors_name_the_line_and_variables() {
        let e = render_buildspec("version: 0.2\n{{ nope }}\n", "api", &BuildConfig::default())
            .expect_err("undefined variable");
        assert!(e.contains(":2"), "{e}");
        assert!(e.contains("service `api`"), "{e}");
        assert!(e.contains("cache_paths"), "{e}");
    }

    #[test]
    fn preset_paths() {
        assert_eq!(
            preset_cache_paths(BuildPreset::Gradle),
            ["/root/.gradle/caches/**/*", "/root/.gradle/wrapper/**/*"]
        );
        assert_eq!(
            preset_cache_paths(BuildPreset::Maven),
            ["/root/.m2/repository/**/*"]
        );
        assert_eq!(preset_cache_paths(BuildPreset::Npm), ["/root/.npm/**/*"]);
        assert_eq!(
            preset_cache_paths(BuildPreset::Cargo),
            ["/root/.cargo/registry/**/*", "/root/.cargo/git/**/*"]
        );
        assert_eq!(
            preset_cache_paths(BuildPreset::Python),
            ["/root/.cache/pip/**/*"]
        );
        assert!(preset_cache_paths(BuildPreset::Custom).is_empty());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("A=1"), "A=1");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn tags_are_short_content_addresses() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(git_tag(sha), "git-0123456789ab");
        assert_eq!(git_tag("abc"), "git-abc");
        let hash = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        assert_eq!(
            local_tag(Some(sha), hash),
            "local-0123456789ab-fedcba987654"
        );
        assert_eq!(local_tag(None, hash), "local-nocommit-fedcba987654");
        // ECR tags: at most 128 of [a-zA-Z0-9_.-].
        for tag in [git_tag(sha), local_tag(None, hash)] {
            assert!(tag.len() <= 128);
            assert!(tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
        }
    }

    #[test]
    fn decide_skips_only_existing_unforced() {
        assert!(matches!(decide(true, false), BuildDecision::Skip { .. }));
        assert_eq!(decide(true, true), BuildDecision::Build);
        assert_eq!(decide(false, false), BuildDecision::Build);
        assert_eq!(decide(false, true), BuildDecision::Build);
    }

    #[test]
    fn dockerignore_patterns() {
        let ig = DockerIgnore::parse(
            "# comment\n\nnode_modules\nlogs/\n*.md\n!README.md\n**/*.tmp\n/dist\nsrc/gen?d\n",
        );
        for excluded in [
            "node_modules/a/b.js",
            "logs/x.log",
            "NOTES.md",
            "a/b/c.tmp",
            "x.tmp",
            "dist/app.js",
            "src/gened/x.rs",
        ] {
            assert!(ig.excludes(excluded), "{excluded} should be excluded");
        }
        for kept in [
            "README.md",
            "docs/guide.md", // `*.md` is root-only, like Docker
            "src/node_modules_x.rs",
            "src/main.rs",
            "app/dist/x",
        ] {
            assert!(!ig.excludes(kept), "{kept} should be kept");
        }
        // Later rules win; a re-included file below an excluded directory.
        let ig = DockerIgnore::parse("docs\n!docs/keep.md\n");
        assert!(ig.excludes("docs/drop.md"));
        assert!(!ig.excludes("docs/keep.md"));
        // Unsupported patterns are skipped (Docker still applies them).
        assert!(!DockerIgnore::parse("[ab].txt\n").excludes("a.txt"));
    }

    fn run_git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .status()
            .expect("git runs")
            .success();
        assert!(ok, "git {args:?}");
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    /// A repository with a committed service dir, an untracked file, a .gitignore'd file and a
    /// .dockerignore'd one.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        run_git(root, &["init", "-q", "-b", "main"]);
        write(root, ".gitignore", "*.log\nbuild/\n");
        write(root, "README.md", "outside the context\n");
        write(root, "api/Dockerfile", "FROM scratch\nCOPY . /\n");
        write(root, "api/.dockerignore", "secrets/\n*.md\n!KEEP.md\n");
        write(root, "api/src/main.rs", "fn main() {}\n");
        write(root, "api/NOTES.md", "dropped by .dockerignore\n");
        write(root, "api/KEEP.md", "kept by !KEEP.md\n");
        write(root, "api/secrets/key", "dropped by .dockerignore\n");
        run_git(root, &["add", "-A"]);
        run_git(root, &["commit", "-q", "-m", "init"]);
        write(root, "api/debug.log", "ignored by git\n");
        write(root, "api/build/out.bin", "ignored by git\n");
        write(root, "api/new.rs", "untracked, not ignored\n");
        dir
    }

    fn names(files: &[PathBuf]) -> Vec<String> {
        files.iter().map(|p| slash_path(p)).collect()
    }

    #[test]
    fn collect_files_respects_gitignore_and_dockerignore() {
        let dir = repo();
        let files = collect_files(dir.path(), Path::new("api")).expect("collects");
        assert_eq!(
            names(&files),
            [
                ".dockerignore",
                "Dockerfile",
                "KEEP.md",
                "new.rs",
                "src/main.rs"
            ]
        );
        // A file deleted from the working tree but still in the index is not listed.
        std::fs::remove_file(dir.path().join("api/src/main.rs")).expect("rm");
        let files = collect_files(dir.path(), Path::new("api")).expect("collects");
        assert!(!names(&files).contains(&"src/main.rs".to_string()));
        // The whole repository as context: its files relative to the root.
        let all = collect_files(dir.path(), Path::new(".")).expect("collects");
        assert!(names(&all).contains(&"README.md".to_string()));
        assert!(
            names(&all).contains(&"api/NOTES.md".to_string()),
            "no .dockerignore at root"
        );
        assert!(!names(&all).iter().any(|n| n.ends_with(".log")));
    }

    #[test]
    fn collect_files_outside_a_repository_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = collect_files(dir.path(), Path::new(".")).expect_err("not a repository");
        assert!(e.contains("git ls-files"), "{e}");
        let e = collect_files(dir.path(), Path::new("missing")).expect_err("no such dir");
        assert!(e.contains("not a directory"), "{e}");
    }

    #[test]
    fn head_and_pushed_commit() {
        let dir = repo();
        let sha = head_commit(dir.path()).expect("has a commit");
        assert_eq!(sha.len(), 40, "{sha}");
        assert_eq!(pushed_commit(dir.path(), "main"), None, "no remote");
        run_git(
            dir.path(),
            &["update-ref", "refs/remotes/origin/main", &sha],
        );
        assert_eq!(pushed_commit(dir.path(), "main"), Some(sha));
        let empty = tempfile::tempdir().expect("tempdir");
        run_git(empty.path(), &["init", "-q"]);
        assert!(head_commit(empty.path()).is_err());
    }

    #[test]
    fn zip_round_trip() {
        let dir = repo();
        let ctx = dir.path().join("api");
        let files = collect_files(dir.path(), Path::new("api")).expect("collects");
        let bytes = zip_files(&ctx, &files).expect("zips");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes.clone())).expect("reads back");
        let mut seen = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).expect("entry");
            let mut text = String::new();
            f.read_to_string(&mut text).expect("utf-8");
            let name = f.name().to_string();
            assert_eq!(
                text,
                std::fs::read_to_string(ctx.join(&name)).expect("original"),
                "{name}"
            );
            seen.push(name);
        }
        assert_eq!(seen, names(&files));
        // Same files, same bytes (fixed timestamps, sorted entries).
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(zip_files(&ctx, &reversed).expect("zips"), bytes);
    }

    #[test]
    fn inputs_hash_is_stable_and_content_sensitive() {
        let dir = repo();
        let ctx = dir.path().join("api");
        let files = collect_files(dir.path(), Path::new("api")).expect("collects");
        let a = inputs_hash(&ctx, &files).expect("hashes");
        assert_eq!(a.len(), 64);
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(
            inputs_hash(&ctx, &reversed).expect("hashes"),
            a,
            "order-independent"
        );
        write(&ctx, "src/main.rs", "fn main() { println!(); }\n");
        let b = inputs_hash(&ctx, &files).expect("hashes");
        assert_ne!(a, b, "content change");
        // A rename with the same content is a change too.
        std::fs::rename(ctx.join("new.rs"), ctx.join("renamed.rs")).expect("mv");
        let files2 = collect_files(dir.path(), Path::new("api")).expect("collects");
        assert_ne!(inputs_hash(&ctx, &files2).expect("hashes"), b, "rename");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let before = inputs_hash(&ctx, &files2).expect("hashes");
            let p = ctx.join("renamed.rs");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            assert_ne!(
                inputs_hash(&ctx, &files2).expect("hashes"),
                before,
                "chmod +x"
            );
        }
    }
}
