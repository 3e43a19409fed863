//! When the env expires: `expiry.ttl` (or `--ttl`) counted from this `up`.

use super::{RenderError, RenderRequest};
use crate::model::ExpirySpec;
use crate::schedule;

/// Expiry counts from this `up` (the last activity): see docs/lifecycle.md.
pub(super) fn expiry(req: &RenderRequest) -> Result<ExpirySpec, RenderError> {
    let text = req
        .options
        .ttl
        .clone()
        .unwrap_or_else(|| req.config.config.expiry.ttl.clone());
    let ttl = schedule::parse_duration_spec(&text).map_err(|m| RenderError {
        file: if req.options.ttl.is_some() {
            "--ttl".into()
        } else {
            req.config.path.display().to_string()
        },
        line: None,
        service: None,
        message: m,
        hint: Some("use a duration such as `7d`, `72h`, or `never`".into()),
    })?;
    let now = req.options.now;
    let at = |d: jiff::SignedDuration| now.checked_add(d).ok().map(rfc3339);
    Ok(ExpirySpec {
        expires_at: ttl.and_then(at),
        ttl: ttl.map(|_| text.clone()),
        refresh_before: ttl.and_then(|d| at(d / 2)),
        protect: req.options.protect,
    })
}

/// Seconds precision, `Z`: sorts and compares as text.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Second)
        .unwrap_or(t)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
