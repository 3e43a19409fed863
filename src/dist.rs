//! Where prebuilt envctl binaries live and how a machine that runs envctl (a GitHub runner, the
//! janitor's CodeBuild container) installs one: the one place that knows the release layout
//! that `.github/workflows/release.yml` and `scripts/install.sh` publish and read.
//!
//! Layout, per release tag `v{version}`: `envctl-v{version}-{target}.tar.gz` (the `envctl`
//! binary at the archive root) and `SHA256SUMS` (`sha256sum` lines for every archive).

use std::fmt;

/// This build's version: what the generated workflow and the janitor pin by default.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Release downloads, from the package's `repository` (Cargo.toml). The installers read
/// `ENVCTL_RELEASE_URL` first, so a mirror (or a test's `file://` directory) can stand in.
pub const RELEASES_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/releases/download");

/// The release targets: static musl binaries for Linux, native ones for macOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    LinuxX86_64,
    LinuxAarch64,
    MacX86_64,
    MacAarch64,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::LinuxX86_64,
        Target::LinuxAarch64,
        Target::MacX86_64,
        Target::MacAarch64,
    ];

    pub fn triple(self) -> &'static str {
        match self {
            Target::LinuxX86_64 => "x86_64-unknown-linux-musl",
            Target::LinuxAarch64 => "aarch64-unknown-linux-musl",
            Target::MacX86_64 => "x86_64-apple-darwin",
            Target::MacAarch64 => "aarch64-apple-darwin",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

/// `envctl-v0.1.0-x86_64-unknown-linux-musl.tar.gz`.
pub fn archive_name(version: &str, target: Target) -> String {
    format!("envctl-v{version}-{target}.tar.gz")
}

/// Whether `s` is a release version envctl can put in a URL and a shell line (`1.2.3`,
/// `1.2.3-rc.1`).
pub fn is_version(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c))
}

/// Whether `s` is a SHA-256 digest in hex.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// A pinned prebuilt envctl to install: version, target, and optionally the archive's digest.
/// Without a pinned digest the archive is checked against the release's `SHA256SUMS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prebuilt {
    pub version: String,
    pub target: Target,
    pub sha256: Option<String>,
}

impl Prebuilt {
    /// A POSIX shell script (for a `run: |` step or a buildspec block) that downloads the
    /// archive, refuses it unless its SHA-256 matches, and puts `envctl` into `$bin_dir`
    /// (a shell word: a path or a variable reference). Values were validated by the caller;
    /// they are still single-quoted.
    pub fn install_script(&self, bin_dir: &str) -> String {
        let archive = archive_name(&self.version, self.target);
        let expected = match &self.sha256 {
            Some(digest) => format!("want='{}'", digest.to_ascii_lowercase()),
            None => "curl -fsSL --retry 3 -o \"$tmp/SHA256SUMS\" \"$base/SHA256SUMS\"\n\
                     want=$(awk -v f=\"$archive\" '$2 == f || $2 == \"*\" f { print $1 }' \"$tmp/SHA256SUMS\")\n\
                     [ -n \"$want\" ] || { echo \"envctl: $archive is not in SHA256SUMS\" >&2; exit 1; }"
                .to_string(),
        };
        format!(
            "set -eu\n\
             base=\"${{ENVCTL_RELEASE_URL:-{releases}}}/v{version}\"\n\
             archive='{archive}'\n\
             tmp=$(mktemp -d)\n\
             curl -fsSL --retry 3 -o \"$tmp/$archive\" \"$base/$archive\"\n\
             {expected}\n\
             got=$(sha256sum \"$tmp/$archive\" | cut -d' ' -f1)\n\
             [ \"$got\" = \"$want\" ] || {{ echo \"envctl: checksum mismatch for $archive: expected $want, got $got\" >&2; exit 1; }}\n\
             mkdir -p {bin_dir}\n\
             tar -xzf \"$tmp/$archive\" -C {bin_dir} envctl\n\
             rm -rf \"$tmp\"\n\
             {bin_dir}/envctl --version\n",
            releases = RELEASES_URL,
            version = self.version,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_match_the_release_workflow() {
        assert_eq!(
            archive_name("0.1.0", Target::LinuxAarch64),
            "envctl-v0.1.0-aarch64-unknown-linux-musl.tar.gz"
        );
        assert!(RELEASES_URL.ends_with("/releases/download"));
        assert!(RELEASES_URL.starts_with("https://github.com/"));
    }

    #[test]
    fn versions_and_digests_are_checked_before_they_reach_a_shell() {
        assert!(is_version("0.1.0"));
        assert!(is_version("1.20.3-rc.1"));
        assert!(!is_version("1.2"));
        assert!(!is_version("1.2.3; rm -rf /"));
        assert!(!is_version("latest"));
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"g".repeat(64)));
        assert!(!is_sha256("abc"));
    }

    #[test]
    fn a_pinned_digest_skips_the_release_checksum_file() {
        let pinned = Prebuilt {
            version: "0.1.0".into(),
            target: Target::LinuxX86_64,
            sha256: Some("AB".repeat(32)),
        };
        let script = pinned.install_script("\"$HOME/bin\"");
        assert!(script.contains(&format!("want='{}'", "ab".repeat(32))));
        assert!(!script.contains("SHA256SUMS"));
        let unpinned = Prebuilt {
            sha256: None,
            ..pinned
        };
        assert!(unpinned
            .install_script("/usr/local/bin")
            .contains("SHA256SUMS"));
    }
}
