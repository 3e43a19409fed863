//! IAM policy documents in one canonical form, so a policy IAM hands back compares equal to the
//! one envctl wrote: IAM (and people editing in the console) may turn a one-element list into
//! a string or back, and reorder `Action` and `Resource` lists, none of which changes what the
//! policy allows.

use serde_json::Value;

/// Statement keys whose value is a string or a list of strings, order and repeats irrelevant.
const SET_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// `doc` with `Statement` always a list and every set-valued key (also inside `Principal` and
/// condition operators) a sorted list without repeats. Everything else is left as it is: two
/// documents that still differ after this differ in what they allow, or in a `Sid`.
pub fn policy(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(obj) = doc.as_object_mut() else {
        return doc;
    };
    if let Some(statement) = obj.get_mut("Statement") {
        if statement.is_object() {
            *statement = Value::Array(vec![statement.take()]);
        }
        if let Some(list) = statement.as_array_mut() {
            for s in list.iter_mut().filter_map(Value::as_object_mut) {
                for key in SET_KEYS {
                    if let Some(v) = s.get_mut(*key) {
                        *v = string_set(v);
                    }
                }
                for key in ["Principal", "NotPrincipal"] {
                    if let Some(p) = s.get_mut(key).and_then(Value::as_object_mut) {
                        p.values_mut().for_each(|v| *v = string_set(v));
                    }
                }
                if let Some(c) = s.get_mut("Condition").and_then(Value::as_object_mut) {
                    for operator in c.values_mut().filter_map(Value::as_object_mut) {
                        operator.values_mut().for_each(|v| *v = string_set(v));
                    }
                }
            }
        }
    }
    doc
}

/// Whether two policy documents allow the same (see [`policy`]).
pub fn same_policy(a: &Value, b: &Value) -> bool {
    policy(a) == policy(b)
}

/// A string or list of strings as a sorted list without repeats; anything else unchanged.
fn string_set(v: &Value) -> Value {
    let mut items: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) if list.iter().all(Value::is_string) => list
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        other => return other.clone(),
    };
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_element_lists_strings_and_order_compare_equal() {
        let written = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["ecs:UpdateService", "ecs:DescribeServices"],
                "Resource": "arn:aws:ecs:*:1:service/c/*",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Condition": {"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}},
            }],
        });
        let read_back = json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": ["ecs:DescribeServices", "ecs:UpdateService", "ecs:UpdateService"],
                "Resource": ["arn:aws:ecs:*:1:service/c/*"],
                "Principal": {"Service": ["scheduler.amazonaws.com"]},
                "Condition": {"StringLike": {"kms:ViaService": ["ssm.*.amazonaws.com"]}},
            },
        });
        assert!(same_policy(&written, &read_back));
    }

    #[test]
    fn a_different_action_effect_or_statement_order_is_a_difference() {
        let base =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        let more = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]});
        let deny =
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]});
        assert!(!same_policy(&base, &more));
        assert!(!same_policy(&base, &deny));
    }
}
