use super::*;

fn kinds(r: &[Redaction]) -> Vec<(u32, &'static str)> {
    r.iter().map(|r| (r.line, r.kind)).collect()
}

#[test]
fn every_tfvars_value_is_masked_and_names_stay() {
    let tfvars = "# prod values\nregion = \"eu-west-1\"\ndb_credentials = \"admin:hunter2\"\nport = 5432\ntags = {\n  owner = \"ana\"\n}\n";
    let (out, r) = redact("envs/prod/terraform.tfvars", tfvars);
    assert!(!out.contains("hunter2") && !out.contains("eu-west-1") && !out.contains("5432"));
    assert!(!out.contains("ana"), "{out}");
    assert!(
        out.contains("db_credentials = ") && out.contains("# prod values"),
        "{out}"
    );
    assert_eq!(out.lines().count(), tfvars.lines().count());
    assert!(r.iter().all(|x| x.kind == "tfvars_value"), "{r:?}");
    assert!(hcl::parse(&out).is_some(), "still HCL: {out}");
}

#[test]
fn terraform_sensitive_secret_attributes_and_references() {
    let tf = "variable \"db\" {\n  default   = \"hunter22\"\n  sensitive = true\n}\n\nresource \"aws_db_instance\" \"main\" {\n  password = \"s3cr3t\"\n  master_password = var.db\n  secret_name = \"prod/db\"\n}\n";
    let (out, r) = redact("main.tf", tf);
    assert!(
        !out.contains("hunter22") && !out.contains("s3cr3t"),
        "{out}"
    );
    assert!(out.contains("var.db") && out.contains("prod/db"));
    assert_eq!(out.lines().count(), tf.lines().count());
    assert_eq!(
        kinds(&r),
        vec![(2, "terraform_sensitive"), (7, "secret_attribute")]
    );
}

#[test]
fn heredocs_and_block_scalars_keep_their_lines() {
    let tf = "resource \"x\" \"y\" {\n  private_key = <<EOT\nline1\nline2\nEOT\n}\n";
    let (out, _) = redact("k.tf", tf);
    assert!(!out.contains("line1") && !out.contains("line2"), "{out}");
    assert_eq!(out.lines().count(), tf.lines().count());
    assert!(hcl::parse(&out).is_some(), "{out}");
    let y =
        "apiVersion: v1\nkind: Secret\nstringData:\n  cert: |\n    line1\n    line2\n  other: x\n";
    let (out, _) = redact("s.yaml", y);
    assert!(!out.contains("line1") && !out.contains("line2"), "{out}");
    assert_eq!(out.lines().count(), y.lines().count());
    assert!(yaml::parse(&out).is_some(), "{out}");
}

#[test]
fn an_unparsable_file_is_masked_whole() {
    let (out, r) = redact("broken.json", "{\"a\": \"x\",\n \"password\": \"p\"\n");
    assert_eq!(out, "REDACTED\nREDACTED\n");
    assert_eq!(kinds(&r), vec![(1, "unparsed_file")]);
}

#[test]
fn a_value_masked_in_one_file_is_masked_in_the_others() {
    let (out, known) = redact_all(&[
        (
            "a.tf",
            "resource \"x\" \"y\" {\n  password = \"correct-horse\"\n}\n",
        ),
        ("notes.yaml", "comment: the db uses correct-horse\n"),
    ]);
    assert!(!out[1].0.contains("correct-horse"), "{}", out[1].0);
    assert_eq!(known.scrub("x correct-horse y"), "x REDACTED y");
}

#[test]
fn evidence_url_queries() {
    let t =
        "[[attestation]]\ncontrol = \"x\"\nevidence = \"https://docs.example/r?id=1&t=abc#p2\"\n";
    let (out, _) = redact("inventory.toml", t);
    assert!(
        out.contains("evidence = \"https://docs.example/r?REDACTED#p2\""),
        "{out}"
    );
    assert_eq!(
        mask_url_query("https://a/b?x=1#f"),
        "https://a/b?REDACTED#f"
    );
}
