//! Elastic Load Balancing v2: the shared ALB, its HTTP listener, and per env the target groups and
//! listener rules that give preview URLs, converted to `model::preview` types so no other module
//! sees `aws_sdk_elasticloadbalancingv2`.

mod convert;

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types as elb;
use futures::future::try_join_all;

use super::reply::{not_found_as_none, required};
use super::{Aws, AwsError, AwsResult};
use crate::model::{
    ListenerRuleState, ListenerState, RouteMatch, Tags, TargetGroupSpec, TargetGroupState,
    TargetHealthState,
};
use convert::{
    condition_to_sdk, forward_to, listener_from_sdk, rule_from_sdk, tags_from_sdk, tags_to_sdk,
    target_group_from_sdk,
};
pub use convert::{load_balancer_name_of_listener, load_balancer_of_listener};

/// DescribeTags accepts at most 20 resource ARNs per call.
const DESCRIBE_TAGS_BATCH: usize = 20;
/// Names per DescribeTargetGroups call: one unknown name fails the whole call, so this bounds how
/// many names are then looked up one by one.
const DESCRIBE_TARGET_GROUPS_BATCH: usize = 20;
/// What the listener answers for a host (or path) that no env claims.
const NOT_FOUND_STATUS: &str = "404";
const NOT_FOUND_BODY: &str = "no preview env here";
/// Items per page of ELB's Describe calls: its maximum, so a busy listener is one round trip.
const PAGE_SIZE: i32 = 400;

/// Why `create_listener_rule` failed: a taken priority is worth a retry with another one,
/// anything else is not.
#[derive(Debug, thiserror::Error)]
pub enum CreateRuleError {
    #[error("the listener already has a rule with this priority")]
    PriorityInUse,
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl Aws {
    /// The account's Elastic Load Balancing limits by name (`rules-per-application-load-balancer`,
    /// `target-groups-per-application-load-balancer`, ...), for `doctor`.
    pub async fn elb_account_limits(&self) -> AwsResult<HashMap<String, u64>> {
        const ACTION: &str = "elasticloadbalancing:DescribeAccountLimits";
        let mut limits = HashMap::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .elbv2
                .describe_account_limits()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(ACTION, "account limits", e))?;
            for l in out.limits() {
                if let (Some(name), Some(max)) = (l.name(), l.max().and_then(|m| m.parse().ok())) {
                    limits.insert(name.to_string(), max);
                }
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(limits),
            }
        }
    }

    /// The listener, or `None` when it does not exist.
    pub async fn describe_listener(&self, arn: &str) -> AwsResult<Option<ListenerState>> {
        const ACTION: &str = "elasticloadbalancing:DescribeListeners";
        match self
            .elbv2
            .describe_listeners()
            .listener_arns(arn)
            .send()
            .await
        {
            Ok(out) => out
                .listeners()
                .iter()
                .find(|l| l.listener_arn() == Some(arn))
                .map(|l| listener_from_sdk(l, ACTION))
                .transpose(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_listener_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk(ACTION, arn, e)),
        }
    }

    /// Every listener of the load balancer; none when the load balancer does not exist.
    pub async fn listeners_of(&self, lb_arn: &str) -> AwsResult<Vec<ListenerState>> {
        const ACTION: &str = "elasticloadbalancing:DescribeListeners";
        let listed = self
            .elbv2
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .page_size(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        match listed {
            Ok(listeners) => listeners
                .iter()
                .map(|l| listener_from_sdk(l, ACTION))
                .collect(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_load_balancer_not_found_exception()) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(AwsError::from_sdk(ACTION, lb_arn, e)),
        }
    }

    /// Whether the listener still answers unmatched requests with envctl's fixed 404, i.e. no one
    /// pointed its default action somewhere else. A missing listener is not intact.
    pub async fn listener_default_action_is_fixed_404(
        &self,
        listener_arn: &str,
    ) -> AwsResult<bool> {
        const ACTION: &str = "elasticloadbalancing:DescribeListeners";
        let out = match self
            .elbv2
            .describe_listeners()
            .listener_arns(listener_arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_listener_not_found_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(AwsError::from_sdk(ACTION, listener_arn, e)),
        };
        let Some(listener) = out
            .listeners()
            .iter()
            .find(|l| l.listener_arn() == Some(listener_arn))
        else {
            return Ok(false);
        };
        Ok(match listener.default_actions() {
            [only] => {
                only.r#type() == Some(&elb::ActionTypeEnum::FixedResponse)
                    && only.fixed_response_config().and_then(|c| c.status_code())
                        == Some(NOT_FOUND_STATUS)
            }
            _ => false,
        })
    }

    /// An HTTP listener whose default action is a fixed 404, so hosts without an env get a clear
    /// answer instead of someone else's service. Returns its ARN.
    pub async fn create_http_listener(
        &self,
        lb_arn: &str,
        port: i32,
        tags: &Tags,
    ) -> AwsResult<String> {
        const ACTION: &str = "elasticloadbalancing:CreateListener";
        let not_found = elb::Action::builder()
            .r#type(elb::ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                elb::FixedResponseActionConfig::builder()
                    .status_code(NOT_FOUND_STATUS)
                    .content_type("text/plain")
                    .message_body(NOT_FOUND_BODY)
                    .build(),
            )
            .build();
        let out = self
            .elbv2
            .create_listener()
            .load_balancer_arn(lb_arn)
            .protocol(elb::ProtocolEnum::Http)
            .port(port)
            .default_actions(not_found)
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, format!("{lb_arn}:{port}"), e))?;
        let arn = out.listeners().first().and_then(|l| l.listener_arn());
        required(arn, ACTION, lb_arn, "listener ARN")
    }

    /// Every rule of the listener, its default rule included, ordered by priority (default
    /// last), with tags. A missing listener is an error (`ListenerNotFound`): callers check it
    /// with `describe_listener` first when that is expected.
    pub async fn list_listener_rules(
        &self,
        listener_arn: &str,
    ) -> AwsResult<Vec<ListenerRuleState>> {
        const ACTION: &str = "elasticloadbalancing:DescribeRules";
        let rules = self
            .elbv2
            .describe_rules()
            .listener_arn(listener_arn)
            .page_size(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, listener_arn, e))?;
        self.rules_with_tags(&rules, listener_arn).await
    }

    async fn rules_with_tags(
        &self,
        rules: &[elb::Rule],
        listener_arn: &str,
    ) -> AwsResult<Vec<ListenerRuleState>> {
        let rules = rules
            .iter()
            .map(|r| rule_from_sdk(r, listener_arn))
            .collect::<AwsResult<Vec<_>>>()?;
        let arns: Vec<String> = rules.iter().map(|r| r.arn.clone()).collect();
        let mut tags = self.tags_by_arn(&arns).await?;
        // A rule whose tags could not be read was deleted meanwhile.
        let mut rules: Vec<ListenerRuleState> = rules
            .into_iter()
            .filter_map(|mut r| {
                r.tags = tags.remove(&r.arn)?;
                Some(r)
            })
            .collect();
        rules.sort_by_key(|r| (r.priority.is_none(), r.priority));
        Ok(rules)
    }

    /// Like `list_listener_rules`, but `None` when the listener does not exist: for a listener ARN
    /// read from a tag, whose listener may have been deleted since.
    pub async fn listener_rules(
        &self,
        listener_arn: &str,
    ) -> AwsResult<Option<Vec<ListenerRuleState>>> {
        const ACTION: &str = "elasticloadbalancing:DescribeRules";
        let listed = self
            .elbv2
            .describe_rules()
            .listener_arn(listener_arn)
            .page_size(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let Some(rules) = not_found_as_none(
            listed,
            |e| e.is_listener_not_found_exception(),
            ACTION,
            listener_arn,
        )?
        else {
            return Ok(None);
        };
        self.rules_with_tags(&rules, listener_arn).await.map(Some)
    }

    /// Adds a rule sending `route` to the target group. `PriorityInUse` when another rule holds
    /// `priority` (two envs racing for the next free one): the caller picks another and retries.
    pub async fn create_listener_rule(
        &self,
        listener_arn: &str,
        priority: i32,
        route: &RouteMatch,
        target_group_arn: &str,
        tags: &Tags,
    ) -> Result<String, CreateRuleError> {
        const ACTION: &str = "elasticloadbalancing:CreateRule";
        let resource = format!("{listener_arn} priority {priority}");
        let out = match self
            .elbv2
            .create_rule()
            .listener_arn(listener_arn)
            .priority(priority)
            .conditions(condition_to_sdk(route))
            .actions(forward_to(target_group_arn))
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_priority_in_use_exception()) =>
            {
                return Err(CreateRuleError::PriorityInUse)
            }
            Err(e) => return Err(AwsError::from_sdk(ACTION, resource, e).into()),
        };
        let arn = out.rules().first().and_then(|r| r.rule_arn());
        Ok(required(arn, ACTION, &resource, "rule ARN")?)
    }

    /// Replaces the rule's condition and action (its priority and tags stay).
    pub async fn modify_listener_rule(
        &self,
        rule_arn: &str,
        route: &RouteMatch,
        target_group_arn: &str,
    ) -> AwsResult<()> {
        self.elbv2
            .modify_rule()
            .rule_arn(rule_arn)
            .conditions(condition_to_sdk(route))
            .actions(forward_to(target_group_arn))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:ModifyRule", rule_arn, e))?;
        Ok(())
    }

    /// Deletes one rule; a missing rule is success.
    pub async fn delete_listener_rule(&self, arn: &str) -> AwsResult<()> {
        match self.elbv2.delete_rule().rule_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_rule_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk(
                "elasticloadbalancing:DeleteRule",
                arn,
                e,
            )),
        }
    }

    /// The named target groups that exist, with tags, sorted by name.
    pub async fn describe_target_groups(
        &self,
        names: &[String],
    ) -> AwsResult<Vec<TargetGroupState>> {
        let batches = names
            .chunks(DESCRIBE_TARGET_GROUPS_BATCH)
            .map(|batch| self.describe_target_groups_batch(batch));
        let groups: Vec<elb::TargetGroup> =
            try_join_all(batches).await?.into_iter().flatten().collect();
        self.target_groups_with_tags(&groups, &names.join(","))
            .await
    }

    /// Like `describe_target_groups`, but each name asked alone, all at once: one unknown name
    /// (a service that is not public) fails a whole batch, and retrying one by one after that
    /// costs a round trip more than asking one by one from the start.
    pub async fn describe_target_groups_each(
        &self,
        names: &[String],
    ) -> AwsResult<Vec<TargetGroupState>> {
        let single = names
            .iter()
            .map(|n| self.target_groups_named(std::slice::from_ref(n)));
        let groups: Vec<elb::TargetGroup> = try_join_all(single)
            .await?
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        self.target_groups_with_tags(&groups, &names.join(","))
            .await
    }

    /// The target groups that a listener or rule of the load balancer forwards to, with tags,
    /// sorted by name; none when the load balancer does not exist.
    pub async fn target_groups_of_load_balancer(
        &self,
        lb_arn: &str,
    ) -> AwsResult<Vec<TargetGroupState>> {
        let groups = self.target_groups_of_load_balancer_untagged(lb_arn).await?;
        self.with_tags(groups).await
    }

    /// `target_groups_of_load_balancer` without their tags (empty), sorted by name: enough to
    /// count them, one round trip less. `with_tags` reads the tags of the ones that matter.
    pub async fn target_groups_of_load_balancer_untagged(
        &self,
        lb_arn: &str,
    ) -> AwsResult<Vec<TargetGroupState>> {
        let listed = self
            .elbv2
            .describe_target_groups()
            .load_balancer_arn(lb_arn)
            .page_size(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let groups = match listed {
            Ok(groups) => groups,
            // moto answers TargetGroupNotFound for a load balancer without target groups, where
            // AWS answers an empty list.
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_target_group_not_found_exception()
                        || e.is_load_balancer_not_found_exception()
                }) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "elasticloadbalancing:DescribeTargetGroups",
                    lb_arn,
                    e,
                ))
            }
        };
        let mut groups = groups
            .iter()
            .map(|g| target_group_from_sdk(g, lb_arn))
            .collect::<AwsResult<Vec<_>>>()?;
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups.dedup_by(|a, b| a.arn == b.arn);
        Ok(groups)
    }

    /// The groups with their tags read; a group whose tags could not be read was deleted
    /// meanwhile and is left out.
    pub async fn with_tags(
        &self,
        groups: Vec<TargetGroupState>,
    ) -> AwsResult<Vec<TargetGroupState>> {
        if groups.is_empty() {
            return Ok(groups);
        }
        let arns: Vec<String> = groups.iter().map(|g| g.arn.clone()).collect();
        let mut tags = self.tags_by_arn(&arns).await?;
        Ok(groups
            .into_iter()
            .filter_map(|mut g| {
                g.tags = tags.remove(&g.arn)?;
                Some(g)
            })
            .collect())
    }

    /// Creates an HTTP target group for Fargate tasks (IP targets); returns its ARN.
    pub async fn create_target_group(&self, spec: &TargetGroupSpec) -> AwsResult<String> {
        const ACTION: &str = "elasticloadbalancing:CreateTargetGroup";
        let out = self
            .elbv2
            .create_target_group()
            .name(&spec.name)
            .protocol(elb::ProtocolEnum::Http)
            .port(spec.port)
            .vpc_id(&spec.vpc_id)
            .target_type(elb::TargetTypeEnum::Ip)
            .health_check_protocol(elb::ProtocolEnum::Http)
            .health_check_path(&spec.health_check_path)
            .matcher(
                elb::Matcher::builder()
                    .http_code(&spec.health_check_matcher)
                    .build(),
            )
            .set_tags(tags_to_sdk(&spec.tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, &spec.name, e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn());
        required(arn, ACTION, &spec.name, "target group ARN")
    }

    /// Deletes one target group; a missing one is success. A group still used by a rule fails
    /// with `ResourceInUse`: delete the rule first.
    pub async fn delete_target_group(&self, arn: &str) -> AwsResult<()> {
        const ACTION: &str = "elasticloadbalancing:DeleteTargetGroup";
        let err = match self
            .elbv2
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if err
            .as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception())
        {
            return Err(AwsError::from_sdk(ACTION, arn, err));
        }
        // DeleteTargetGroup models no not-found error (moto answers TargetGroupNotFound anyway),
        // so whether the group is gone is asked of DescribeTargetGroups, which models it.
        match self
            .elbv2
            .describe_target_groups()
            .target_group_arns(arn)
            .send()
            .await
        {
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_target_group_not_found_exception()) =>
            {
                Ok(())
            }
            Ok(out) if out.target_groups().is_empty() => Ok(()),
            _ => Err(AwsError::from_sdk(ACTION, arn, err)),
        }
    }

    /// The registered targets and their health; none when the target group does not exist.
    pub async fn describe_target_health(
        &self,
        target_group_arn: &str,
    ) -> AwsResult<Vec<TargetHealthState>> {
        let out = match self
            .elbv2
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_target_group_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "elasticloadbalancing:DescribeTargetHealth",
                    target_group_arn,
                    e,
                ))
            }
        };
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealthState {
                target: d
                    .target()
                    .and_then(|t| t.id())
                    .unwrap_or_default()
                    .to_string(),
                port: d.target().and_then(|t| t.port()),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: d
                    .target_health()
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_string()),
            })
            .collect())
    }

    /// The load balancer's ARN, DNS name and tags, or `None` when no load balancer has the name.
    pub async fn describe_load_balancer_by_name(
        &self,
        name: &str,
    ) -> AwsResult<Option<(String, String, Tags)>> {
        let Some((arn, dns)) = self.load_balancer_by_name(name).await? else {
            return Ok(None);
        };
        let mut tags = self.tags_by_arn(std::slice::from_ref(&arn)).await?;
        // Deleted between the two calls.
        Ok(tags.remove(&arn).map(|tags| (arn, dns, tags)))
    }

    /// The load balancer's ARN and DNS name, without its tags.
    pub async fn load_balancer_by_name(&self, name: &str) -> AwsResult<Option<(String, String)>> {
        const ACTION: &str = "elasticloadbalancing:DescribeLoadBalancers";
        let Some(out) = not_found_as_none(
            self.elbv2
                .describe_load_balancers()
                .names(name)
                .send()
                .await,
            |e| e.is_load_balancer_not_found_exception(),
            ACTION,
            name,
        )?
        else {
            return Ok(None);
        };
        let Some(lb) = out
            .load_balancers()
            .iter()
            .find(|lb| lb.load_balancer_name() == Some(name))
        else {
            return Ok(None);
        };
        let arn = required(lb.load_balancer_arn(), ACTION, name, "load balancer ARN")?;
        let dns = required(lb.dns_name(), ACTION, name, "DNS name")?;
        Ok(Some((arn, dns)))
    }

    /// An internet-facing IPv4 application load balancer; returns its ARN and DNS name.
    pub async fn create_load_balancer(
        &self,
        name: &str,
        subnets: &[String],
        security_groups: &[String],
        tags: &Tags,
    ) -> AwsResult<(String, String)> {
        const ACTION: &str = "elasticloadbalancing:CreateLoadBalancer";
        let out = self
            .elbv2
            .create_load_balancer()
            .name(name)
            .r#type(elb::LoadBalancerTypeEnum::Application)
            .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
            .ip_address_type(elb::IpAddressType::Ipv4)
            .set_subnets(Some(subnets.to_vec()))
            .set_security_groups(Some(security_groups.to_vec()))
            .set_tags(tags_to_sdk(tags))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(ACTION, name, e))?;
        let lb = out.load_balancers().first();
        let arn = required(
            lb.and_then(|lb| lb.load_balancer_arn()),
            ACTION,
            name,
            "load balancer ARN",
        )?;
        let dns = required(lb.and_then(|lb| lb.dns_name()), ACTION, name, "DNS name")?;
        Ok((arn, dns))
    }

    /// One DescribeTargetGroups call by name. AWS fails the whole call when any name is unknown,
    /// so then each name is asked alone and the unknown ones are dropped.
    async fn describe_target_groups_batch(
        &self,
        names: &[String],
    ) -> AwsResult<Vec<elb::TargetGroup>> {
        match self.target_groups_named(names).await? {
            Some(groups) => Ok(groups),
            None if names.len() > 1 => {
                let single = names
                    .iter()
                    .map(|n| self.target_groups_named(std::slice::from_ref(n)));
                Ok(try_join_all(single)
                    .await?
                    .into_iter()
                    .flatten()
                    .flatten()
                    .collect())
            }
            None => Ok(Vec::new()),
        }
    }

    /// `None` when at least one of the names is unknown.
    async fn target_groups_named(
        &self,
        names: &[String],
    ) -> AwsResult<Option<Vec<elb::TargetGroup>>> {
        match self
            .elbv2
            .describe_target_groups()
            .set_names(Some(names.to_vec()))
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.target_groups().to_vec())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_target_group_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk(
                "elasticloadbalancing:DescribeTargetGroups",
                names.join(","),
                e,
            )),
        }
    }

    async fn target_groups_with_tags(
        &self,
        groups: &[elb::TargetGroup],
        resource: &str,
    ) -> AwsResult<Vec<TargetGroupState>> {
        let groups = groups
            .iter()
            .map(|g| target_group_from_sdk(g, resource))
            .collect::<AwsResult<Vec<_>>>()?;
        let arns: Vec<String> = groups.iter().map(|g| g.arn.clone()).collect();
        let mut tags = self.tags_by_arn(&arns).await?;
        // A group whose tags could not be read was deleted meanwhile.
        let mut groups: Vec<TargetGroupState> = groups
            .into_iter()
            .filter_map(|mut g| {
                g.tags = tags.remove(&g.arn)?;
                Some(g)
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        groups.dedup_by(|a, b| a.arn == b.arn);
        Ok(groups)
    }

    /// Tags of each resource (load balancer, listener, rule or target group), 20 ARNs a call.
    /// Resources that no longer exist are absent from the map.
    async fn tags_by_arn(&self, arns: &[String]) -> AwsResult<HashMap<String, Tags>> {
        let batches = arns
            .chunks(DESCRIBE_TAGS_BATCH)
            .map(|batch| self.tags_batch(batch));
        Ok(try_join_all(batches).await?.into_iter().flatten().collect())
    }

    /// AWS fails the whole call when one resource is gone; then each ARN is asked alone.
    async fn tags_batch(&self, arns: &[String]) -> AwsResult<HashMap<String, Tags>> {
        match self.tags_of(arns).await? {
            Some(tags) => Ok(tags),
            None if arns.len() > 1 => {
                let single = arns.iter().map(|a| self.tags_of(std::slice::from_ref(a)));
                Ok(try_join_all(single)
                    .await?
                    .into_iter()
                    .flatten()
                    .flatten()
                    .collect())
            }
            None => Ok(HashMap::new()),
        }
    }

    /// `None` when at least one of the resources does not exist.
    async fn tags_of(&self, arns: &[String]) -> AwsResult<Option<HashMap<String, Tags>>> {
        let out = match self
            .elbv2
            .describe_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_load_balancer_not_found_exception()
                        || e.is_listener_not_found_exception()
                        || e.is_rule_not_found_exception()
                        || e.is_target_group_not_found_exception()
                }) =>
            {
                return Ok(None)
            }
            Err(e) => {
                return Err(AwsError::from_sdk(
                    "elasticloadbalancing:DescribeTags",
                    arns.join(","),
                    e,
                ))
            }
        };
        Ok(Some(
            out.tag_descriptions()
                .iter()
                .filter_map(|d| Some((d.resource_arn()?.to_string(), tags_from_sdk(d.tags()))))
                .collect(),
        ))
    }
}
