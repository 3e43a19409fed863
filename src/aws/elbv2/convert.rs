//! SDK ↔ model conversion for ELBv2, and the listener-ARN arithmetic reads use.

use aws_sdk_elasticloadbalancingv2::types as elb;

use crate::aws::reply::required;
use crate::aws::{AwsError, AwsResult};
use crate::model::{ListenerRuleState, ListenerState, RouteMatch, Tags, TargetGroupState};

/// ELB's priority for a listener's default rule, which has no number.
const DEFAULT_PRIORITY: &str = "default";
const HOST_HEADER: &str = "host-header";
const PATH_PATTERN: &str = "path-pattern";

/// The load balancer of a listener, from the listener's ARN:
/// `arn:P:elasticloadbalancing:R:A:listener/app/NAME/LB-ID/LISTENER-ID` belongs to
/// `arn:P:elasticloadbalancing:R:A:loadbalancer/app/NAME/LB-ID` (ELB's documented ARN formats),
/// so reads keyed by the load balancer need not wait for DescribeListeners.
pub fn load_balancer_of_listener(listener_arn: &str) -> Option<String> {
    let (head, path) = listener_arn.split_once(":listener/")?;
    let mut parts = path.split('/');
    let (kind, name, lb_id, listener_id) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || [kind, name, lb_id, listener_id]
            .iter()
            .any(|p| p.is_empty())
    {
        return None;
    }
    Some(format!("{head}:loadbalancer/{kind}/{name}/{lb_id}"))
}

/// The name of the load balancer a listener ARN belongs to.
pub fn load_balancer_name_of_listener(listener_arn: &str) -> Option<&str> {
    let (_, path) = listener_arn.split_once(":listener/")?;
    path.split('/').nth(1).filter(|n| !n.is_empty())
}

pub(super) fn listener_from_sdk(l: &elb::Listener, action: &str) -> AwsResult<ListenerState> {
    let arn = required(l.listener_arn(), action, "listener", "listener ARN")?;
    Ok(ListenerState {
        load_balancer_arn: required(l.load_balancer_arn(), action, &arn, "load balancer ARN")?,
        port: l.port().unwrap_or_default(),
        protocol: l
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        arn,
    })
}

pub(super) fn rule_from_sdk(r: &elb::Rule, listener_arn: &str) -> AwsResult<ListenerRuleState> {
    const ACTION: &str = "elasticloadbalancing:DescribeRules";
    let arn = required(r.rule_arn(), ACTION, listener_arn, "rule ARN")?;
    let priority = match r.priority() {
        None | Some(DEFAULT_PRIORITY) => None,
        Some(p) => Some(p.parse::<i32>().map_err(|_| {
            AwsError::unexpected(ACTION, &arn, format!("rule priority `{p}` is not a number"))
        })?),
    };
    let mut hosts = Vec::new();
    let mut paths = Vec::new();
    for c in r.conditions() {
        // AWS answers with both the legacy `Values` and the typed config; moto echoes what was
        // sent. The typed config wins when both are there.
        match c.field() {
            Some(HOST_HEADER) => hosts.extend(
                c.host_header_config()
                    .map(|h| h.values())
                    .filter(|v| !v.is_empty())
                    .unwrap_or(c.values())
                    .iter()
                    .cloned(),
            ),
            Some(PATH_PATTERN) => paths.extend(
                c.path_pattern_config()
                    .map(|p| p.values())
                    .filter(|v| !v.is_empty())
                    .unwrap_or(c.values())
                    .iter()
                    .cloned(),
            ),
            _ => {}
        }
    }
    let mut target_group_arns: Vec<String> = Vec::new();
    for a in r.actions() {
        if a.r#type() != Some(&elb::ActionTypeEnum::Forward) {
            continue;
        }
        let forwarded = a.target_group_arn().into_iter().chain(
            a.forward_config()
                .map(|f| f.target_groups())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t.target_group_arn()),
        );
        for tg in forwarded {
            // AWS repeats a single target group in `TargetGroupArn` and `ForwardConfig`.
            if !target_group_arns.iter().any(|known| known == tg) {
                target_group_arns.push(tg.to_string());
            }
        }
    }
    Ok(ListenerRuleState {
        arn,
        priority,
        hosts,
        paths,
        target_group_arns,
        tags: Tags::new(),
    })
}

pub(super) fn target_group_from_sdk(
    g: &elb::TargetGroup,
    resource: &str,
) -> AwsResult<TargetGroupState> {
    const ACTION: &str = "elasticloadbalancing:DescribeTargetGroups";
    let mut load_balancer_arns: Vec<String> = Vec::new();
    for lb in g.load_balancer_arns() {
        // moto lists a load balancer once per rule forwarding to the group.
        if !load_balancer_arns.contains(lb) {
            load_balancer_arns.push(lb.clone());
        }
    }
    Ok(TargetGroupState {
        name: required(g.target_group_name(), ACTION, resource, "target group name")?,
        arn: required(g.target_group_arn(), ACTION, resource, "target group ARN")?,
        port: g.port().unwrap_or_default(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        health_check_path: g.health_check_path().map(str::to_string),
        health_check_matcher: g.matcher().and_then(|m| m.http_code()).map(str::to_string),
        load_balancer_arns,
        tags: Tags::new(),
    })
}

pub(super) fn condition_to_sdk(route: &RouteMatch) -> elb::RuleCondition {
    // The typed configs only: AWS rejects a condition that sets both them and `Values`.
    match route {
        RouteMatch::Host(host) => elb::RuleCondition::builder()
            .field(HOST_HEADER)
            .host_header_config(
                elb::HostHeaderConditionConfig::builder()
                    .values(host)
                    .build(),
            )
            .build(),
        RouteMatch::PathPrefix(path) => elb::RuleCondition::builder()
            .field(PATH_PATTERN)
            .path_pattern_config(
                elb::PathPatternConditionConfig::builder()
                    .values(path)
                    .build(),
            )
            .build(),
    }
}

pub(super) fn forward_to(target_group_arn: &str) -> elb::Action {
    elb::Action::builder()
        .r#type(elb::ActionTypeEnum::Forward)
        .target_group_arn(target_group_arn)
        .build()
}

pub(super) fn tags_from_sdk(tags: &[elb::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// `None` for no tags: an empty `Tags` list is not worth sending.
pub(super) fn tags_to_sdk(tags: &Tags) -> Option<Vec<elb::Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| elb::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_arn_names_its_load_balancer() {
        let listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/envctl-shop/50dc6c495c0c9188/f2f7dc8efc522ab2";
        assert_eq!(
            load_balancer_of_listener(listener).as_deref(),
            Some("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/envctl-shop/50dc6c495c0c9188")
        );
        assert_eq!(
            load_balancer_name_of_listener(listener),
            Some("envctl-shop")
        );
        for bad in [
            "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/envctl-shop/50dc",
            "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/envctl-shop/50dc",
            "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/envctl-shop/50dc/f2/extra",
            "not an arn",
        ] {
            assert_eq!(load_balancer_of_listener(bad), None, "{bad}");
        }
    }
}
