//! `envctl ls`

use crate::commands::age;
use crate::error::{exit, Result};
use crate::ops::{inspect, Session};

pub async fn run(session: &Session) -> Result<i32> {
    let (envs, capacity) = inspect::ls_with_capacity(session).await?;
    let p = &session.printer;
    if p.is_json() {
        p.json(&envs);
        return Ok(exit::OK);
    }
    if let Some(c) = &capacity {
        p.status(format!(
            "preview ALB: {}/{} listener rules, {}/{} target groups in use",
            c.rules, c.max_rules, c.target_groups, c.max_target_groups
        ));
    }
    if envs.is_empty() {
        p.status("No envs.");
        return Ok(exit::OK);
    }
    let rows = envs
        .iter()
        .map(|e| {
            vec![
                e.env.clone(),
                e.branch.clone(),
                e.owner.clone(),
                e.services.to_string(),
                format!("{}/{}", e.desired, e.running),
                e.cost_month_usd
                    .map(crate::cost::usd)
                    .unwrap_or_else(|| "-".into()),
                age(&e.created_at),
                expiry_cell(e.expires_at.as_deref(), e.protected),
                e.next_stop.clone().unwrap_or_else(|| "-".into()),
                e.next_start.clone().unwrap_or_else(|| "-".into()),
                e.last_deploy
                    .as_deref()
                    .map(age)
                    .map(|a| format!("{a} ago"))
                    .unwrap_or_else(|| "-".into()),
                if e.urls.is_empty() {
                    "-".to_string()
                } else {
                    e.urls.join(" ")
                },
            ]
        })
        .collect();
    p.text(p.table(
        &[
            "ENV",
            "BRANCH",
            "OWNER",
            "SERVICES",
            "DESIRED/RUNNING",
            "COST/MO",
            "AGE",
            "EXPIRES",
            "NEXT STOP",
            "NEXT START",
            "LAST DEPLOY",
            "URL",
        ],
        rows,
    ));
    Ok(exit::OK)
}

fn expiry_cell(expires_at: Option<&str>, protected: bool) -> String {
    let at = expires_at.unwrap_or("never");
    if protected {
        format!("{at} (protected)")
    } else {
        at.to_string()
    }
}
