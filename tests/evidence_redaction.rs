//! Structure-aware redaction: a corpus of planted secrets in every style vouch reads (HCL with
//! one-line blocks, objects and `jsonencode`, `.tfvars`, a one-line plan JSON with its
//! sensitivity markers, Kubernetes YAML in block and flow style and inside `kind: List`, env
//! entries in any key order, container arguments, TOML comments, attestation evidence URLs,
//! IAM JSON, credential formats anywhere), each asserted absent from every byte of the
//! directory bundle and of the decompressed archive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

use std::io::Read as _;
use std::path::Path;

use support::*;

/// A 40-character AWS-style secret key with a marker.
fn aws_secret(n: u32) -> String {
    let s = format!("Wj{n:02}alrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYxx");
    s[..40].to_owned()
}

/// The planted secrets, and the files that carry them.
struct Corpus {
    secrets: Vec<String>,
    files: Vec<(String, String)>,
}

fn corpus() -> Corpus {
    let mut secrets: Vec<String> = Vec::new();
    let mut s = |v: &str| {
        secrets.push(v.to_owned());
        v.to_owned()
    };
    // HCL: one-line blocks, objects, jsonencode, env pairs, arguments, heredocs, comments.
    let mut tf = String::new();
    tf.push_str(&format!(
        "resource \"aws_db_instance\" \"one\" {{ password = \"{}\" }}\n",
        s("S01oneLinePass")
    ));
    tf.push_str(&format!(
        "resource \"aws_db_instance\" \"two\" {{\n  identifier      = \"two\"\n  master_password = \"{}\"\n  tags = {{ password = \"{}\", Name = \"two\" }}\n}}\n",
        s("S02masterPass"),
        s("S03tagsPass")
    ));
    tf.push_str(&format!(
        "resource \"aws_ecs_task_definition\" \"t\" {{\n  family = \"t\"\n  container_definitions = jsonencode([{{\n    name        = \"app\"\n    environment = [{{ name = \"DB_PASSWORD\", value = \"{}\" }}, {{ value = \"{}\", name = \"API_TOKEN\" }}]\n    command     = [\"--db-password={}\", \"--api-key\", \"{}\"]\n  }}])\n}}\n",
        s("S04ecsEnvValue"),
        s("S05ecsEnvReversed"),
        s("S06commandFlag"),
        s("S07commandNext")
    ));
    tf.push_str(&format!(
        "locals {{\n  cfg = jsonencode({{ password = \"{}\", nested = {{ client_secret = \"{}\" }} }})\n  dsn = \"postgres://admin:{}@db.internal:5432/app\"\n  key_id = \"{}\"\n  key = \"{}\"\n  gh = \"{}\"\n  gh_fine = \"{}\"\n  gl = \"{}\"\n  slack = \"{}\"\n  hook = \"https://hooks.slack.com/services/T0000/B0000/{}\"\n  stripe = \"{}\"\n  jwt = \"{}\"\n  auth = \"Authorization: Bearer {}\"\n  google = \"{}\"\n}}\n",
        s("S08jsonencodePass"),
        s("S09nestedClientSecret"),
        s("S10urlPassword"),
        s("AKIAQ11EXAMPLEKEY1XY"),
        s(&aws_secret(12)),
        s("ghp_S13aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        s("github_pat_S14bbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        s("glpat-S15ccccccccccccccccccc"),
        s("xoxb-1234567890-S16slackBotToken"),
        s("S17webhookSecretPart"),
        s("sk_live_S18stripeLiveKey1234"),
        s("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTMTkifQ.S19jwtSignaturePart"),
        s("S20bearerTokenValue"),
        s("AIzaS21dddddddddddddddddddddddddddddddd"),
    ));
    tf.push_str(&format!(
        "variable \"db_pass\" {{\n  type      = string\n  default   = \"{}\"\n  sensitive = true\n}}\noutput \"conn\" {{\n  value     = \"{}\"\n  sensitive = true\n}}\n",
        s("S22variableDefault"),
        s("S23outputLiteral")
    ));
    tf.push_str(&format!(
        "resource \"kubernetes_secret\" \"k\" {{\n  metadata {{ name = \"k\" }}\n  data = {{ username = \"{}\", anything = \"{}\" }}\n}}\n",
        s("S24k8sTfUser"),
        s("S25k8sTfAnything")
    ));
    tf.push_str(&format!(
        "# password = \"{}\"\n// token: {}\n/* api_key = {} */\n",
        s("S26hclHashComment"),
        s("S27hclSlashComment"),
        s("S28hclBlockComment")
    ));
    tf.push_str(&format!(
        "resource \"aws_iam_user\" \"u\" {{\n  name = \"u\"\n  private_key = <<EOT\n{}\nEOT\n}}\n",
        s("S29heredocLine")
    ));
    tf.push_str(&format!(
        "locals {{\n  pem = <<EOT\n-----BEGIN RSA PRIVATE KEY-----\n{}\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nEOT\n}}\n",
        s("S30pemBodyLine")
    ));
    // Many spellings of secret attribute names.
    for (i, key) in [
        "admin_password",
        "clientSecret",
        "api_key",
        "auth_token",
        "access_key",
        "db_passwd",
        "secret_key",
        "connection_string",
        "webhook_url",
        "apiKey",
        "refresh_token",
        "signing_key",
    ]
    .iter()
    .enumerate()
    {
        tf.push_str(&format!(
            "resource \"aws_ssm_parameter\" \"p{i}\" {{\n  name = \"p{i}\"\n  {key} = \"{}\"\n}}\n",
            s(&format!("S{}keySpelling", 31 + i))
        ));
    }
    let tfvars = format!(
        "db_password = \"{}\"\nregion = \"{}\"\nobj = {{ inner = \"{}\" }}\n",
        s("S43tfvarsPassword"),
        s("S44tfvarsAnyValue"),
        s("S45tfvarsObject")
    );
    // A one-line plan, as `terraform show -json` writes it.
    let plan = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "variables": { "db_password": { "value": s("S46planVariable") } },
        "planned_values": {
            "outputs": { "conn": { "sensitive": true, "value": s("S47planOutput") } },
            "root_module": {
                "resources": [{
                    "address": "aws_db_instance.main",
                    "mode": "managed",
                    "type": "aws_db_instance",
                    "name": "main",
                    "values": {
                        "identifier": "main",
                        "master_password": s("S48planMasterPassword"),
                        "custom_field": s("S49planMarkedSensitive"),
                        "storage_encrypted": true
                    },
                    "sensitive_values": { "custom_field": true, "master_password": true }
                }],
                "child_modules": [{
                    "address": "module.db",
                    "resources": [{
                        "address": "module.db.aws_db_instance.inner",
                        "mode": "managed",
                        "type": "aws_db_instance",
                        "name": "inner",
                        "values": { "identifier": "inner", "opaque": s("S50planChildSensitive"), "storage_encrypted": true },
                        "sensitive_values": { "opaque": true }
                    }]
                }]
            }
        },
        "resource_changes": [{
            "address": "aws_db_instance.main",
            "mode": "managed",
            "type": "aws_db_instance",
            "name": "main",
            "change": {
                "actions": ["update"],
                "before": { "identifier": "main", "opaque": s("S51planBefore") },
                "after": { "identifier": "main", "opaque": s("S52planAfter"), "list": ["plain", s("S53planListItem")] },
                "before_sensitive": { "opaque": true },
                "after_sensitive": { "opaque": true, "list": [false, true] }
            }
        }],
        "output_changes": { "conn": { "actions": ["create"], "before": null, "after": s("S54planOutputChange"), "after_sensitive": true, "before_sensitive": false } },
        "configuration": {
            "root_module": {
                "variables": { "db_password": { "sensitive": true } },
                "module_calls": { "db": {
                    "source": "./db",
                    "expressions": { "admin": { "constant_value": s("S55moduleArgument") } },
                    "module": { "variables": { "admin": { "sensitive": true } } }
                } }
            }
        }
    });
    let plan = serde_json::to_string(&plan).unwrap();
    // Kubernetes: block, flow, List, env in any order, arguments, block scalars, comments.
    let k8s = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: block\ndata:\n  password: {}\nstringData:\n  anything: {}\n  key.pem: |\n    -----BEGIN PRIVATE KEY-----\n    {}\n    -----END PRIVATE KEY-----\n---\n{{apiVersion: v1, kind: Secret, metadata: {{name: flow}}, stringData: {{whatever: {}, other: \"{}\"}}}}\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: listed\n    stringData:\n      anything: {}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: prod\n  annotations:\n    jwt: {}\n    db: postgres://app:{}@db:5432/x\nspec:\n  selector:\n    matchLabels: {{app: api}}\n  template:\n    metadata:\n      labels: {{app: api}}\n    spec:\n      containers:\n        - name: api\n          image: registry.example/api:1.0\n          # db password: {}\n          env:\n            - value: {}\n              name: ADMIN_PASSWORD\n            - {{name: DB_TOKEN, value: \"{}\"}}\n            - name: MODE\n              value: fast\n          args: [\"--password={}\", \"--token\", \"{}\"]\n          command: [\"curl\", \"-H\", \"Authorization: Bearer {}\"]\n",
        s("UzU2YmFzZTY0UGFzcw=="),
        s("S57stringDataAny"),
        s("S58pemInBlockScalar"),
        s("S59flowStyleSecret"),
        s("S60flowQuoted"),
        s("S61listedSecret"),
        s("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJTNjIifQ.S62jwtInAnnotation"),
        s("S63yamlUrlPassword"),
        s("S64yamlComment"),
        s("S65envValueBeforeName"),
        s("S66envFlowValue"),
        s("S67argEquals"),
        s("S68argNext"),
        s("S69curlBearerToken"),
    );
    let k8s_cm = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  DB_PASSWORD: {}\n  stripe: {}\n  aws: {}\n",
        s("S70configMapPassword"),
        s("rk_live_S71restrictedKey99"),
        s("AKIAQ72EXAMPLEKEY2XY"),
    );
    // The inventory: comments, and an attestation whose evidence link carries a token.
    let inventory = format!(
        "{IDP}\n# break-glass password = \"{}\"\n# api_key: {}\n# slack: https://hooks.slack.com/services/T1/B1/{}\n[[attestation]]\ncontrol = \"security-awareness-training\"\nowner = \"people-ops@example.com\"\nevidence = \"https://lms.example.com/report?token={}&view=all\"\ndate = 2026-09-01\nexpires = 2027-09-01\n",
        s("S73tomlComment"),
        s("S74tomlColonComment"),
        s("S75tomlWebhook"),
        s("S76evidenceToken"),
    );
    let iam = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"x\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{{\"StringEquals\":{{\"aws:PrincipalTag/k\":\"{}\",\"aws:UserAgent\":\"{}\"}}}}}}]}}",
        s("AKIAQ77EXAMPLEKEY3XY"),
        s("ghp_S78eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
    );
    let vouch_toml = format!(
        "# webhook https://hooks.slack.com/services/T2/B2/{}\n# token = {}\n",
        s("S79vouchTomlHook"),
        s("S80vouchTomlToken"),
    );
    let extra = format!(
        "resource \"aws_instance\" \"i\" {{\n  ami = \"ami-1\"\n  user_data = \"export STRIPE=sk_test_{} && mysql -p{}\"\n  tags = {{ note = \"{}\" }}\n}}\n",
        s("S81stripeTestKey00"),
        "x",
        s("glptt-S82pipelineTriggerToken"),
    );
    let files = vec![
        ("infra/main.tf".to_owned(), tf),
        ("infra/extra.tf".to_owned(), extra),
        ("infra/terraform.tfvars".to_owned(), tfvars),
        ("infra/plan.json".to_owned(), plan),
        ("infra/k8s/app.yaml".to_owned(), k8s),
        ("infra/k8s/cm.yaml".to_owned(), k8s_cm),
        ("infra/inventory/idp.toml".to_owned(), inventory),
        ("infra/iam/policy.json".to_owned(), iam),
        ("infra/vouch.toml".to_owned(), vouch_toml),
    ];
    Corpus { secrets, files }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The decompressed bytes of every entry of a `.tar.gz`, with its name.
fn archive_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

#[test]
fn every_planted_secret_is_absent_from_the_bundle_and_the_archive() {
    let c = corpus();
    assert!(c.secrets.len() >= 80, "{} secrets", c.secrets.len());
    let unique: std::collections::BTreeSet<&String> = c.secrets.iter().collect();
    assert_eq!(unique.len(), c.secrets.len(), "each secret is planted once");
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let files: Vec<(&str, &str)> = c
        .files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write(dir.path(), &files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "secrets everywhere"]);
    let out = tempfile::tempdir().unwrap();
    let bundle_dir = out.path().join("bundle");
    let archive = out.path().join("bundle.tar.gz");
    ok(&bundle(
        &dir.path().join("infra"),
        &bundle_dir,
        "2026-11-20T10:00:00Z",
        &["--archive", archive.to_str().unwrap()],
    ));
    let tree = read_tree(&bundle_dir);
    // Every input was bundled (so absence is redaction, not omission).
    // (A .tfvars file is bundled when the module uses it; its values are all masked anyway.)
    for (path, _) in c.files.iter().filter(|(p, _)| !p.ends_with(".tfvars")) {
        let rel = format!("inputs/{}", path.trim_start_matches("infra/"));
        let inputs: Vec<&String> = tree.keys().filter(|k| k.starts_with("inputs/")).collect();
        assert!(tree.contains_key(&rel), "{rel} not bundled: {inputs:?}");
    }
    let entries = archive_entries(&archive);
    assert_eq!(entries.len(), tree.len());
    let mut leaks = Vec::new();
    for secret in &c.secrets {
        for (path, data) in &tree {
            if contains(data, secret) {
                leaks.push(format!("{secret} in {path}"));
            }
        }
        for (path, data) in &entries {
            if contains(data, secret) {
                leaks.push(format!("{secret} in archive {path}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    // What is not secret stays, so the bundle is still evidence.
    let main = String::from_utf8_lossy(&tree["inputs/main.tf"]).into_owned();
    for kept in [
        "master_password = \"REDACTED\"",
        "identifier      = \"two\"",
        "name = \"DB_PASSWORD\"",
        "--db-password=REDACTED",
        "Name = \"two\"",
        "postgres://admin:REDACTED@db.internal:5432/app",
    ] {
        assert!(main.contains(kept), "{kept} missing from:\n{main}");
    }
    assert_eq!(
        main.lines().count(),
        c.files[0].1.lines().count(),
        "line numbers still match the assessment"
    );
    let app = String::from_utf8_lossy(&tree["inputs/k8s/app.yaml"]).into_owned();
    assert!(
        app.contains("value: fast") && app.contains("name: ADMIN_PASSWORD"),
        "{app}"
    );
    let idp = String::from_utf8_lossy(&tree["inputs/inventory/idp.toml"]).into_owned();
    assert!(
        idp.contains("https://lms.example.com/report?REDACTED\""),
        "{idp}"
    );
    // The evidence link is masked in the outputs vouch wrote too.
    for out_file in [
        "assessment.json",
        "summary.md",
        "oscal/assessment-results.json",
    ] {
        let text = String::from_utf8_lossy(&tree[out_file]).into_owned();
        assert!(!text.contains("S76evidenceToken"), "{out_file}");
    }
    let assessment = String::from_utf8_lossy(&tree["assessment.json"]).into_owned();
    assert!(
        assessment.contains("https://lms.example.com/report?REDACTED"),
        "the evidence link is kept without its query"
    );
    // The redacted inputs are still valid in their syntax.
    let plan: serde_json::Value = serde_json::from_slice(&tree["inputs/plan.json"]).unwrap();
    assert_eq!(plan["variables"]["db_password"]["value"], "REDACTED");
    // The bundle verifies.
    ok(&vouch()
        .args(["evidence", "verify"])
        .arg(&archive)
        .output()
        .unwrap());
}

#[test]
fn env_files_and_every_syntax_keep_their_lines() {
    let env = "# prod\nexport DB_PASSWORD=S90envPassword\nMODE=fast\nAPI_TOKEN=\"S91envQuoted\"\n";
    let (out, r) = vouch::evidence::redact::redact(".env", env);
    assert!(
        !out.contains("S90envPassword") && !out.contains("S91envQuoted"),
        "{out}"
    );
    assert!(
        out.contains("export DB_PASSWORD=REDACTED") && out.contains("# prod"),
        "{out}"
    );
    assert!(r.iter().all(|x| x.kind == "env_value"), "{r:?}");
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the text, redaction in every syntax never panics, keeps every line, and a
    /// secret written as `password: …` / `password = …` on its own line never survives.
    #[test]
    fn redaction_never_panics_keeps_lines_and_masks_planted_values(
        noise in proptest::collection::vec("[ -~\n\t{}\\[\\]\"':=#,]{0,40}", 0..12),
        secret in "[A-Za-z0-9]{8,20}",
        style in 0usize..4,
    ) {
        let planted = match style {
            0 => format!("password: P{secret}"),
            1 => format!("password = \"P{secret}\""),
            2 => format!("# password: P{secret}"),
            _ => format!("\"password\": \"P{secret}\""),
        };
        let mut lines = noise.clone();
        lines.insert(noise.len() / 2, planted);
        let text = lines.join("\n");
        for path in ["a.json", "a.yaml", "a.tf", "a.tfvars", "a.toml", ".env", "a.txt"] {
            let (out, _) = vouch::evidence::redact::redact(path, &text);
            prop_assert_eq!(out.matches('\n').count(), text.matches('\n').count(), "{}", path);
            prop_assert!(!out.contains(&format!("P{secret}")), "{} kept the secret:\n{}", path, out);
        }
    }
}
