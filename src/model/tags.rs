//! Ownership tags: how envctl recognises what it created, with no state store of its own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const TAG_MANAGED_BY: &str = "envctl:managed-by";
pub const TAG_APP: &str = "envctl:app";
pub const TAG_ENV: &str = "envctl:env";
pub const TAG_BRANCH: &str = "envctl:branch";
pub const TAG_OWNER: &str = "envctl:owner";
pub const TAG_CREATED_AT: &str = "envctl:created-at";
/// Hash of the service spec envctl last applied: lets `plan` see changes in fields that an
/// endpoint does not echo back (moto drops `capacityProviderStrategy`).
pub const TAG_SPEC_HASH: &str = "envctl:spec-hash";
/// When the env may be collected by `gc` (RFC 3339, on every ECS service of the env).
pub const TAG_EXPIRES_AT: &str = "envctl:expires-at";
/// The TTL the expiry was computed from (`7d`), so a changed TTL is applied on the next `up`.
pub const TAG_TTL: &str = "envctl:ttl";
/// `true`: never collected by `gc`, and `down` needs --force.
pub const TAG_PROTECTED: &str = "envctl:protected";
/// The desired count a service had before `envctl stop`, restored by `envctl start`.
pub const TAG_STOPPED_COUNT: &str = "envctl:stopped-count";
/// The `[services.<key>]` a per-service resource (listener rule, target group) belongs to.
pub const TAG_SERVICE: &str = "envctl:service";
/// On the app's cluster: the shared preview ALB's listener, recorded by `bootstrap` so that
/// per-env commands read the listener's rules in their first round trips instead of looking the
/// ALB up by name and then its listeners. A pointer, checked on use (it must name the app's ALB;
/// a listener that is gone falls back to the lookup by name).
pub const TAG_PREVIEW_LISTENER: &str = "envctl:preview-listener";
pub const MANAGED_BY_VALUE: &str = "envctl";

/// A resource's tags, sorted so that two sets compare and print the same way.
pub type Tags = BTreeMap<String, String>;

/// Who owns a resource, judged only from its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Ownership {
    /// Tagged by envctl for this app and env.
    Ours,
    /// Tagged by envctl, but for another app or env.
    OtherEnv { app: String, env: String },
    /// Not tagged by envctl: never modified or deleted.
    Foreign,
}

/// Classifies a resource by its tags for the given app and env slug.
pub fn ownership(tags: &Tags, app: &str, env: &str) -> Ownership {
    if tags.get(TAG_MANAGED_BY).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return Ownership::Foreign;
    }
    let tag_app = tags.get(TAG_APP).cloned().unwrap_or_default();
    let tag_env = tags.get(TAG_ENV).cloned().unwrap_or_default();
    if tag_app == app && tag_env == env {
        Ownership::Ours
    } else {
        Ownership::OtherEnv {
            app: tag_app,
            env: tag_env,
        }
    }
}

/// Classifies an app-wide resource (cluster, roles): owned when tagged by envctl for this app.
pub fn app_ownership(tags: &Tags, app: &str) -> Ownership {
    if tags.get(TAG_MANAGED_BY).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return Ownership::Foreign;
    }
    match tags.get(TAG_APP) {
        Some(a) if a == app => Ownership::Ours,
        other => Ownership::OtherEnv {
            app: other.cloned().unwrap_or_default(),
            env: tags.get(TAG_ENV).cloned().unwrap_or_default(),
        },
    }
}

/// Classifies `found` for the identity `ours` carries: an env resource's tags (with
/// `envctl:env`) are judged like `ownership`, an app resource's like `app_ownership`. Lets code
/// that holds only the tags it would create a resource with (a create that lost a race) decide
/// whether the resource it found instead is its own.
pub fn ownership_for(found: &Tags, ours: &Tags) -> Ownership {
    let app = ours.get(TAG_APP).map(String::as_str).unwrap_or_default();
    match ours.get(TAG_ENV) {
        Some(env) => ownership(found, app, env),
        None => app_ownership(found, app),
    }
}

/// The identity stamped on everything an env creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvIdentity {
    pub app: String,
    /// The env's slug (see `naming`), the value of `envctl:env`.
    pub env: String,
    /// The original branch or env name as the user gave it.
    pub branch: String,
    pub owner: String,
    /// RFC 3339 UTC time; set on create and never changed afterwards.
    pub created_at: String,
}

impl EnvIdentity {
    /// The full ownership tag set for a new env resource.
    pub fn tags(&self) -> Tags {
        let mut t = Tags::new();
        t.insert(TAG_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
        t.insert(TAG_APP.into(), self.app.clone());
        t.insert(TAG_ENV.into(), self.env.clone());
        t.insert(TAG_BRANCH.into(), tag_value(&self.branch));
        t.insert(TAG_OWNER.into(), tag_value(&self.owner));
        t.insert(TAG_CREATED_AT.into(), self.created_at.clone());
        t
    }
}

/// Tags for an app-wide resource (cluster, roles) created by `bootstrap`.
pub fn app_tags(app: &str, owner: &str, created_at: &str) -> Tags {
    let mut t = Tags::new();
    t.insert(TAG_MANAGED_BY.into(), MANAGED_BY_VALUE.into());
    t.insert(TAG_APP.into(), app.into());
    t.insert(TAG_OWNER.into(), tag_value(owner));
    t.insert(TAG_CREATED_AT.into(), created_at.into());
    t
}

/// Makes any string a valid tag value for every service envctl uses (the strictest set is
/// letters, digits, spaces and `_ . : / = + - @`, at most 256 characters).
pub fn tag_value(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn untagged_resource_is_foreign() {
        assert_eq!(ownership(&Tags::new(), "shop", "feat"), Ownership::Foreign);
        let wrong = tags(&[
            (TAG_MANAGED_BY, "terraform"),
            (TAG_APP, "shop"),
            (TAG_ENV, "feat"),
        ]);
        assert_eq!(ownership(&wrong, "shop", "feat"), Ownership::Foreign);
    }

    #[test]
    fn another_envs_resource_is_not_ours() {
        let t = tags(&[
            (TAG_MANAGED_BY, "envctl"),
            (TAG_APP, "shop"),
            (TAG_ENV, "feat-x"),
        ]);
        assert_eq!(ownership(&t, "shop", "feat-x"), Ownership::Ours);
        assert_eq!(
            ownership(&t, "shop", "feat"),
            Ownership::OtherEnv {
                app: "shop".into(),
                env: "feat-x".into()
            }
        );
    }

    #[test]
    fn ownership_for_judges_by_the_identity_in_our_tags() {
        let env_res = tags(&[
            (TAG_MANAGED_BY, "envctl"),
            (TAG_APP, "shop"),
            (TAG_ENV, "feat"),
            (TAG_OWNER, "someone-else"),
        ]);
        let ours = tags(&[
            (TAG_MANAGED_BY, "envctl"),
            (TAG_APP, "shop"),
            (TAG_ENV, "feat"),
            (TAG_OWNER, "me"),
        ]);
        assert_eq!(ownership_for(&env_res, &ours), Ownership::Ours);
        let mut other = ours.clone();
        other.insert(TAG_ENV.into(), "feat-x".into());
        assert_eq!(
            ownership_for(&env_res, &other),
            Ownership::OtherEnv {
                app: "shop".into(),
                env: "feat".into()
            }
        );
        assert_eq!(ownership_for(&Tags::new(), &ours), Ownership::Foreign);
        // App resources have no env tag: the app decides.
        let app_ours = app_tags("shop", "me", "2026-01-01T00:00:00Z");
        assert_eq!(ownership_for(&env_res, &app_ours), Ownership::Ours);
        assert_eq!(
            ownership_for(&app_tags("cart", "me", "t"), &app_ours),
            Ownership::OtherEnv {
                app: "cart".into(),
                env: String::new()
            }
        );
    }

    #[test]
    fn tag_values_drop_characters_aws_rejects() {
        assert_eq!(tag_value("feature/ABC#1!"), "feature/ABC_1_");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }
}
