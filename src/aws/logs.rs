//! CloudWatch Logs: the env's log group, where its containers' awslogs output goes, and the
//! tail of a build's log stream when a build fails, and the events `envctl logs` shows.

use super::reply::not_found_as_none;
use super::{Aws, AwsError, AwsResult};
use crate::model::{LogEvent, LogGroupState, LogQuery, Tags};

impl Aws {
    /// The log group named exactly `name` with its retention and tags, or `None`.
    /// `arn` is the group's ARN without the trailing `:*` that DescribeLogGroups appends.
    pub async fn describe_log_group(&self, name: &str) -> AwsResult<Option<LogGroupState>> {
        // The prefix match also returns `name-other`, `name/sub`...: keep the exact name only.
        let mut pages = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        let mut found = None;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", name, e))?;
            if let Some(group) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
            {
                found = Some(group.clone());
                break;
            }
        }
        let Some(group) = found else {
            return Ok(None);
        };
        let arn = group
            .log_group_arn()
            .or_else(|| group.arn().map(|a| a.strip_suffix(":*").unwrap_or(a)))
            .ok_or_else(|| {
                AwsError::unexpected("logs:DescribeLogGroups", name, "reply has no log group ARN")
            })?
            .to_string();
        // ListTagsForResource wants the ARN without `:*`; ListTagsLogGroup is deprecated.
        let tags = self
            .logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", name, e))?
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Some(LogGroupState {
            name: name.to_string(),
            arn,
            retention_days: group.retention_in_days(),
            tags,
        }))
    }

    /// Creates the log group with `tags`. Fails (code `ResourceAlreadyExistsException`) when a
    /// group of that name exists: it appeared after envctl observed, so it may not be ours and
    /// must not be adopted silently; the caller decides what to do.
    pub async fn create_log_group(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        self.logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(
                (!tags.is_empty())
                    .then(|| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:CreateLogGroup", name, e))?;
        Ok(())
    }

    /// Sets how many days the group keeps events (AWS accepts only certain values: 1, 3, 5, 7,
    /// 14, 30, ...).
    pub async fn put_retention(&self, name: &str, days: i32) -> AwsResult<()> {
        self.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs:PutRetentionPolicy", name, e))?;
        Ok(())
    }

    /// Deletes the log group and its events; a missing group is success.
    pub async fn delete_log_group(&self, name: &str) -> AwsResult<()> {
        match self
            .logs
            .delete_log_group()
            .log_group_name(name)
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
            Err(e) => Err(AwsError::from_sdk("logs:DeleteLogGroup", name, e)),
        }
    }

    /// The last `lines` events of one stream, oldest first, each without its trailing newline.
    /// A missing group or stream (the build never got far enough to log) has no lines.
    pub async fn tail_log_events(
        &self,
        group: &str,
        stream: &str,
        lines: usize,
    ) -> AwsResult<Vec<String>> {
        if lines == 0 {
            return Ok(Vec::new());
        }
        // GetLogEvents answers at most 10,000 events per call.
        let limit = i32::try_from(lines.min(10_000)).unwrap_or(10_000);
        let out = match self
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(false)
            .limit(limit)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "logs:GetLogEvents",
                    format!("{group}/{stream}"),
                    e,
                ))
            }
        };
        // Even from the tail, a page's events are in chronological order.
        let events = out.events();
        let skip = events.len().saturating_sub(lines);
        Ok(events[skip..]
            .iter()
            .filter_map(|e| e.message())
            .map(|m| m.trim_end_matches(['\n', '\r']).to_string())
            .collect())
    }

    /// The events of one stream after `token` (from the start without one), oldest first, and
    /// the token to read on from. A stream that does not exist yet (the task has not logged)
    /// has no events and keeps the token.
    pub async fn read_log_stream(
        &self,
        group: &str,
        stream: &str,
        token: Option<&str>,
    ) -> AwsResult<(Vec<String>, Option<String>)> {
        let out = match self
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok((Vec::new(), token.map(str::to_string)))
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "logs:GetLogEvents",
                    format!("{group}/{stream}"),
                    e,
                ))
            }
        };
        let lines = out
            .events()
            .iter()
            .filter_map(|e| e.message())
            .map(|m| m.trim_end_matches(['\n', '\r']).to_string())
            .collect();
        Ok((lines, out.next_forward_token().map(str::to_string)))
    }
}

impl Aws {
    /// Every event `query` matches, following `nextToken` to the last page, in the order AWS
    /// returns them (callers sort). `None` when the log group does not exist.
    pub async fn filter_log_events(&self, query: &LogQuery) -> AwsResult<Option<Vec<LogEvent>>> {
        let mut pages = self
            .logs
            .filter_log_events()
            .log_group_name(&query.group)
            .set_log_stream_name_prefix(query.stream_prefix.clone())
            .start_time(query.start_ms)
            .set_filter_pattern(query.pattern.clone().filter(|p| !p.is_empty()))
            .into_paginator()
            .send();
        let mut events = Vec::new();
        while let Some(page) = pages.next().await {
            let Some(page) = not_found_as_none(
                page,
                |e| e.is_resource_not_found_exception(),
                "logs:FilterLogEvents",
                &query.group,
            )?
            else {
                return Ok(None);
            };
            // An event without an id, stream or time cannot be placed or de-duplicated; AWS
            // always sends them, so skipping one loses nothing real.
            events.extend(page.events().iter().filter_map(|e| {
                Some(LogEvent {
                    timestamp_ms: e.timestamp()?,
                    event_id: e.event_id()?.to_string(),
                    stream: e.log_stream_name()?.to_string(),
                    message: e
                        .message()
                        .unwrap_or_default()
                        .trim_end_matches(['\n', '\r'])
                        .to_string(),
                })
            }));
        }
        Ok(Some(events))
    }
}
