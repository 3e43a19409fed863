//! The env's stop/start schedules, rendered from `[schedule]` and each service.

use serde_json::json;

use super::{RenderError, RenderRequest};
use crate::model::{DesiredService, ScheduleGroupSpec, ScheduleSpec, UPDATE_SERVICE_TARGET};
use crate::{naming, schedule};

/// Per service a stop schedule (desired count 0) and a start schedule (the `desiredCount` the
/// service template rendered, which may differ from `count`), unless schedules are off or the
/// env is always-on.
pub(super) fn schedules(
    req: &RenderRequest,
    cluster: &str,
    services: &[DesiredService],
) -> Result<Option<ScheduleGroupSpec>, RenderError> {
    let cfg = &req.config.config;
    let sc = &cfg.schedule;
    let env = req.env;
    let always_on = req.options.always_on
        || sc
            .always_on
            .iter()
            .any(|e| *e == env.raw || e == env.slug.as_str());
    if !sc.enabled || always_on {
        return Ok(None);
    }
    let config_error = |key: &str, message: String| RenderError {
        file: req.config.path.display().to_string(),
        line: None,
        service: None,
        message: format!("`{key}`: {message}"),
        hint: None,
    };
    let role_arn = req
        .facts
        .scheduler_role_arn
        .clone()
        .ok_or_else(|| RenderError {
            file: req.config.path.display().to_string(),
            line: None,
            service: None,
            message: "schedules are enabled but the scheduler role does not exist".into(),
            hint: Some(
                "run `envctl bootstrap` (it creates the role), or set schedule.enabled = false"
                    .into(),
            ),
        })?;
    let stop = schedule::schedule_expression(&sc.stop, &sc.days)
        .map_err(|m| config_error("schedule.stop", m))?;
    let start = schedule::schedule_expression(&sc.start, &sc.days)
        .map_err(|m| config_error("schedule.start", m))?;
    let group = naming::scheduler_group(&cfg.app, &env.slug);
    let mut schedules = Vec::new();
    for svc in services {
        let (key, service) = (&svc.key, &svc.name);
        let rendered = svc.service.desired_count;
        for (verb, expression, count) in [("stop", &stop, 0), ("start", &start, rendered)] {
            schedules.push(ScheduleSpec {
                group: group.clone(),
                name: naming::schedule_name(verb, key),
                expression: expression.clone(),
                timezone: sc.timezone.clone(),
                flexible_window_minutes: sc.flexible_window_minutes as i32,
                target_arn: UPDATE_SERVICE_TARGET.into(),
                role_arn: role_arn.clone(),
                // The universal target sends this as the UpdateService request.
                input: json!({"Cluster": cluster, "Service": service, "DesiredCount": count})
                    .to_string(),
                state: "ENABLED".into(),
            });
        }
    }
    Ok(Some(ScheduleGroupSpec {
        name: group,
        schedules,
    }))
}
