//! The privilege-escalation catalog: every path of the published catalogs, each named.
//!
//! Sources: Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation" (parts 1
//! and 2) [R]; Bishop Fox, iam-vulnerable (one Terraform principal per path) [BF];
//! cloudsplaining's `PRIVILEGE_ESCALATION_METHODS` and DataDog's pathfinding.cloud [CS]. A path
//! is open when every step is allowed on every resource of its type and, for `iam:PassRole`
//! paths, a role may be passed to the service that runs it (`iam:PassedToService`).

use super::eval::{Permissions, Tri};

/// One catalogued path.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    /// `CreatePolicyVersion`, `PassRole+EC2`.
    pub name: &'static str,
    /// Steps: each is one action, or alternatives any one of which will do.
    pub steps: &'static [&'static [&'static str]],
    /// For `iam:PassRole` paths: the service principals the role is passed to (any one).
    pub passed_to: &'static [&'static str],
    /// What an attacker does with it.
    pub how: &'static str,
    /// Where the path is published.
    pub sources: &'static str,
}

macro_rules! path {
    ($name:literal, [$([$($a:literal),+]),+], [$($svc:literal),*], $how:literal, $src:literal) => {
        Path {
            name: $name,
            steps: &[$(&[$($a),+]),+],
            passed_to: &[$($svc),*],
            how: $how,
            sources: $src,
        }
    };
}

/// Every path, by category.
pub const PATHS: &[Path] = &[
    // IAM permissions on other users.
    path!(
        "CreateAccessKey",
        [["iam:CreateAccessKey"]],
        [],
        "create an access key for another (more privileged) user",
        "R1-4, BF privesc4, CS"
    ),
    path!(
        "CreateLoginProfile",
        [["iam:CreateLoginProfile"]],
        [],
        "set a console password for a user that has none and sign in as them",
        "R1-5, BF privesc5, CS"
    ),
    path!(
        "UpdateLoginProfile",
        [["iam:UpdateLoginProfile"]],
        [],
        "change another user's console password and sign in as them",
        "R1-6, BF privesc6, CS"
    ),
    path!(
        "AddUserToGroup",
        [["iam:AddUserToGroup"]],
        [],
        "add oneself to a more privileged group",
        "R1-13, BF privesc13, CS"
    ),
    // Permissions on policies.
    path!(
        "CreatePolicyVersion",
        [["iam:CreatePolicyVersion"]],
        [],
        "write a new default version of a policy one holds, granting anything",
        "R1-1, BF privesc1, CS"
    ),
    path!(
        "SetDefaultPolicyVersion",
        [["iam:SetDefaultPolicyVersion"]],
        [],
        "switch a policy one holds to a more permissive existing version",
        "R1-2, BF privesc2, CS"
    ),
    path!(
        "AttachUserPolicy",
        [["iam:AttachUserPolicy"]],
        [],
        "attach AdministratorAccess to oneself",
        "R1-7, BF privesc7, CS"
    ),
    path!(
        "AttachGroupPolicy",
        [["iam:AttachGroupPolicy"]],
        [],
        "attach AdministratorAccess to one's group",
        "R1-8, BF privesc8, CS"
    ),
    path!(
        "AttachRolePolicy",
        [["iam:AttachRolePolicy"]],
        [],
        "attach AdministratorAccess to a role one uses or can assume",
        "R1-9, BF privesc9, CS"
    ),
    path!(
        "PutUserPolicy",
        [["iam:PutUserPolicy"]],
        [],
        "write an inline policy granting anything to oneself",
        "R1-10, BF privesc10, CS"
    ),
    path!(
        "PutGroupPolicy",
        [["iam:PutGroupPolicy"]],
        [],
        "write an inline policy granting anything to one's group",
        "R1-11, BF privesc11, CS"
    ),
    path!(
        "PutRolePolicy",
        [["iam:PutRolePolicy"]],
        [],
        "write an inline policy granting anything to a role one uses",
        "R1-12, BF privesc12, CS"
    ),
    // Updating an AssumeRole policy.
    path!(
        "UpdateAssumeRolePolicy",
        [["iam:UpdateAssumeRolePolicy"]],
        [],
        "rewrite a privileged role's trust policy to trust oneself, then assume it",
        "R1-14, BF privesc14, CS"
    ),
    // iam:PassRole to a new resource of a service.
    path!(
        "PassRole+EC2",
        [["ec2:RunInstances", "ec2:RequestSpotInstances"]],
        ["ec2.amazonaws.com"],
        "start an instance with a privileged instance profile and read its credentials",
        "R1-3, BF privesc3, CS"
    ),
    path!(
        "PassRole+Lambda+Invoke",
        [["lambda:CreateFunction"], ["lambda:InvokeFunction"]],
        ["lambda.amazonaws.com"],
        "create a function running as a privileged role and invoke it",
        "R1-15, BF privesc15, CS"
    ),
    path!(
        "PassRole+Lambda+EventSourceMapping",
        [
            ["lambda:CreateFunction"],
            ["lambda:CreateEventSourceMapping"]
        ],
        ["lambda.amazonaws.com"],
        "create a function running as a privileged role and trigger it from a (DynamoDB) stream",
        "R1-16, BF privesc16, CS"
    ),
    path!(
        "PassRole+Lambda+AddPermission",
        [["lambda:CreateFunction"], ["lambda:AddPermission"]],
        ["lambda.amazonaws.com"],
        "create a function running as a privileged role and let oneself invoke it",
        "CS (pathfinding.cloud lambda)"
    ),
    path!(
        "PassRole+Glue",
        [["glue:CreateDevEndpoint"]],
        ["glue.amazonaws.com"],
        "create a Glue development endpoint with a privileged role and SSH into it",
        "R1-18, BF privesc18, CS"
    ),
    path!(
        "PassRole+GlueJob",
        [
            ["glue:CreateJob", "glue:UpdateJob"],
            ["glue:StartJobRun", "glue:CreateTrigger"]
        ],
        ["glue.amazonaws.com"],
        "run a Glue job as a privileged role",
        "CS (pathfinding.cloud glue)"
    ),
    path!(
        "PassRole+CloudFormation",
        [[
            "cloudformation:CreateStack",
            "cloudformation:CreateStackSet"
        ]],
        ["cloudformation.amazonaws.com"],
        "create a stack that a privileged role deploys",
        "R1-20, BF privesc20, CS"
    ),
    path!(
        "PassRole+DataPipeline",
        [
            ["datapipeline:CreatePipeline"],
            ["datapipeline:PutPipelineDefinition"]
        ],
        ["datapipeline.amazonaws.com"],
        "create a pipeline that runs commands as a privileged role",
        "R1-21, BF privesc21, CS"
    ),
    path!(
        "PassRole+CodeBuild",
        [
            ["codebuild:CreateProject"],
            ["codebuild:StartBuild", "codebuild:StartBuildBatch"]
        ],
        ["codebuild.amazonaws.com"],
        "create a build project running as a privileged role and start it",
        "BF codeBuildCreateProjectPassRole, CS"
    ),
    path!(
        "PassRole+SageMakerNotebook",
        [["sagemaker:CreateNotebookInstance"]],
        ["sagemaker.amazonaws.com"],
        "create a notebook instance with a privileged role and open it",
        "R2, BF sageMakerCreateNotebookPassRole, CS"
    ),
    path!(
        "PassRole+SageMakerTrainingJob",
        [["sagemaker:CreateTrainingJob"]],
        ["sagemaker.amazonaws.com"],
        "run a training job container as a privileged role",
        "BF sageMakerCreateTrainingJob, CS"
    ),
    path!(
        "PassRole+SageMakerProcessingJob",
        [["sagemaker:CreateProcessingJob"]],
        ["sagemaker.amazonaws.com"],
        "run a processing job container as a privileged role",
        "BF sageMakerCreateProcessingJob, CS"
    ),
    path!(
        "PassRole+ECS",
        [
            ["ecs:RegisterTaskDefinition"],
            ["ecs:RunTask", "ecs:StartTask", "ecs:CreateService"]
        ],
        ["ecs-tasks.amazonaws.com"],
        "run a task whose task role is a privileged role",
        "CS (pathfinding.cloud ecs)"
    ),
    path!(
        "PassRole+AppRunner",
        [["apprunner:CreateService"]],
        [
            "tasks.apprunner.amazonaws.com",
            "build.apprunner.amazonaws.com"
        ],
        "run an App Runner service as a privileged role",
        "CS (pathfinding.cloud apprunner)"
    ),
    // Privilege escalation through existing resources of AWS services.
    path!(
        "UpdateFunctionCode",
        [["lambda:UpdateFunctionCode"]],
        [],
        "replace the code of a function that runs as a privileged role",
        "R1-17, BF privesc17, CS"
    ),
    path!(
        "UpdateDevEndpoint",
        [["glue:UpdateDevEndpoint"]],
        [],
        "add one's SSH key to a Glue development endpoint that has a privileged role",
        "R1-19, BF privesc19, CS"
    ),
    path!(
        "UpdateStack",
        [["cloudformation:UpdateStack"]],
        [],
        "update a stack whose service role is privileged",
        "BF cloudFormationUpdateStack"
    ),
    path!(
        "ExecuteChangeSet",
        [
            ["cloudformation:CreateChangeSet"],
            ["cloudformation:ExecuteChangeSet"]
        ],
        [],
        "change a stack whose service role is privileged through a change set",
        "CS (pathfinding.cloud cloudformation)"
    ),
    path!(
        "EC2InstanceConnect",
        [[
            "ec2-instance-connect:SendSSHPublicKey",
            "ec2-instance-connect:SendSerialConsoleSSHPublicKey"
        ]],
        [],
        "push an SSH key to an instance with a privileged profile and log in",
        "BF ec2InstanceConnect, CS"
    ),
    path!(
        "SSMSendCommand",
        [["ssm:SendCommand"]],
        [],
        "run commands on an instance with a privileged profile",
        "BF ssmSendCommand"
    ),
    path!(
        "SSMStartSession",
        [["ssm:StartSession"]],
        [],
        "open a shell on an instance with a privileged profile",
        "BF ssmStartSession"
    ),
    path!(
        "SageMakerPresignedNotebookURL",
        [["sagemaker:CreatePresignedNotebookInstanceUrl"]],
        [],
        "open an existing notebook instance that has a privileged role",
        "R2, BF sageMakerCreatePresignedNotebookURL, CS"
    ),
    path!(
        "ECSExecuteCommand",
        [["ecs:ExecuteCommand"]],
        [],
        "open a shell in a running task that has a privileged task role",
        "CS (pathfinding.cloud ecs)"
    ),
    path!(
        "ModifyInstanceUserData",
        [
            ["ec2:ModifyInstanceAttribute"],
            ["ec2:StopInstances"],
            ["ec2:StartInstances"]
        ],
        [],
        "replace the user data of an instance with a privileged profile and restart it",
        "CS (pathfinding.cloud ec2)"
    ),
];

/// The name of the transitive path: the principal can assume (through trust policies) a role
/// that is an administrator or opens a path. Found by the principal analysis, not by actions.
pub const ASSUME_ROLE: &str = "AssumeRole";

/// Each path's steps as action ids (computed once).
fn step_ids() -> &'static [Vec<Vec<u32>>] {
    static IDS: std::sync::OnceLock<Vec<Vec<Vec<u32>>>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| PATHS.iter().map(step_ids_of).collect())
}

/// A path's steps as catalog action ids (actions the catalog does not know are left out).
fn step_ids_of(p: &Path) -> Vec<Vec<u32>> {
    let cat = super::catalog::catalog();
    p.steps
        .iter()
        .map(|s| s.iter().filter_map(|a| cat.find(a)).collect())
        .collect()
}

/// Whether a path is open for a principal.
pub fn state(p: &Path, perms: &Permissions) -> Tri {
    // A path of the catalog (found by address: comparing 31 names per path per principal was
    // a measurable share of an account's analysis) uses its step ids read once; any other path
    // has its own steps looked up.
    let own;
    let steps: &[Vec<u32>] = match PATHS.iter().position(|q| std::ptr::eq(q, p)) {
        Some(index) => match step_ids().get(index) {
            Some(steps) => steps,
            None => return Tri::No,
        },
        None => {
            own = step_ids_of(p);
            &own
        }
    };
    let mut worst = Tri::Yes;
    for step in steps {
        let best = step
            .iter()
            .map(|id| perms.allows(*id))
            .max()
            .unwrap_or(Tri::No);
        worst = worst.min(best);
        if worst == Tri::No {
            return Tri::No;
        }
    }
    if !p.passed_to.is_empty() {
        let pass = p
            .passed_to
            .iter()
            .map(|s| perms.passes_role_to(s))
            .max()
            .unwrap_or(Tri::No);
        worst = worst.min(pass);
    }
    worst
}

/// Every action a path reads (its steps and `iam:PassRole`).
pub fn actions(p: &Path) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = p.steps.iter().flat_map(|s| s.iter().copied()).collect();
    if !p.passed_to.is_empty() {
        out.insert(0, "iam:PassRole");
    }
    out
}

/// A path by name.
pub fn find(name: &str) -> Option<&'static Path> {
    PATHS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_in_the_catalog_and_names_are_unique() {
        let cat = super::super::catalog::catalog();
        let mut names = std::collections::BTreeSet::new();
        for p in PATHS {
            assert!(names.insert(p.name), "{} twice", p.name);
            for a in actions(p) {
                assert!(
                    cat.find(a).is_some(),
                    "{a} of {} is not a real action",
                    p.name
                );
            }
        }
        assert!(!names.contains(ASSUME_ROLE));
    }

    #[test]
    fn a_path_outside_the_catalog_is_judged_by_its_own_steps() {
        use super::super::document::{Origin, read};
        use super::super::eval::{Holdings, compile};
        use std::sync::Arc;
        let perms = |actions: serde_json::Value| {
            let doc = serde_json::json!({"Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": "*"}
            ]});
            let doc = read(&doc, &Origin::default(), &[]).unwrap_or_default();
            Permissions::of(Holdings {
                policies: vec![Arc::new(compile("p", &doc))],
                boundary: None,
            })
        };
        let catalogued = find("CreatePolicyVersion").expect("a catalogued path");
        // The same path at another address (as a caller could build one), and one of its own.
        let copy = *catalogued;
        let own = Path {
            name: "GetObject",
            steps: &[&["s3:GetObject"]],
            ..copy
        };
        let open = perms(serde_json::json!([
            "iam:CreatePolicyVersion",
            "s3:GetObject"
        ]));
        let closed = perms(serde_json::json!("ec2:DescribeInstances"));
        for p in [catalogued, &copy, &own] {
            assert_eq!(state(p, &open), Tri::Yes, "{}", p.name);
            assert_eq!(state(p, &closed), Tri::No, "{}", p.name);
        }
    }
}
