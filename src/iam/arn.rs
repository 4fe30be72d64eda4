//! Resource patterns (`Resource` entries) against the resource types an action takes.
//!
//! [`cover`] answers: does a pattern match every resource of a type (`*`,
//! `arn:aws:iam::*:role/*`), only some (`arn:aws:iam::123456789012:role/app-*`, a Terraform
//! reference to one resource), or none (an S3 ARN for a role)? A literal partition, region or
//! account counts as every resource of the type: the principal's own account is the one a
//! finding is about. `${…}` in a pattern (a policy variable such as `${aws:username}` or a
//! Terraform reference) stands for one value vouch does not know: it can match, never covers all.

use super::glob;

/// How much of a resource type a pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cover {
    None,
    Some,
    All,
}

/// Stands for a template variable: only wildcards match it.
const SENTINEL: &str = "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}";
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// How `pattern` covers the resource type whose ARN template is `template` (`None` for an
/// action that takes no resource type: only `*` applies to it).
pub fn cover(pattern: &str, template: Option<&str>) -> Cover {
    if pattern.bytes().all(|b| b == b'*') && !pattern.is_empty() {
        return Cover::All;
    }
    let Some(template) = template else {
        return if glob::matches(pattern.as_bytes(), b"*") {
            Cover::All
        } else {
            Cover::None
        };
    };
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let t: Vec<&str> = template.splitn(6, ':').collect();
    if p.len() == 6 && t.len() == 6 && !p[..5].iter().any(|c| c.contains("${")) {
        let mut worst = Cover::All;
        for i in 1..5 {
            let c = component(p[i], t[i]);
            worst = worst.min(c);
            if worst == Cover::None {
                return Cover::None;
            }
        }
        return worst.min(resource_part(p[5], t[5]));
    }
    // Not ARN-shaped in six parts (`arn:aws:*`, a whole-ARN reference): compare whole strings.
    let all = PARTITIONS.iter().any(|part| {
        let inst = instantiate(template, Some(part));
        glob::matches(pattern.as_bytes(), inst.as_bytes())
    });
    if all && !pattern.contains("${") {
        return Cover::All;
    }
    if glob::intersects(
        unknowns_as_wildcards(pattern).as_bytes(),
        wild(template).as_bytes(),
    ) {
        Cover::Some
    } else {
        Cover::None
    }
}

/// One of partition, service, region, account.
fn component(p: &str, t: &str) -> Cover {
    if t.starts_with("${") {
        // A variable (partition, region, account): any non-empty value is "the" one.
        if p.is_empty() {
            Cover::None
        } else {
            Cover::All
        }
    } else if glob::matches(p.as_bytes(), t.as_bytes()) {
        Cover::All
    } else {
        Cover::None
    }
}

/// The resource part (`role/${RoleNameWithPath}`).
fn resource_part(p: &str, t: &str) -> Cover {
    let inst = instantiate(t, None);
    if !p.contains("${") && glob::matches(p.as_bytes(), inst.as_bytes()) {
        return Cover::All;
    }
    if glob::intersects(unknowns_as_wildcards(p).as_bytes(), wild(t).as_bytes()) {
        Cover::Some
    } else {
        Cover::None
    }
}

/// The template with each variable replaced by the sentinel (the partition by `partition`).
fn instantiate(t: &str, partition: Option<&str>) -> String {
    replace_vars(t, |var| match (var, partition) {
        ("Partition", Some(p)) => p.to_owned(),
        _ => SENTINEL.to_owned(),
    })
}

/// The template with each variable replaced by `*`.
fn wild(t: &str) -> String {
    replace_vars(t, |_| "*".to_owned())
}

/// A pattern with each `${…}` replaced by `*` (it stands for a value vouch does not know).
fn unknowns_as_wildcards(p: &str) -> String {
    replace_vars(p, |_| "*".to_owned())
}

fn replace_vars(s: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => {
                out.push_str(&f(&rest[i + 2..i + j]));
                rest = &rest[i + j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
    const OBJECT: &str = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    const INSTANCE: &str = "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}";

    #[test]
    fn covers() {
        assert_eq!(cover("*", Some(ROLE)), Cover::All);
        assert_eq!(cover("arn:aws:iam::*:role/*", Some(ROLE)), Cover::All);
        assert_eq!(
            cover("arn:aws:iam::123456789012:role/*", Some(ROLE)),
            Cover::All
        );
        assert_eq!(cover("arn:*:*:*:*:*", Some(ROLE)), Cover::All);
        assert_eq!(cover("arn:aws:*", Some(ROLE)), Cover::All);
        assert_eq!(cover("arn:aws:iam::*:*", Some(ROLE)), Cover::All);
        assert_eq!(cover("arn:aws:iam::1:role/app-*", Some(ROLE)), Cover::Some);
        assert_eq!(cover("arn:aws:iam::1:role/app", Some(ROLE)), Cover::Some);
        assert_eq!(
            cover("arn:aws:iam::*:role/aws-service-role/*", Some(ROLE)),
            Cover::Some
        );
        assert_eq!(
            cover("arn:aws:iam::1:user/${aws:username}", Some(ROLE)),
            Cover::None
        );
        assert_eq!(
            cover("arn:aws:iam::1:role/${aws:username}", Some(ROLE)),
            Cover::Some
        );
        assert_eq!(cover("${aws_iam_role.app.arn}", Some(ROLE)), Cover::Some);
        assert_eq!(cover("arn:aws:s3:::bucket", Some(ROLE)), Cover::None);
        assert_eq!(cover("arn:aws:s3:::*/*", Some(OBJECT)), Cover::All);
        assert_eq!(cover("arn:aws:s3:::logs/*", Some(OBJECT)), Cover::Some);
        assert_eq!(cover("arn:aws:s3:::logs", Some(OBJECT)), Cover::None);
        assert_eq!(
            cover("arn:aws:ec2:*:*:instance/*", Some(INSTANCE)),
            Cover::All
        );
        assert_eq!(
            cover("arn:aws:ec2:eu-west-1:1:instance/*", Some(INSTANCE)),
            Cover::All
        );
        assert_eq!(
            cover("arn:aws:ec2::1:instance/*", Some(INSTANCE)),
            Cover::None
        );
        assert_eq!(cover("*", None), Cover::All);
        assert_eq!(cover("arn:aws:*", None), Cover::None);
    }
}
