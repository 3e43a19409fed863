//! EventBridge Scheduler: the per-env schedule group and the stop/start schedules in it, converted
//! to and from `model::ScheduleSpec` so no other module sees `aws_sdk_scheduler`.

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types as sch;
use aws_smithy_types::error::operation::BuildError;
use futures::future::try_join_all;

use super::reply::not_found_as_none;
use super::{Aws, AwsError, AwsResult};
use crate::model::{ScheduleGroupState, ScheduleSpec, Tags};

/// Scheduler's own default when a schedule names no timezone.
const DEFAULT_TIMEZONE: &str = "UTC";

impl Aws {
    /// The group with its tags, or `None` when it does not exist. A group being deleted is still
    /// reported (state `DELETING`): its name cannot be reused until it is gone.
    pub async fn describe_schedule_group(
        &self,
        name: &str,
    ) -> AwsResult<Option<ScheduleGroupState>> {
        let Some(out) = not_found_as_none(
            self.scheduler.get_schedule_group().name(name).send().await,
            |e| e.is_resource_not_found_exception(),
            "scheduler:GetScheduleGroup",
            name,
        )?
        else {
            return Ok(None);
        };
        let arn = out
            .arn()
            .ok_or_else(|| {
                AwsError::unexpected("scheduler:GetScheduleGroup", name, "reply has no ARN")
            })?
            .to_string();
        let tags = match self
            .scheduler
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
        {
            Ok(out) => out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            // Deleted between the two calls.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(AwsError::from_sdk("scheduler:ListTagsForResource", &arn, e)),
        };
        Ok(Some(ScheduleGroupState {
            name: out.name().unwrap_or(name).to_string(),
            arn,
            state: out
                .state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            tags,
        }))
    }

    /// Creates the group with its tags. An existing name is an error on AWS (ConflictException);
    /// callers observe first.
    pub async fn create_schedule_group(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        const ACTION: &str = "scheduler:CreateScheduleGroup";
        let sdk_tags = tags
            .iter()
            .map(|(k, v)| sch::Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(ACTION, name, e))?;
        self.scheduler
            .create_schedule_group()
            .name(name)
            .set_tags((!sdk_tags.is_empty()).then_some(sdk_tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        Ok(())
    }

    /// Deletes the group and, with it, every schedule in it (AWS finishes that asynchronously,
    /// the group shows `DELETING` meanwhile). A missing or already deleting group is success.
    pub async fn delete_schedule_group(&self, name: &str) -> AwsResult<()> {
        // Looked up first: moto answers a missing group with a 500, not ResourceNotFound.
        match self.describe_schedule_group(name).await? {
            None => return Ok(()),
            Some(group) if group.state == sch::ScheduleGroupState::Deleting.as_str() => {
                return Ok(())
            }
            Some(_) => {}
        }
        match self
            .scheduler
            .delete_schedule_group()
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("scheduler:DeleteScheduleGroup", name, e)),
        }
    }

    /// Every schedule in `group`, in full, sorted by name; none when the group does not exist.
    /// ListSchedules only summarises, so each schedule is read with GetSchedule (concurrently).
    pub async fn list_schedules(&self, group: &str) -> AwsResult<Vec<ScheduleSpec>> {
        let listed = self
            .scheduler
            .list_schedules()
            .group_name(group)
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let summaries = match listed {
            Ok(summaries) => summaries,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(AwsError::from_sdk("scheduler:ListSchedules", group, e)),
        };
        let reads = summaries
            .iter()
            .filter_map(|s| s.name())
            .map(|name| self.get_schedule(group, name));
        let mut specs: Vec<ScheduleSpec> =
            try_join_all(reads).await?.into_iter().flatten().collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(specs)
    }

    /// The named schedules of `group` that exist, in full, sorted by name: read by the names the
    /// config derives, concurrently, instead of listing the group first (one round trip less).
    pub async fn get_schedules(
        &self,
        group: &str,
        names: &[String],
    ) -> AwsResult<Vec<ScheduleSpec>> {
        let reads = names.iter().map(|name| self.get_schedule(group, name));
        let mut specs: Vec<ScheduleSpec> =
            try_join_all(reads).await?.into_iter().flatten().collect();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(specs)
    }

    /// Creates the schedule in `spec.group`, which must exist. An existing name is an error
    /// (ConflictException, on AWS and moto alike).
    pub async fn create_schedule(&self, spec: &ScheduleSpec) -> AwsResult<()> {
        const ACTION: &str = "scheduler:CreateSchedule";
        let resource = resource(spec);
        let (window, target) =
            schedule_parts(spec).map_err(|e| build_error(ACTION, &resource, e))?;
        self.scheduler
            .create_schedule()
            .group_name(&spec.group)
            .name(&spec.name)
            .schedule_expression(&spec.expression)
            .schedule_expression_timezone(&spec.timezone)
            .flexible_time_window(window)
            .target(target)
            .state(sch::ScheduleState::from(spec.state.as_str()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, resource, e))?;
        Ok(())
    }

    /// Replaces the schedule's whole definition: UpdateSchedule resets every field left out, so
    /// everything envctl manages is sent again.
    pub async fn update_schedule(&self, spec: &ScheduleSpec) -> AwsResult<()> {
        const ACTION: &str = "scheduler:UpdateSchedule";
        let resource = resource(spec);
        let (window, target) =
            schedule_parts(spec).map_err(|e| build_error(ACTION, &resource, e))?;
        self.scheduler
            .update_schedule()
            .group_name(&spec.group)
            .name(&spec.name)
            .schedule_expression(&spec.expression)
            .schedule_expression_timezone(&spec.timezone)
            .flexible_time_window(window)
            .target(target)
            .state(sch::ScheduleState::from(spec.state.as_str()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, resource, e))?;
        Ok(())
    }

    /// Deletes one schedule; a missing schedule (or group) is success.
    pub async fn delete_schedule(&self, group: &str, name: &str) -> AwsResult<()> {
        match self
            .scheduler
            .delete_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk(
                "scheduler:DeleteSchedule",
                format!("{group}/{name}"),
                e,
            )),
        }
    }

    /// `None` when the schedule (or its group) does not exist.
    async fn get_schedule(&self, group: &str, name: &str) -> AwsResult<Option<ScheduleSpec>> {
        match self
            .scheduler
            .get_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
        {
            Ok(out) => schedule_from_sdk(&out, group, name).map(Some),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk(
                "scheduler:GetSchedule",
                format!("{group}/{name}"),
                e,
            )),
        }
    }
}

fn schedule_from_sdk(out: &GetScheduleOutput, group: &str, name: &str) -> AwsResult<ScheduleSpec> {
    let resource = format!("{group}/{name}");
    let missing = |field: &str| {
        AwsError::unexpected(
            "scheduler:GetSchedule",
            &resource,
            format!("reply has no {field}"),
        )
    };
    let target = out.target().ok_or_else(|| missing("target"))?;
    let flexible_window_minutes = match out.flexible_time_window() {
        Some(w) if *w.mode() == sch::FlexibleTimeWindowMode::Flexible => {
            w.maximum_window_in_minutes().unwrap_or(0)
        }
        _ => 0,
    };
    Ok(ScheduleSpec {
        group: out.group_name().unwrap_or(group).to_string(),
        name: out.name().unwrap_or(name).to_string(),
        expression: out
            .schedule_expression()
            .ok_or_else(|| missing("schedule expression"))?
            .to_string(),
        timezone: out
            .schedule_expression_timezone()
            .unwrap_or(DEFAULT_TIMEZONE)
            .to_string(),
        flexible_window_minutes,
        target_arn: target.arn().to_string(),
        role_arn: target.role_arn().to_string(),
        input: target.input().unwrap_or_default().to_string(),
        state: out
            .state()
            .unwrap_or(&sch::ScheduleState::Enabled)
            .as_str()
            .to_string(),
    })
}

/// The flexible window and target of a spec, as the SDK wants them for create and update.
fn schedule_parts(
    spec: &ScheduleSpec,
) -> Result<(sch::FlexibleTimeWindow, sch::Target), BuildError> {
    let window = if spec.flexible_window_minutes > 0 {
        sch::FlexibleTimeWindow::builder()
            .mode(sch::FlexibleTimeWindowMode::Flexible)
            .maximum_window_in_minutes(spec.flexible_window_minutes)
            .build()?
    } else {
        sch::FlexibleTimeWindow::builder()
            .mode(sch::FlexibleTimeWindowMode::Off)
            .build()?
    };
    let target = sch::Target::builder()
        .arn(&spec.target_arn)
        .role_arn(&spec.role_arn)
        .set_input((!spec.input.is_empty()).then(|| spec.input.clone()))
        .build()?;
    Ok((window, target))
}

fn resource(spec: &ScheduleSpec) -> String {
    format!("{}/{}", spec.group, spec.name)
}

fn build_error(action: &str, resource: &str, e: BuildError) -> AwsError {
    AwsError::unexpected(action, resource, format!("invalid request: {e}"))
}
