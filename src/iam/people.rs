//! IAM principals joined to the people of the inventory, so access review sees them: an IAM user
//! or role belongs to a person when its `vouch:person` tag names the person (by id or email), or
//! else when its name is the person's id, email or the local part of the email (case does not
//! matter). A departed person's user or role is then a deprovisioning finding.

use std::collections::HashMap;

use crate::model::{Resource, Value};

/// The tag that links an IAM user or role to an inventory person explicitly.
pub const PERSON_TAG: &str = "vouch:person";

const USER_TYPE: &str = "Access::User";

/// What the review needs of a person.
struct Person {
    login: String,
    status: String,
    ended: bool,
}

/// Links every `Aws::IamUser` and `Aws::IamRole` to its person, setting `person` (the inventory
/// id), `person_status` and `person_departed`. A principal that matches nobody gets
/// `person_departed = false` (and no `person`), unless its tag names someone unknown: then
/// `person_departed` is unknown, with the reason.
pub fn link(resources: &mut [Resource]) {
    let mut people: HashMap<String, usize> = HashMap::new();
    let mut list: Vec<Person> = Vec::new();
    for r in resources.iter().filter(|r| r.entity_type == USER_TYPE) {
        let text = |k: &str| match r.attrs.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let Some(login) = text("login") else { continue };
        let idx = list.len();
        list.push(Person {
            login: login.clone(),
            status: text("status").unwrap_or_default(),
            ended: r.attrs.get("employment_ended") == Some(&Value::Bool(true)),
        });
        people.entry(login.to_lowercase()).or_insert(idx);
        if let Some(Value::String(email)) = r.attrs.get("email") {
            people.entry(email.to_lowercase()).or_insert(idx);
            if let Some((local, _)) = email.split_once('@') {
                people.entry(local.to_lowercase()).or_insert(idx);
            }
        }
    }
    for r in resources
        .iter_mut()
        .filter(|r| r.entity_type == "Aws::IamUser" || r.entity_type == "Aws::IamRole")
    {
        let tag = match r.attrs.get("person") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let name = match r.attrs.get("name") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let found = match (&tag, &name) {
            (Some(t), _) => people.get(&t.to_lowercase()),
            (None, Some(n)) => people.get(&n.to_lowercase()),
            (None, None) => None,
        };
        match (found.and_then(|i| list.get(*i)), tag) {
            (Some(p), _) => {
                r.set("person", Value::str(p.login.clone()));
                r.set("person_status", Value::str(p.status.clone()));
                let departed = p.ended || p.status != "active";
                r.set("person_departed", Value::Bool(departed));
                if departed {
                    let why = if p.ended {
                        "has left (employment ended)"
                    } else {
                        "is no longer active"
                    };
                    r.notes
                        .entry("iam-leavers-deprovisioned".to_owned())
                        .or_default()
                        .push(format!(
                            "belongs to `{}` (status `{}`), who {why}",
                            p.login, p.status
                        ));
                }
            }
            (None, Some(t)) => {
                r.set(
                    "person_departed",
                    Value::unknown(format!(
                        "its `{PERSON_TAG}` tag names `{t}`, who is not in the inventory"
                    )),
                );
            }
            (None, None) => {
                r.attrs.remove("person");
                r.set("person_departed", Value::Bool(false));
            }
        }
    }
}

/// How many IAM users and roles belong to a person of the inventory.
pub fn joined(resources: &[Resource]) -> usize {
    resources
        .iter()
        .filter(|r| r.entity_type == "Aws::IamUser" || r.entity_type == "Aws::IamRole")
        .filter(|r| matches!(r.attrs.get("person_status"), Some(Value::String(_))))
        .count()
}
