//! People: identity-provider directories (Okta, Google Workspace, Entra, or a SCIM export of
//! the IdP), their factors, the HR roster, and every application's SCIM accounts.
//!
//! - A directory account overlays the inventory `[[user]]` with the same e-mail or id: its
//!   status, last sign-in and MFA enrolment are imported (and a declared value that differs is
//!   a contradiction, recorded on the identity provider).
//! - An application account that is `active` while its person is suspended or deprovisioned in
//!   the identity provider, absent from it, terminated in the HR roster or absent from it is an
//!   **orphan account**: `orphan_accounts` of the application names it, with both sides.
//! - When the tree holds any identity export, an application without an account export has
//!   `orphan_accounts` unknown (it cannot be shown either way).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::super::hr::{self, NotRoster};
use super::super::{Account, AccountStatus, Content, Employee, ExportFile, Factor, Format};
use super::Join;
use crate::error::Problem;
use crate::model::Value;

/// The vendor words that tie a directory format to an `[[identity_provider]]` id.
fn vendor(format: Format) -> &'static [&'static str] {
    match format {
        Format::OktaUsers | Format::OktaFactors => &["okta"],
        Format::GoogleUsers => &["google", "workspace", "gsuite"],
        Format::EntraUsers | Format::EntraRegistrations => &["entra", "azure", "microsoft"],
        _ => &[],
    }
}

/// A person as one directory knows them.
struct Known<'a> {
    status: AccountStatus,
    export: &'a ExportFile,
    account: &'a Account,
}

pub fn apply(j: &mut Join<'_>) {
    let exports: Vec<Arc<ExportFile>> = j.exports.to_vec();
    let idps: Vec<String> = j
        .of_type("Saas::IdentityProvider")
        .into_iter()
        .filter_map(|i| j.resources.get(i))
        .map(|r| {
            r.address
                .trim_start_matches("identity_provider:")
                .to_owned()
        })
        .collect();

    // Directories: which identity provider each belongs to.
    let mut directories: Vec<(&ExportFile, &[Account], Option<String>)> = Vec::new();
    let mut apps: Vec<(&ExportFile, &[Account], String)> = Vec::new();
    for e in &exports {
        let Content::Accounts(accounts) = &e.content else {
            continue;
        };
        let decl = j.settings.file(&e.path);
        let application = decl
            .and_then(|d| d.application.clone())
            .or_else(|| e.application.clone());
        let idp = decl.and_then(|d| d.identity_provider.clone());
        match (e.format, application, idp) {
            (_, Some(app), _) => apps.push((e, accounts, app)),
            (Format::ScimUsers, None, None) => j.problems.push(
                Problem::parse(&e.path, &e.text, 0, 0,
                    format!("`{}` is a SCIM export, but vouch.toml does not say whose accounts it lists", e.path),
                    "this export")
                .with_help(format!("add `[[exports.file]]` with `path = \"{}\"` and `application = \"<id>\"` (or `identity_provider = \"<id>\"`) to vouch.toml", e.path)),
            ),
            (format, None, idp) => {
                let idp = idp.or_else(|| match_idp(&idps, format));
                directories.push((e, accounts, idp));
            }
        }
    }

    // Everyone each directory knows, by e-mail.
    let mut directory: HashMap<&str, Known<'_>> = HashMap::new();
    for (e, accounts, _) in &directories {
        for a in *accounts {
            for email in &a.emails {
                directory
                    .entry(email.as_str())
                    .and_modify(|k| {
                        // The most restrictive state wins across directories (fail closed).
                        if a.status > k.status {
                            *k = Known {
                                status: a.status,
                                export: e,
                                account: a,
                            };
                        }
                    })
                    .or_insert(Known {
                        status: a.status,
                        export: e,
                        account: a,
                    });
            }
        }
    }

    // Factors (Okta) and registrations (Entra), by directory id and login.
    let mut factor_by_okta_id: HashMap<&str, Factor> = HashMap::new();
    let mut factor_by_login: HashMap<&str, (Factor, Option<bool>)> = HashMap::new();
    let mut factor_sources: Vec<&ExportFile> = Vec::new();
    for e in &exports {
        match &e.content {
            Content::Factors(fs) => {
                factor_sources.push(e);
                for f in fs.iter().filter(|f| f.active) {
                    let strength = if super::super::okta::PHISHING_RESISTANT
                        .contains(&f.factor_type.as_str())
                    {
                        Factor::PhishingResistant
                    } else {
                        Factor::Other
                    };
                    let slot = factor_by_okta_id
                        .entry(f.user_id.as_str())
                        .or_insert(Factor::None);
                    *slot = (*slot).max(strength);
                }
            }
            Content::Registrations(rs) => {
                factor_sources.push(e);
                for r in rs {
                    let strength = if r
                        .methods
                        .iter()
                        .any(|m| super::super::entra::PHISHING_RESISTANT.contains(&m.as_str()))
                    {
                        Factor::PhishingResistant
                    } else if r.mfa_registered {
                        Factor::Other
                    } else {
                        Factor::None
                    };
                    factor_by_login.insert(r.login.as_str(), (strength, r.admin));
                }
            }
            _ => {}
        }
    }
    let have_okta_factors = exports
        .iter()
        .any(|e| matches!(e.content, Content::Factors(_)));
    let have_registrations = exports
        .iter()
        .any(|e| matches!(e.content, Content::Registrations(_)));
    // Each directory's own factor source: Okta factors for Okta users, registration details
    // for Entra users, the 2-step verification flags of Google users.
    let factor_of = |format: Format, a: &Account| -> Option<Factor> {
        match format {
            Format::OktaUsers if have_okta_factors => Some(
                factor_by_okta_id
                    .get(a.system_id.as_str())
                    .copied()
                    .unwrap_or(Factor::None),
            ),
            Format::EntraUsers if have_registrations => Some(
                factor_by_login
                    .get(a.login.as_str())
                    .map_or(Factor::None, |f| f.0),
            ),
            _ => a.mfa,
        }
    };
    let admin_of = |format: Format, a: &Account| -> bool {
        match format {
            Format::EntraUsers => {
                factor_by_login.get(a.login.as_str()).and_then(|f| f.1) == Some(true)
            }
            _ => a.admin == Some(true),
        }
    };

    // The HR roster.
    let mut roster: HashMap<String, (Employee, Arc<ExportFile>)> = HashMap::new();
    let mut rosters: Vec<Arc<ExportFile>> = Vec::new();
    for e in &exports {
        let Content::Csv(table) = &e.content else {
            continue;
        };
        match hr::roster(e, table, &j.settings.hr, j.settings.hr_configured) {
            Ok(people) => {
                rosters.push(Arc::clone(e));
                for p in people {
                    roster.insert(p.email.clone(), (p, Arc::clone(e)));
                }
            }
            Err(NotRoster::Unrecognised) => j.unrecognised.push(e.path.clone()),
            Err(NotRoster::Problems(ps)) => j.problems.extend(ps),
        }
    }

    let idp_by_path: HashMap<&str, String> = directories
        .iter()
        .filter_map(|(e, _, idp)| {
            idp.as_ref()
                .map(|i| (e.path.as_str(), format!("identity_provider:{i}")))
        })
        .collect();
    overlay_users(j, &directory, &factor_of, &idp_by_path);
    overlay_leavers(j, &roster, idp_by_path.values().next().cloned());
    idp_facts(j, &directories, &factor_of, &admin_of, &factor_sources);

    // Application accounts against the directory and the roster.
    let identity_exports = !directories.is_empty() || !rosters.is_empty();
    let mut with_export: BTreeSet<String> = BTreeSet::new();
    let mut by_app: BTreeMap<String, Vec<(&ExportFile, &[Account])>> = BTreeMap::new();
    for (e, accounts, app) in &apps {
        by_app.entry(app.clone()).or_default().push((e, accounts));
    }
    for (app, files) in by_app {
        let address = format!("application:{app}");
        let Some(idx) = j
            .index
            .get(&("Saas::Application".to_owned(), address.clone()))
            .copied()
        else {
            for (e, _) in &files {
                j.problems.push(
                    Problem::parse(&e.path, &e.text, 0, 0,
                        format!("`{}` lists the accounts of application `{app}`, which no `[[application]]` declares", e.path),
                        "this export")
                    .with_help("declare the application in the inventory, or fix `application` in vouch.toml"),
                );
            }
            continue;
        };
        with_export.insert(address);
        // Second factors of the application's own accounts, where its export says (Google
        // Workspace 2-step verification, Entra registration details).
        let mut without_mfa: Option<BTreeSet<String>> = None;
        let mut mfa_details = Vec::new();
        for (e, accounts) in &files {
            for a in accounts
                .iter()
                .filter(|a| a.status == AccountStatus::Active)
            {
                match factor_of(e.format, a) {
                    Some(Factor::None) => {
                        without_mfa
                            .get_or_insert_with(BTreeSet::new)
                            .insert(a.login.clone());
                        mfa_details.push(format!(
                            "`{}` has no second factor in `{app}` ({})",
                            a.login,
                            e.at(a.offset)
                        ));
                    }
                    Some(_) => {
                        without_mfa.get_or_insert_with(BTreeSet::new);
                    }
                    None => {}
                }
            }
        }
        if let Some(set) = without_mfa {
            for (e, _) in &files {
                j.import(
                    idx,
                    "accounts_without_mfa",
                    Value::string_set(set.iter().cloned()),
                    e,
                    0,
                    "",
                );
            }
            if let Some(r) = j.resources.get_mut(idx) {
                for d in mfa_details {
                    r.facts_mut().explain("accounts_without_mfa", d);
                }
            }
        }
        let mut orphans = BTreeSet::new();
        let mut details = Vec::new();
        for (e, accounts) in &files {
            for a in accounts
                .iter()
                .filter(|a| a.status == AccountStatus::Active)
            {
                if let Some(why) = orphan(
                    a,
                    &directory,
                    !directories.is_empty(),
                    &roster,
                    !rosters.is_empty(),
                    j.as_of,
                ) {
                    orphans.insert(a.login.clone());
                    details.push(format!(
                        "`{}` is active in `{app}` ({}) but {why}",
                        a.login,
                        e.at(a.offset)
                    ));
                }
            }
        }
        if !identity_exports {
            let first = files.first().map(|f| f.0);
            j.set_unknown(idx, "orphan_accounts", format!(
                "no identity-provider or HR export is in the tree to compare the accounts of `{app}` with{}",
                first.map(|e| format!(" ({})", e.path)).unwrap_or_default()
            ));
            continue;
        }
        for (e, _) in &files {
            let s = j.source(e);
            if let Some(r) = j.resources.get_mut(idx) {
                r.facts_mut().import("orphan_accounts", s);
            }
        }
        // The comparison is as fresh as its oldest side: the directories and rosters too.
        for d in &directories {
            let s = j.source(d.0);
            if let Some(r) = j.resources.get_mut(idx) {
                r.facts_mut().import("orphan_accounts", s);
            }
        }
        for e in &rosters {
            let s = j.source(e);
            if let Some(r) = j.resources.get_mut(idx) {
                r.facts_mut().import("orphan_accounts", s);
            }
        }
        if let Some(r) = j.resources.get_mut(idx) {
            r.set("orphan_accounts", Value::string_set(orphans));
            for d in details {
                r.facts_mut().explain("orphan_accounts", d);
            }
        }
    }
    if identity_exports {
        for idx in j.of_type("Saas::Application") {
            let Some(r) = j.resources.get(idx) else {
                continue;
            };
            if with_export.contains(&r.address) {
                continue;
            }
            let app = r.address.trim_start_matches("application:").to_owned();
            j.set_unknown(idx, "orphan_accounts", format!(
                "no account export of `{app}` is in the tree; export its SCIM `/Users` (docs/sources.md) and declare it in vouch.toml"
            ));
        }
    }
}

/// Why an active application account is an orphan, or `None`.
fn orphan(
    a: &Account,
    directory: &HashMap<&str, Known<'_>>,
    have_directory: bool,
    roster: &HashMap<String, (Employee, Arc<ExportFile>)>,
    have_roster: bool,
    as_of: i64,
) -> Option<String> {
    let known = a.emails.iter().find_map(|e| directory.get(e.as_str()));
    match known {
        Some(k) if k.status != AccountStatus::Active => {
            return Some(format!(
                "{} in the identity provider ({})",
                k.status.as_str(),
                k.export.at(k.account.offset)
            ));
        }
        None if have_directory => {
            return Some("has no account in the identity provider".to_owned());
        }
        _ => {}
    }
    if have_roster {
        match a.emails.iter().find_map(|e| roster.get(e)) {
            Some((p, e))
                if p.status == "terminated" || p.termination.is_some_and(|t| t <= as_of) =>
            {
                let when = p
                    .termination
                    .map(|t| format!(" on {}", crate::dates::format_days(t)))
                    .unwrap_or_default();
                return Some(format!(
                    "left the company{when} per the HR roster ({}:{})",
                    e.path, p.line
                ));
            }
            None => return Some("is not in the HR roster".to_owned()),
            _ => {}
        }
    }
    None
}

/// The identity provider a directory format belongs to: the one whose id names the vendor,
/// else the only one declared.
fn match_idp(idps: &[String], format: Format) -> Option<String> {
    let words = vendor(format);
    idps.iter()
        .find(|id| words.iter().any(|w| id.to_ascii_lowercase().contains(w)))
        .cloned()
        .or_else(|| (idps.len() == 1).then(|| idps[0].clone()))
}

/// Imports status, last sign-in and MFA onto the inventory's users.
fn overlay_users(
    j: &mut Join<'_>,
    directory: &HashMap<&str, Known<'_>>,
    factor_of: &dyn Fn(Format, &Account) -> Option<Factor>,
    idp_by_path: &HashMap<&str, String>,
) {
    if directory.is_empty() {
        return;
    }
    let emails = j.user_emails.clone();
    let mut holder_status: HashMap<String, (String, &ExportFile, usize)> = HashMap::new();
    for idx in j.of_type("Access::User") {
        let Some(r) = j.resources.get(idx) else {
            continue;
        };
        let id = r.address.trim_start_matches("user:").to_owned();
        let email = emails.get(&id).cloned();
        let known = email
            .as_deref()
            .and_then(|e| directory.get(e))
            .or_else(|| directory.get(id.to_lowercase().as_str()));
        let Some(k) = known else { continue };
        let (e, a) = (k.export, k.account);
        let idp_address = idp_by_path.get(e.path.as_str()).cloned();
        let before = j.resources.get(idx).map(|r| {
            r.facts
                .as_ref()
                .map_or(0, |f| f.details.get("contradictions").map_or(0, Vec::len))
        });
        j.import(
            idx,
            "status",
            Value::str(k.status.as_str()),
            e,
            a.offset,
            k.status.as_str(),
        );
        holder_status.insert(id.clone(), (k.status.as_str().to_owned(), e, a.offset));
        if let Some(d) = a.last_login {
            let days = (j.as_of - d).max(0);
            j.import(
                idx,
                "days_since_login",
                Value::Long(days),
                e,
                a.offset,
                &crate::dates::format_days(d),
            );
        }
        if let Some(f) = factor_of(e.format, a).filter(|_| k.status == AccountStatus::Active) {
            j.import(
                idx,
                "mfa",
                Value::Bool(f != Factor::None),
                e,
                a.offset,
                if f == Factor::None {
                    "no factor enrolled"
                } else {
                    "enrolled"
                },
            );
        }
        // A user's contradictions are findings of the identity provider that holds them.
        let moved: Vec<String> = j
            .resources
            .get_mut(idx)
            .and_then(|r| {
                let f = r.facts.as_mut()?;
                let n = before.unwrap_or(0);
                let list = f.details.get_mut("contradictions")?;
                Some(list.split_off(n.min(list.len())))
            })
            .unwrap_or_default();
        if let Some(r) = j.resources.get_mut(idx) {
            r.attrs.remove("contradictions");
        }
        if let Some(addr) = idp_address {
            let src = j.source(e);
            if let Some(idp) = j.get("Saas::IdentityProvider", &addr) {
                for m in moved {
                    idp.facts_mut()
                        .explain("contradictions", format!("user `{id}`: {m}"));
                    super::contradiction(idp, "users");
                }
                idp.facts_mut().import("contradictions", src);
            }
        }
    }
    // A grant's holder status follows its holder's (a contradiction is the user's, above).
    for idx in j.of_type("Access::Grant") {
        let Some(r) = j.resources.get(idx) else {
            continue;
        };
        let Some(Value::String(u)) = r.attrs.get("user") else {
            continue;
        };
        let u = u.clone();
        let Some((status, e, offset)) = holder_status.get(u.as_str()).cloned() else {
            continue;
        };
        let source = j.source(e);
        if let Some(r) = j.resources.get_mut(idx) {
            r.set("holder_status", Value::str(&status));
            r.facts_mut().import("holder_status", source);
            r.facts_mut().explain(
                "holder_status",
                format!("`{u}` is {status} per {}", e.at(offset)),
            );
        }
    }
}

/// Imports from the HR roster whether each inventory user's employment has ended (the roster
/// is the source of truth for leavers); a contradiction is recorded on the identity provider.
fn overlay_leavers(
    j: &mut Join<'_>,
    roster: &HashMap<String, (Employee, Arc<ExportFile>)>,
    idp: Option<String>,
) {
    if roster.is_empty() {
        return;
    }
    let emails = j.user_emails.clone();
    for idx in j.of_type("Access::User") {
        let Some(r) = j.resources.get(idx) else {
            continue;
        };
        let id = r.address.trim_start_matches("user:").to_owned();
        let Some((p, e)) = emails.get(&id).and_then(|m| roster.get(m)) else {
            continue;
        };
        let ended_on = p
            .termination
            .filter(|t| *t <= j.as_of)
            .or_else(|| (p.status == "terminated").then_some(p.termination.unwrap_or(j.as_of)));
        let ended = ended_on.is_some();
        let before = j
            .resources
            .get(idx)
            .and_then(|r| r.facts.as_ref())
            .and_then(|f| f.details.get("contradictions"))
            .map_or(0, Vec::len);
        let shown = ended_on.map_or_else(
            || "employed".to_owned(),
            |d| format!("left on {}", crate::dates::format_days(d)),
        );
        j.import(
            idx,
            "employment_ended",
            Value::Bool(ended),
            e,
            p.offset,
            &shown,
        );
        if ended && let Some(r) = j.resources.get_mut(idx) {
            r.facts_mut().explain(
                "employment_ended",
                format!(
                    "`{}` {shown} per the HR roster ({})",
                    p.email,
                    e.at(p.offset)
                ),
            );
        }
        j.import(
            idx,
            "days_since_employment_end",
            Value::Long(ended_on.map_or(0, |d| (j.as_of - d).max(0))),
            e,
            p.offset,
            &shown,
        );
        let moved: Vec<String> = j
            .resources
            .get_mut(idx)
            .and_then(|r| {
                r.attrs.remove("contradictions");
                let list = r.facts.as_mut()?.details.get_mut("contradictions")?;
                Some(list.split_off(before.min(list.len())))
            })
            .unwrap_or_default();
        let moved: Vec<String> = moved
            .into_iter()
            .filter(|m| m.starts_with("`employment_ended`"))
            .collect();
        if let Some(addr) = &idp
            && let Some(r) = j.get("Saas::IdentityProvider", addr)
        {
            for m in moved {
                r.facts_mut()
                    .explain("contradictions", format!("user `{id}`: {m}"));
                super::contradiction(r, "users");
            }
        }
    }
}

/// Compares the identity provider's declared MFA settings with what its users have enrolled.
fn idp_facts(
    j: &mut Join<'_>,
    directories: &[(&ExportFile, &[Account], Option<String>)],
    factor_of: &dyn Fn(Format, &Account) -> Option<Factor>,
    is_admin: &dyn Fn(Format, &Account) -> bool,
    factor_sources: &[&ExportFile],
) {
    for (e, accounts, idp) in directories {
        let Some(idp) = idp else { continue };
        let address = format!("identity_provider:{idp}");
        let Some(r) = j.get("Saas::IdentityProvider", &address) else {
            j.problems.push(
                Problem::parse(&e.path, &e.text, 0, 0,
                    format!("`{}` is the directory of identity provider `{idp}`, which no `[[identity_provider]]` declares", e.path),
                    "this export")
                .with_help("declare the identity provider in the inventory, or fix `identity_provider` in vouch.toml"),
            );
            continue;
        };
        let declared = |k: &str| match r.attrs.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let (mfa, admin_mfa) = (declared("mfa"), declared("admin_mfa"));
        let at = format!("{}:{}", r.span.file, r.span.line);
        let active: Vec<&Account> = accounts
            .iter()
            .filter(|a| a.status == AccountStatus::Active)
            .collect();
        let mut lines = Vec::new();
        let mut without: Vec<&str> = active
            .iter()
            .filter(|a| factor_of(e.format, a) == Some(Factor::None))
            .map(|a| a.login.as_str())
            .collect();
        without.sort_unstable();
        if matches!(mfa.as_str(), "required" | "phishing_resistant") && !without.is_empty() {
            lines.push(format!(
                "`mfa` is declared `{mfa}` ({at}) but {} active account(s) have no second factor enrolled per {}: {}",
                without.len(), e.path, sample(&without)
            ));
        }
        let mut weak_admins: Vec<&str> = active
            .iter()
            .filter(|a| {
                is_admin(e.format, a)
                    && factor_of(e.format, a).is_some_and(|f| f != Factor::PhishingResistant)
            })
            .map(|a| a.login.as_str())
            .collect();
        weak_admins.sort_unstable();
        if admin_mfa == "phishing_resistant" && !weak_admins.is_empty() {
            lines.push(format!(
                "`admin_mfa` is declared `phishing_resistant` ({at}) but administrator(s) without a phishing-resistant factor per {}: {}",
                e.path, sample(&weak_admins)
            ));
        }
        let mut sources = vec![j.source(e)];
        sources.extend(factor_sources.iter().map(|f| j.source(f)));
        let Some(r) = j.get("Saas::IdentityProvider", &address) else {
            continue;
        };
        for s in sources {
            r.facts_mut().import("contradictions", s);
        }
        for l in lines {
            r.facts_mut().explain("contradictions", l);
            super::contradiction(r, "mfa");
        }
    }
}

/// Up to five names, then a count.
fn sample(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    if names.len() > 5 {
        format!("{} and {} more", shown.join(", "), names.len() - 5)
    } else {
        shown.join(", ")
    }
}
