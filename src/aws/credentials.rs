//! Region, profile and credentials, checked before envctl sends anything: a region name that
//! cannot be one, a profile that is not in the config files, or credentials that cannot be had
//! are each one line naming the cause and a hint naming the fix, not an SDK error from the first
//! call (which blamed `ecs:DescribeClusters` and printed 1.7 KB of `Debug` structs).
//!
//! Credentials are resolved once, up front, and shared by every client until they near expiry
//! (each generated client would otherwise resolve them on its own).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use super::error::{AwsError, AwsErrorKind, AwsResult};

/// Whether `name` is spelled like an AWS region: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
/// `cn-northwest-1`, `us-isob-east-1`. Anything else would become an endpoint host that
/// cannot exist, and the SDK would retry it for seconds before saying so.
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let letters = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [area, middle @ .., number] if !middle.is_empty() && middle.len() <= 3 => {
            area.len() == 2
                && letters(area)
                && middle.iter().all(letters)
                && (1..=2).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// An input error for a region that cannot be one; `origin` says where it came from.
pub(crate) fn check_region(region: &str, origin: &str) -> AwsResult<()> {
    if is_region_name(region) {
        return Ok(());
    }
    Err(AwsError::setup(
        AwsErrorKind::Region,
        format!("`{region}` ({origin}) is not an AWS region name such as us-east-1 or eu-west-1"),
    ))
}

/// Where a region that was not passed with `--region` came from, for messages.
pub(crate) fn region_origin(region: &str) -> &'static str {
    let from = |var: &str| std::env::var(var).ok().as_deref() == Some(region);
    if from("AWS_REGION") {
        "from AWS_REGION"
    } else if from("AWS_DEFAULT_REGION") {
        "from AWS_DEFAULT_REGION"
    } else {
        "from the AWS profile"
    }
}

/// The shared config and credentials files the SDK reads, as users know them:
/// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` / `~/.aws/credentials`.
pub(crate) fn config_files() -> (String, String) {
    let file = |var: &str, default: &str| {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    (
        file("AWS_CONFIG_FILE", "~/.aws/config"),
        file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    )
}

/// What envctl knows about the named profile, for credential messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileInfo {
    pub name: Option<String>,
    /// The profile gets its credentials from IAM Identity Center (`sso_session` / `sso_start_url`).
    pub sso: bool,
}

/// Checks that `name` is a profile in the config or credentials file, before any call: the
/// SDK would only fail at the first call, with a message that never names the profile.
pub(crate) async fn check_profile(name: &str) -> AwsResult<ProfileInfo> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let (config, credentials) = config_files();
    let profiles =
        aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
            .await
            .map_err(|e| {
                AwsError::setup(
                    AwsErrorKind::Profile,
                    format!("cannot read the AWS config files: {}", chain(&e)),
                )
                .with_hint(format!("fix {config} or {credentials}"))
            })?;
    let Some(profile) = profiles.get_profile(name) else {
        let mut known: Vec<&str> = profiles.profiles().collect();
        known.sort();
        let hint = if known.is_empty() {
            format!(
                "there are no profiles there; create one with `aws configure --profile {name}` \
                 or `aws configure sso`, or point AWS_CONFIG_FILE at your config"
            )
        } else {
            format!(
                "profiles there: {}; pass one of them with --profile or AWS_PROFILE",
                known.join(", ")
            )
        };
        return Err(AwsError::setup(
            AwsErrorKind::Profile,
            format!("profile \"{name}\" not found in {config} or {credentials}"),
        )
        .with_hint(hint));
    };
    let sso = profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some();
    Ok(ProfileInfo {
        name: Some(name.to_string()),
        sso,
    })
}

/// The error for credentials that could not be resolved, naming the cause and the fix.
pub(crate) fn credentials_error(e: &CredentialsError, profile: &ProfileInfo) -> AwsError {
    let named = profile.name.as_deref();
    let (config, credentials) = config_files();
    let (message, hint) = match (e, named) {
        (_, Some(name))
            if profile.sso && !matches!(e, CredentialsError::CredentialsNotLoaded(_)) =>
        {
            (
                format!(
                    "cannot get AWS credentials for profile \"{name}\" from its SSO session: {}",
                    root_cause(e)
                ),
                format!("run `aws sso login --profile {name}`, then run envctl again"),
            )
        }
        (CredentialsError::CredentialsNotLoaded(_), Some(name)) => (
            format!("profile \"{name}\" gives no AWS credentials ({config}, {credentials})"),
            format!(
                "add keys, `sso_session` or `role_arn` to profile \"{name}\", or run \
                 `aws configure --profile {name}`"
            ),
        ),
        (CredentialsError::CredentialsNotLoaded(_), None) => (
            format!(
                "no AWS credentials found (looked at AWS_ACCESS_KEY_ID, AWS_PROFILE, the default \
                 profile in {config} and {credentials}, and container and instance roles)"
            ),
            "pass --profile NAME, run `aws sso login --profile NAME`, or set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .to_string(),
        ),
        (CredentialsError::ProviderTimedOut(t), _) => (
            format!(
                "getting AWS credentials timed out after {}s",
                t.timeout_duration().as_secs()
            ),
            "check the network; on EC2 or ECS, that the instance or task has a role".to_string(),
        ),
        (CredentialsError::InvalidConfiguration(_), _) => (
            format!(
                "the AWS credentials configuration is invalid: {}",
                root_cause(e)
            ),
            format!("fix the profile in {config} or {credentials}"),
        ),
        (_, _) => (
            format!("cannot get AWS credentials: {}", root_cause(e)),
            match named {
                Some(name) => format!("check profile \"{name}\" in {config}"),
                None => "pass --profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .to_string(),
            },
        ),
    };
    AwsError::setup(AwsErrorKind::Credentials, message).with_hint(hint)
}

/// The innermost error's text: the one that says what actually went wrong.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Every error in the chain, `: `-joined, skipping one whose text its parent already shows.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Credentials resolved once for every client, then again only when they near expiry.
#[derive(Debug)]
pub(crate) struct SharedOnce {
    inner: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
}

/// Credentials this close to expiry are refreshed rather than handed out.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

impl SharedOnce {
    /// Resolves credentials now, so a failure is reported before any call.
    pub(crate) async fn resolve(
        inner: SharedCredentialsProvider,
    ) -> Result<SharedOnce, CredentialsError> {
        let first = inner.provide_credentials().await?;
        Ok(SharedOnce {
            inner,
            cached: Mutex::new(Some(first)),
        })
    }

    fn fresh(&self) -> Option<Credentials> {
        let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| {
                c.expiry().is_none_or(|at| {
                    at.duration_since(SystemTime::now())
                        .is_ok_and(|left| left > REFRESH_BEFORE_EXPIRY)
                })
            })
            .cloned()
    }
}

impl ProvideCredentials for SharedOnce {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(creds) = self.fresh() {
                return Ok(creds);
            }
            let creds = self.inner.provide_credentials().await?;
            *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(creds.clone());
            Ok(creds)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_by_shape() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-7",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-isob-east-1",
            "il-central-1",
            "xx-nowhere-9",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "garbage",
            "",
            "us-east",
            "US-EAST-1",
            "us-east-1 ",
            "useast1",
            "us--1",
            "us-east-123",
            "u-east-1",
            "eu-west-1.amazonaws.com",
            "https://ecs.us-east-1.amazonaws.com",
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_region_names_itself_and_where_it_came_from() {
        let e = check_region("garbage", "from --region").expect_err("not a region");
        assert_eq!(e.kind, AwsErrorKind::Region);
        assert_eq!(
            e.to_string(),
            "`garbage` (from --region) is not an AWS region name such as us-east-1 or eu-west-1"
        );
    }

    #[test]
    fn missing_credentials_read_as_one_line_with_the_fix() {
        let e = credentials_error(
            &CredentialsError::not_loaded("no providers in chain provided credentials"),
            &ProfileInfo::default(),
        );
        let text = e.to_string();
        assert!(text.starts_with("no AWS credentials found"), "{text}");
        assert!(!text.contains('\n') && !text.contains("{ "), "{text}");
        assert!(e.hint().is_some_and(|h| h.contains("--profile")));
    }

    #[test]
    fn an_sso_profile_that_fails_says_aws_sso_login() {
        let e = credentials_error(
            &CredentialsError::provider_error("the SSO token has expired and cannot be refreshed"),
            &ProfileInfo {
                name: Some("dev".into()),
                sso: true,
            },
        );
        assert_eq!(
            e.to_string(),
            "cannot get AWS credentials for profile \"dev\" from its SSO session: \
             the SSO token has expired and cannot be refreshed"
        );
        assert_eq!(
            e.hint(),
            Some("run `aws sso login --profile dev`, then run envctl again")
        );
    }

    #[tokio::test]
    async fn credentials_are_resolved_once_for_every_client() {
        #[derive(Debug, Default)]
        struct Counting(std::sync::atomic::AtomicU32);
        impl ProvideCredentials for Counting {
            fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                future::ProvideCredentials::ready(Ok(Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                )))
            }
        }
        let counting = std::sync::Arc::new(Counting::default());
        let shared = SharedOnce::resolve(SharedCredentialsProvider::new(CountingRef(
            counting.clone(),
        )))
        .await
        .expect("resolved");
        for _ in 0..5 {
            shared.provide_credentials().await.expect("cached");
        }
        assert_eq!(counting.0.load(std::sync::atomic::Ordering::SeqCst), 1);

        #[derive(Debug)]
        struct CountingRef(std::sync::Arc<Counting>);
        impl ProvideCredentials for CountingRef {
            fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                self.0.provide_credentials()
            }
        }
    }
}
