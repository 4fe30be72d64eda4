//! `Aws::SecurityGroup` (inline ingress plus the split rule resources) and `Aws::LbListener`.

use std::collections::{BTreeMap, BTreeSet};

use super::super::raw::{
    Field, Raw, RawResource, blocks, field, literal_of, number, str_of, strings_of,
};
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

/// One ingress rule, reduced to what the derived attributes need.
#[derive(Debug, Clone, Copy)]
struct Rule {
    world: bool,
    /// Port range, `None` for a protocol without ports (ICMP).
    ports: Option<(i64, i64)>,
}

/// The CIDRs open to everyone.
fn is_world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// Reads one rule from its protocol, port and CIDR attributes.
fn rule(a: &BTreeMap<String, Raw>, protocol_key: &str, cidr_keys: &[&str]) -> Result<Rule, String> {
    let mut world = false;
    for k in cidr_keys {
        // A reference (`aws_vpc.main.cidr_block`) names a specific network, not the world.
        world |= strings_of(field(a, &[k]))?.iter().any(|c| is_world(c));
    }
    let protocol = literal_of(field(a, &[protocol_key]))?
        .unwrap_or_else(|| "-1".to_owned())
        .to_ascii_lowercase();
    let port = |k: &str| -> Result<Option<i64>, String> {
        match field(a, &[k]) {
            Field::Absent => Ok(None),
            Field::Unknown(why) => Err(why.to_owned()),
            Field::Known(v) => number(v)
                .map(Some)
                .ok_or_else(|| format!("`{k}` is not a number")),
        }
    };
    let ports = match protocol.as_str() {
        "-1" | "all" => Some((0, 65535)),
        "tcp" | "udp" | "6" | "17" | "sctp" | "132" => {
            let from = port("from_port")?.unwrap_or(0);
            let to = port("to_port")?.unwrap_or(65535);
            let (from, to) = if from == -1 { (0, 65535) } else { (from, to) };
            Some((from, to))
        }
        _ => None,
    };
    Ok(Rule { world, ports })
}

/// Normalises an `aws_security_group` with every ingress rule that targets it.
pub fn security_group(m: &Module<'_>, r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::SecurityGroup", r.address.clone(), r.span.clone());
    match rules(m, r) {
        Ok(rules) => {
            let world: Vec<(i64, i64)> = rules
                .iter()
                .filter(|r| r.world)
                .filter_map(|r| r.ports)
                .collect();
            let admin: BTreeSet<i64> = ADMIN_PORTS
                .iter()
                .copied()
                .filter(|p| world.iter().any(|(f, t)| f <= p && p <= t))
                .collect();
            out.set("world_open_admin_ports", Value::long_set(admin));
            out.set(
                "world_open_all_ports",
                Value::Bool(world.iter().any(|(f, t)| *f <= 1 && *t >= 65535)),
            );
            out.set("world_ingress", Value::Bool(rules.iter().any(|r| r.world)));
        }
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

fn rules(m: &Module<'_>, r: &RawResource) -> Result<Vec<Rule>, String> {
    let cidrs = &["cidr_blocks", "ipv6_cidr_blocks"];
    let mut out = Vec::new();
    for b in blocks(&r.attrs, "ingress")? {
        out.push(rule(b, "protocol", cidrs)?);
    }
    let names = &["id"];
    for s in m.referrers("aws_security_group_rule", "security_group_id", r, names) {
        match literal_of(field(&s.attrs, &["type"]))?.as_deref() {
            Some("ingress") => out.push(rule(&s.attrs, "protocol", cidrs)?),
            _ => continue,
        }
    }
    for s in m.referrers(
        "aws_vpc_security_group_ingress_rule",
        "security_group_id",
        r,
        names,
    ) {
        out.push(rule(&s.attrs, "ip_protocol", &["cidr_ipv4", "cidr_ipv6"])?);
    }
    Ok(out)
}

/// Normalises `aws_lb_listener` / `aws_alb_listener`. An unset protocol is the provider's
/// default, HTTP; an HTTPS or TLS listener without `ssl_policy` gets a provider-version-dependent
/// default, so its minimum TLS version is unknown.
pub fn listener(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = Resource::new("Aws::LbListener", r.address.clone(), r.span.clone());
    let protocol = str_of(field(a, &["protocol"])).unwrap_or_else(|| Value::str("HTTP"));
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
