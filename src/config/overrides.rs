//! `--set key.path=value`: parsed from the flag, applied to the TOML table before it becomes a
//! `Config`, so an override is validated exactly like the file.

/// One `--set key.path=value` override; the value is TOML (`3`, `true`, `"x"`) or else a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: toml::Value,
    pub raw: String,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not KEY=VALUE (example: services.web.count=3)"))?;
        let path: Vec<String> = key
            .trim()
            .split('.')
            .map(|p| p.trim().to_string())
            .collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{key}` is not a dotted key path (example: services.web.count)"
            ));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Override {
            path,
            value,
            raw: s.to_string(),
        })
    }
}

pub(super) fn apply_override(table: &mut toml::Table, o: &Override) -> Result<(), String> {
    let (last, parents) = o.path.split_last().ok_or("empty key")?;
    let mut cur = table;
    for (i, part) in parents.iter().enumerate() {
        let entry = cur
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a table", o.path[..=i].join(".")))?;
    }
    cur.insert(last.clone(), o.value.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_values_are_toml_or_else_strings() {
        let o: Override = "a.b=3".parse().expect("int");
        assert_eq!(o.path, ["a", "b"]);
        assert_eq!(o.value, toml::Value::Integer(3));
        assert_eq!(o.raw, "a.b=3");
        let o: Override = "a.b=true".parse().expect("bool");
        assert_eq!(o.value, toml::Value::Boolean(true));
        let o: Override = "a.b=hello".parse().expect("bare string");
        assert_eq!(o.value, toml::Value::String("hello".into()));
        let o: Override = "a.b=\"3\"".parse().expect("quoted string");
        assert_eq!(o.value, toml::Value::String("3".into()));
        let o: Override = "services.web.image=nginx:1.27=x"
            .parse()
            .expect("first = splits");
        assert_eq!(o.path, ["services", "web", "image"]);
        assert_eq!(o.value, toml::Value::String("nginx:1.27=x".into()));
    }

    #[test]
    fn override_without_value_or_with_empty_key_part_fails() {
        let e = "nokey".parse::<Override>().expect_err("no =");
        assert!(e.contains("nokey"), "{e}");
        let e = "a..b=1".parse::<Override>().expect_err("empty part");
        assert!(e.contains("a..b"), "{e}");
    }
}
