//! `Aws::SecurityGroup` (inline ingress plus the split rule resources) and `Aws::LbListener`.

use std::collections::{BTreeMap, BTreeSet};

use super::super::raw::{Field, Raw, RawResource, blocks, field, literal_of, number, str_of};
use super::Module;
use super::data::tls_version;
use crate::model::{Resource, Value};

/// Remote-administration and datastore ports that must never be open to the world: SSH,
/// Telnet, RPC/SMB, RDP, VNC, WinRM, SQL Server, Oracle, MySQL, PostgreSQL, MongoDB, Redis,
/// Elasticsearch/OpenSearch, Kibana, Docker, etcd, the Kubernetes API and kubelet, Memcached,
/// Cassandra and CouchDB.
pub const ADMIN_PORTS: &[i64] = &[
    22, 23, 135, 445, 1433, 1521, 2375, 2376, 2379, 3306, 3389, 5432, 5601, 5900, 5984, 5985, 5986,
    6379, 6443, 9042, 9200, 9300, 10250, 11211, 27017,
];

/// One ingress rule, reduced to what the derived attributes need. Each part is known or
/// unknown on its own, so one unknown CIDR does not hide that the rule opens only port 5432.
#[derive(Debug, Clone)]
struct Rule {
    /// Open to the whole internet: `Ok(true/false)`, or `Err(why)` when a CIDR is not known
    /// (and no known CIDR is the world).
    world: Result<bool, String>,
    /// Port range (`None` for a protocol without ports), or `Err(why)` when not known.
    ports: Result<Option<(i64, i64)>, String>,
}

/// The CIDRs open to everyone.
fn is_world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// Whether any CIDR of the rule's `cidr_keys` is the world; a reference
/// (`aws_vpc.main.cidr_block`) names a specific network, not the world.
fn world_of(a: &BTreeMap<String, Raw>, cidr_keys: &[&str]) -> Result<bool, String> {
    let mut unknown = None;
    for k in cidr_keys {
        let items: Vec<&Raw> = match a.get(*k) {
            None | Some(Raw::Null) => continue,
            Some(Raw::List(items)) => items.iter().collect(),
            Some(v) => vec![v],
        };
        for item in items {
            match item {
                Raw::String(c) if is_world(c) => return Ok(true),
                Raw::Unknown(why) => {
                    unknown.get_or_insert_with(|| {
                        format!("`{k}` comes from a value that is not known: {why}")
                    });
                }
                _ => {}
            }
        }
    }
    match unknown {
        Some(why) => Err(why),
        None => Ok(false),
    }
}

/// Reads one rule from its protocol, port and CIDR attributes.
fn rule(a: &BTreeMap<String, Raw>, protocol_key: &str, cidr_keys: &[&str]) -> Rule {
    let world = world_of(a, cidr_keys);
    let port = |k: &str| -> Result<Option<i64>, String> {
        match field(a, &[k]) {
            Field::Absent => Ok(None),
            Field::Unknown(why) => Err(format!("`{k}` is not known: {why}")),
            Field::Known(v) => number(v)
                .map(Some)
                .ok_or_else(|| format!("`{k}` is not a number")),
        }
    };
    let ports = match literal_of(field(a, &[protocol_key])) {
        Err(why) => Err(format!("`{protocol_key}` is not known: {why}")),
        Ok(p) => match p
            .unwrap_or_else(|| "-1".to_owned())
            .to_ascii_lowercase()
            .as_str()
        {
            "-1" | "all" => Ok(Some((0, 65535))),
            "tcp" | "udp" | "6" | "17" | "sctp" | "132" => {
                match (port("from_port"), port("to_port")) {
                    (Ok(from), Ok(to)) => {
                        let (from, to) = (from.unwrap_or(0), to.unwrap_or(65535));
                        Ok(Some(if from == -1 { (0, 65535) } else { (from, to) }))
                    }
                    (Err(why), _) | (_, Err(why)) => Err(why),
                }
            }
            _ => Ok(None),
        },
    };
    Rule { world, ports }
}

/// A rule whose existence is not known (an unknown `count`) is only possibly open.
fn maybe(mut r: Rule, presence: Option<&String>) -> Rule {
    if let (Some(why), Ok(true)) = (presence, &r.world) {
        r.world = Err(format!("the rule may not exist: {why}"));
    }
    r
}

/// The derived attributes of a set of ingress rules, each known or unknown on its own.
fn open_ports(out: &mut Resource, rules: &[Rule]) {
    let mut definite: Vec<(i64, i64)> = Vec::new();
    let mut possible: Vec<(Option<(i64, i64)>, String)> = Vec::new();
    let mut any_world = false;
    let mut maybe_world: Option<String> = None;
    for r in rules {
        match (&r.world, &r.ports) {
            (Ok(false), _) | (_, Ok(None)) => {
                if matches!(r.world, Ok(true)) {
                    any_world = true;
                }
            }
            (Ok(true), Ok(Some(range))) => {
                any_world = true;
                definite.push(*range);
            }
            (Ok(true), Err(why)) => {
                any_world = true;
                possible.push((None, why.clone()));
            }
            (Err(why), Ok(Some(range))) => {
                maybe_world.get_or_insert_with(|| why.clone());
                possible.push((Some(*range), why.clone()));
            }
            (Err(why), Err(_)) => {
                maybe_world.get_or_insert_with(|| why.clone());
                possible.push((None, why.clone()));
            }
        }
    }
    let covers = |(f, t): (i64, i64), p: i64| f <= p && p <= t;
    let admin: BTreeSet<i64> = ADMIN_PORTS
        .iter()
        .copied()
        .filter(|p| definite.iter().any(|r| covers(*r, *p)))
        .collect();
    let maybe_admin: Vec<(i64, &str)> = ADMIN_PORTS
        .iter()
        .copied()
        .filter(|p| !admin.contains(p))
        .filter_map(|p| {
            possible
                .iter()
                .find(|(range, _)| range.is_none_or(|r| covers(r, p)))
                .map(|(_, why)| (p, why.as_str()))
        })
        .collect();
    out.set(
        "world_open_admin_ports",
        match maybe_admin.first() {
            Some((_, why)) if admin.is_empty() => {
                let ports: Vec<String> = maybe_admin.iter().map(|(p, _)| p.to_string()).collect();
                let ports = if ports.len() > 4 {
                    format!("{} and {} more", ports[..4].join(", "), ports.len() - 4)
                } else {
                    ports.join(", ")
                };
                Value::unknown(format!(
                    "cannot tell whether port {ports} is open to the internet: {why}"
                ))
            }
            _ => Value::long_set(admin),
        },
    );
    let all = |(f, t): (i64, i64)| f <= 1 && t >= 65535;
    let maybe_all = possible
        .iter()
        .find(|(range, _)| range.is_none_or(all))
        .map(|(_, why)| why);
    out.set(
        "world_open_all_ports",
        match (definite.iter().any(|r| all(*r)), maybe_all) {
            (true, _) => Value::Bool(true),
            (false, Some(why)) => Value::unknown(format!(
                "cannot tell whether every port is open to the internet: {why}"
            )),
            (false, None) => Value::Bool(false),
        },
    );
    out.set(
        "world_ingress",
        match (any_world, maybe_world) {
            (true, _) => Value::Bool(true),
            (false, Some(why)) => Value::unknown(format!(
                "cannot tell whether the group admits traffic from the internet: {why}"
            )),
            (false, None) => Value::Bool(false),
        },
    );
}

/// Normalises an `aws_security_group` with every ingress rule that targets it.
pub fn security_group(m: &Module<'_>, r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::SecurityGroup", r.address.clone(), r.span.clone());
    match rules(m, r) {
        Ok(rules) => open_ports(&mut out, &rules),
        Err(why) => {
            for a in [
                "world_open_admin_ports",
                "world_open_all_ports",
                "world_ingress",
            ] {
                out.set(a, Value::unknown(&why));
            }
        }
    }
    out
}

/// The split rule resources that may target a security group.
const RULE_TYPES: &[&str] = &[
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
];

fn rules(m: &Module<'_>, r: &RawResource) -> Result<Vec<Rule>, String> {
    let cidrs = &["cidr_blocks", "ipv6_cidr_blocks"];
    let mut out = Vec::new();
    match blocks(&r.attrs, "ingress") {
        Ok(ingress) => out.extend(ingress.into_iter().map(|b| rule(b, "protocol", cidrs))),
        // `dynamic "ingress"` over a value not known: any rule may be there.
        Err(why) => out.push(Rule {
            world: Err(format!("the `ingress` rules are not known: {why}")),
            ports: Err(format!("the `ingress` rules are not known: {why}")),
        }),
    }
    for t in RULE_TYPES {
        for s in m.referrers(t, "security_group_id", r, &["id"]) {
            out.extend(split_rule(s));
        }
    }
    Ok(out)
}

/// A split rule resource as a rule (`None` for an egress rule).
fn split_rule(s: &RawResource) -> Option<Rule> {
    let rule = if s.rtype == "aws_vpc_security_group_ingress_rule" {
        rule(&s.attrs, "ip_protocol", &["cidr_ipv4", "cidr_ipv6"])
    } else {
        match literal_of(field(&s.attrs, &["type"])) {
            Ok(Some(t)) if t == "ingress" => {
                rule(&s.attrs, "protocol", &["cidr_blocks", "ipv6_cidr_blocks"])
            }
            Ok(_) => return None,
            Err(why) => Rule {
                world: Err(format!(
                    "whether `{}` is an ingress rule is not known: {why}",
                    s.address
                )),
                ports: Err(why),
            },
        }
    };
    Some(maybe(rule, s.presence.as_ref()))
}

/// A rule whose security group is not in the evaluated configuration (`security_group_id =
/// var.sg_id`), evaluated on its own at its own address and span.
pub fn orphan_rule(s: &RawResource) -> Option<Resource> {
    let rule = split_rule(s)?;
    let mut out = Resource::new("Aws::SecurityGroup", s.address.clone(), s.span.clone());
    out.partial = true;
    open_ports(&mut out, &[rule]);
    Some(out)
}

/// Normalises `aws_lb_listener` / `aws_alb_listener`. An unset protocol is the provider's
/// default, HTTP; an HTTPS or TLS listener without `ssl_policy` gets a provider-version-dependent
/// default, so its minimum TLS version is unknown.
pub fn listener(m: &Module<'_>, r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = Resource::new("Aws::LbListener", r.address.clone(), r.span.clone());
    let protocol = str_of(field(a, &["protocol"])).unwrap_or_else(|| default_protocol(m, r));
    let ssl_policy = str_of(field(a, &["ssl_policy"]));
    let tls = match (&protocol, &ssl_policy) {
        (Value::String(p), _) if !matches!(p.as_str(), "HTTPS" | "TLS") => None,
        (Value::String(_), Some(Value::String(policy))) => Some(elb_tls(policy).map_or_else(
            || Value::unknown(format!("`{policy}` is not a known ELB security policy")),
            Value::str,
        )),
        (Value::String(_), Some(u @ Value::Unknown(_))) => Some(u.clone()),
        (Value::String(_), _) => Some(Value::unknown(
            "`ssl_policy` is not set and its default depends on the provider version",
        )),
        (u, _) => Some(u.clone()),
    };
    out.set("protocol", protocol);
    if let Some(p) = ssl_policy {
        out.set("ssl_policy", p);
    }
    if let Some(t) = tls {
        out.set("tls_min_version", t);
    }
    out.set("redirects_to_https", redirects(a));
    out
}

/// The protocol of a listener that sets none: a gateway load balancer's listener carries
/// GENEVE (it has no protocol and no port); any other load balancer's defaults to HTTP.
fn default_protocol(m: &Module<'_>, r: &RawResource) -> Value {
    let lbs: Vec<&RawResource> = ["aws_lb", "aws_alb"]
        .iter()
        .flat_map(|t| m.of_type(t).iter().copied())
        .filter(|lb| {
            let mut keys = Vec::new();
            if let Some(v) = r.attrs.get("load_balancer_arn") {
                super::join_keys(v, &mut keys);
            }
            keys.iter().any(|k| {
                k.strip_prefix('@').is_some_and(|t| {
                    t == lb.address || t == super::super::raw::strip_index(&lb.address)
                })
            })
        })
        .collect();
    match lbs.first() {
        Some(lb) => match literal_of(field(&lb.attrs, &["load_balancer_type"])) {
            Ok(Some(t)) if t == "gateway" => Value::str("GENEVE"),
            Ok(_) => Value::str("HTTP"),
            Err(why) => Value::unknown(format!(
                "the listener sets no protocol and its load balancer's type is not known: {why}"
            )),
        },
        None if matches!(field(&r.attrs, &["port"]), Field::Absent) => Value::unknown(
            "the listener sets neither protocol nor port, as a gateway load balancer's listener \
             does, and its load balancer is not in the configuration",
        ),
        None => Value::str("HTTP"),
    }
}

fn redirects(a: &BTreeMap<String, Raw>) -> Value {
    let actions = match blocks(a, "default_action") {
        Ok(x) => x,
        Err(why) => return Value::unknown(why),
    };
    for action in actions {
        let kind = literal_of(field(action, &["type"]));
        let proto = literal_of(field(action, &["redirect", "protocol"]));
        match (kind, proto) {
            (Ok(Some(k)), Ok(Some(p))) if k == "redirect" && p == "HTTPS" => {
                return Value::Bool(true);
            }
            (Err(why), _) => return Value::unknown(why),
            (Ok(Some(k)), Err(why)) if k == "redirect" => return Value::unknown(why),
            _ => {}
        }
    }
    Value::Bool(false)
}

/// The minimum TLS version of an ELB security policy name.
fn elb_tls(policy: &str) -> Option<&'static str> {
    let rest = policy.strip_prefix("ELBSecurityPolicy-")?;
    if let Some(v) = rest
        .strip_prefix("TLS13-")
        .or_else(|| rest.strip_prefix("TLS-"))
        .or_else(|| rest.strip_prefix("FS-"))
        .and_then(tls_version)
    {
        return Some(v);
    }
    matches!(
        rest,
        "2016-08"
            | "2015-05"
            | "2015-03"
            | "2015-02"
            | "2014-10"
            | "2014-01"
            | "2011-08"
            | "FS-2018-06"
    )
    .then_some("1.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elb_policies() {
        assert_eq!(elb_tls("ELBSecurityPolicy-2016-08"), Some("1.0"));
        assert_eq!(elb_tls("ELBSecurityPolicy-TLS-1-1-2017-01"), Some("1.1"));
        assert_eq!(
            elb_tls("ELBSecurityPolicy-TLS-1-2-Ext-2018-06"),
            Some("1.2")
        );
        assert_eq!(elb_tls("ELBSecurityPolicy-FS-1-2-Res-2020-10"), Some("1.2"));
        assert_eq!(elb_tls("ELBSecurityPolicy-TLS13-1-2-2021-06"), Some("1.2"));
        assert_eq!(elb_tls("ELBSecurityPolicy-TLS13-1-3-2021-06"), Some("1.3"));
        assert_eq!(elb_tls("ELBSecurityPolicy-FS-2018-06"), Some("1.0"));
        assert_eq!(elb_tls("Custom"), None);
    }
}
