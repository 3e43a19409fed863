//! Git repository URLs that CodeBuild can check out (`janitor.source`, `build.repository_url`):
//! GitHub or CodeCommit over HTTPS, and which kind each is.

/// The repository the build checks out, as CodeBuild names its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// `GITHUB` or `CODECOMMIT`.
    pub source_type: &'static str,
    pub location: String,
    /// For CODECOMMIT: the repository ARN the build role may pull from.
    pub codecommit_repo: Option<(String, String)>,
}

/// Accepts `https://github.com/OWNER/REPO[.git]` and
/// `https://git-codecommit.REGION.amazonaws.com/v1/repos/REPO`; anything else is an error message.
pub fn parse_source(url: &str) -> std::result::Result<GitSource, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("`{url}` is not an HTTPS git URL"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if host == "github.com" {
        return match segments.as_slice() {
            [owner, repo] if plain(owner) && plain(repo) => Ok(GitSource {
                source_type: "GITHUB",
                location: url.to_string(),
                codecommit_repo: None,
            }),
            _ => Err(format!("`{url}` is not a GitHub repository URL")),
        };
    }
    if let Some(region) = host
        .strip_prefix("git-codecommit.")
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
    {
        return match segments.as_slice() {
            ["v1", "repos", repo] if plain(repo) && plain(region) => Ok(GitSource {
                source_type: "CODECOMMIT",
                location: url.to_string(),
                codecommit_repo: Some((region.to_string(), repo.to_string())),
            }),
            _ => Err(format!("`{url}` is not a CodeCommit repository URL")),
        };
    }
    Err(format!(
        "`{url}` is neither a GitHub nor a CodeCommit repository"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_github_or_codecommit() {
        let gh = parse_source("https://github.com/acme/shop.git").unwrap();
        assert_eq!(gh.source_type, "GITHUB");
        assert_eq!(gh.location, "https://github.com/acme/shop.git");
        assert_eq!(
            parse_source("https://github.com/acme/shop")
                .unwrap()
                .source_type,
            "GITHUB"
        );
        let cc =
            parse_source("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop").unwrap();
        assert_eq!(cc.source_type, "CODECOMMIT");
        assert_eq!(
            cc.codecommit_repo,
            Some(("eu-west-1".to_string(), "shop".to_string()))
        );
        for bad in [
            "git@github.com:acme/shop.git",
            "http://github.com/acme/shop.git",
            "https://gitlab.com/acme/shop.git",
            "https://github.com/acme",
            "https://github.com/acme/shop/tree/main",
            "https://git-codecommit.eu-west-1.amazonaws.com/v1/shop",
        ] {
            assert!(parse_source(bad).is_err(), "{bad} should be rejected");
        }
    }
}
