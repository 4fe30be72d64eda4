//! Generates IAM benchmark corpora: `gen-iam docs N DIR` writes N policy documents (varied:
//! scoped grants, wildcards, `NotAction`, conditions, `Deny`, escalation paths);
//! `gen-iam export ROLES USERS DIR` writes one `get-account-authorization-details` export with
//! that many roles and users, 1/20 as many groups, and 200 customer managed policies (documents
//! URL-encoded, as the raw API returns them, for one in four).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";

/// A deterministic document: the shape depends on `i`.
fn document(i: usize) -> Value {
    let bucket = format!("arn:aws:s3:::acme-data-{}", i % 97);
    let mut statements = vec![json!({
        "Sid": "Data",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "Resource": [bucket.clone(), format!("{bucket}/*")]
    })];
    match i % 10 {
        0 => statements.push(json!({"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"})),
        1 => statements.push(json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app-*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}})),
        2 => statements.push(json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})),
        3 => statements.push(json!({"Effect": "Allow", "Action": ["logs:*", "cloudwatch:Put*"], "Resource": "*"})),
        4 => statements.push(json!({"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})),
        5 => statements.push(json!({"Effect": "Allow", "Action": ["kms:Decrypt", "secretsmanager:GetSecretValue"],
            "Resource": format!("arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:app-{i}-*")})),
        6 => statements.push(json!({"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:*Tags", "ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": format!("team-{}", i % 13)}}})),
        7 => statements.push(json!({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": format!("arn:aws:dynamodb:*:{ACCOUNT}:table/t{i}")})),
        8 => statements.push(json!({"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sns:Publish"], "Resource": "*"})),
        _ => statements.push(json!({"Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "lambda:Get*"],
            "Resource": format!("arn:aws:lambda:*:{ACCOUNT}:function:svc-{i}")})),
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn encode(v: &Value) -> String {
    let mut out = String::new();
    for b in v.to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn doc_value(i: usize) -> Value {
    let d = document(i);
    if i.is_multiple_of(4) {
        Value::String(encode(&d))
    } else {
        d
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("docs") => {
            let n: usize = args[2].parse().unwrap();
            let dir = Path::new(&args[3]).join("policies");
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let text = serde_json::to_string_pretty(&document(i)).unwrap();
                std::fs::write(dir.join(format!("policy-{i:05}.json")), text).unwrap();
            }
        }
        Some("export") => {
            let roles: usize = args[2].parse().unwrap();
            let users: usize = args[3].parse().unwrap();
            let dir = Path::new(&args[4]);
            std::fs::create_dir_all(dir).unwrap();
            let groups = (users / 20).max(1);
            let policies = 200;
            let parn = |i: usize| format!("arn:aws:iam::{ACCOUNT}:policy/p{i}");
            let attached = |i: usize| {
                let mut v = vec![
                    json!({"PolicyName": format!("p{}", i % policies), "PolicyArn": parn(i % policies)}),
                ];
                if i.is_multiple_of(50) {
                    v.push(json!({"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}));
                }
                v
            };
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
            let export = json!({
                "UserDetailList": (0..users).map(|i| json!({
                    "Path": "/", "UserName": format!("user{i}"), "UserId": format!("AIDA{i}"),
                    "Arn": format!("arn:aws:iam::{ACCOUNT}:user/user{i}"), "CreateDate": "2024-01-01T00:00:00Z",
                    "UserPolicyList": if i.is_multiple_of(7) { vec![json!({"PolicyName": "inline", "PolicyDocument": doc_value(i + 3)})] } else { vec![] },
                    "GroupList": [format!("group{}", i % groups)],
                    "AttachedManagedPolicies": if i.is_multiple_of(3) { attached(i) } else { vec![] },
                    "Tags": []
                })).collect::<Vec<_>>(),
                "GroupDetailList": (0..groups).map(|g| json!({
                    "Path": "/", "GroupName": format!("group{g}"), "GroupId": format!("AGPA{g}"),
                    "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group{g}"), "CreateDate": "2024-01-01T00:00:00Z",
                    "GroupPolicyList": [], "AttachedManagedPolicies": attached(g + 1)
                })).collect::<Vec<_>>(),
                "RoleDetailList": (0..roles).map(|i| json!({
                    "Path": "/", "RoleName": format!("role{i}"), "RoleId": format!("AROA{i}"),
                    "Arn": format!("arn:aws:iam::{ACCOUNT}:role/role{i}"), "CreateDate": "2024-01-01T00:00:00Z",
                    "AssumeRolePolicyDocument": if i.is_multiple_of(4) { Value::String(encode(&trust)) } else { trust.clone() },
                    "InstanceProfileList": [],
                    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": doc_value(i)}],
                    "AttachedManagedPolicies": attached(i),
                    "Tags": [], "RoleLastUsed": {}
                })).collect::<Vec<_>>(),
                "Policies": (0..policies).map(|i| json!({
                    "PolicyName": format!("p{i}"), "PolicyId": format!("ANPA{i}"), "Arn": parn(i), "Path": "/",
                    "DefaultVersionId": "v1", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
                    "CreateDate": "2024-01-01T00:00:00Z", "UpdateDate": "2024-01-01T00:00:00Z",
                    "PolicyVersionList": [{"Document": doc_value(i + 1), "VersionId": "v1", "IsDefaultVersion": true,
                        "CreateDate": "2024-01-01T00:00:00Z"}]
                })).collect::<Vec<_>>(),
                "IsTruncated": false
            });
            std::fs::write(
                dir.join("authz.json"),
                serde_json::to_string_pretty(&export).unwrap(),
            )
            .unwrap();
        }
        _ => panic!("usage: gen-iam docs N DIR | gen-iam export ROLES USERS DIR"),
    }
}
