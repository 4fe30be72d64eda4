//! Which residency zones a cloud region belongs to (`eu-west-1` → `eu`, `ie`).
//!
//! A tenant's `residency` lists zones (`eu`, `us`, `uk`, …) or exact region names. A region that
//! is not in this table satisfies only a residency that names it exactly: an unknown region is
//! never assumed to be inside a zone.

/// Zones of known regions (AWS, GCP, Azure names).
const REGIONS: &[(&str, &[&str])] = &[
    // AWS
    ("us-east-1", &["us"]),
    ("us-east-2", &["us"]),
    ("us-west-1", &["us"]),
    ("us-west-2", &["us"]),
    ("ca-central-1", &["ca"]),
    ("ca-west-1", &["ca"]),
    ("eu-central-1", &["eu", "de"]),
    ("eu-central-2", &["ch", "europe"]),
    ("eu-west-1", &["eu", "ie"]),
    ("eu-west-2", &["uk", "europe"]),
    ("eu-west-3", &["eu", "fr"]),
    ("eu-north-1", &["eu", "se"]),
    ("eu-south-1", &["eu", "it"]),
    ("eu-south-2", &["eu", "es"]),
    ("ap-southeast-2", &["au"]),
    ("ap-southeast-4", &["au"]),
    ("ap-northeast-1", &["jp"]),
    ("ap-northeast-3", &["jp"]),
    ("ap-south-1", &["in"]),
    ("sa-east-1", &["br"]),
    // GCP
    ("europe-west1", &["eu", "be"]),
    ("europe-west3", &["eu", "de"]),
    ("europe-west4", &["eu", "nl"]),
    ("europe-west2", &["uk", "europe"]),
    ("us-central1", &["us"]),
    ("us-east1", &["us"]),
    // Azure
    ("westeurope", &["eu", "nl"]),
    ("northeurope", &["eu", "ie"]),
    ("germanywestcentral", &["eu", "de"]),
    ("eastus", &["us"]),
    ("westus2", &["us"]),
];

/// True when `region` satisfies a residency list (a zone or an exact region name).
pub fn region_allowed(region: &str, residency: &[String]) -> bool {
    if residency.is_empty() {
        return true;
    }
    let zones = REGIONS
        .iter()
        .find(|(r, _)| *r == region)
        .map_or(&[][..], |(_, z)| *z);
    let zone_europe = zones.contains(&"eu");
    residency.iter().any(|allowed| {
        allowed == region
            || zones.contains(&allowed.as_str())
            || (allowed == "europe" && zone_europe)
    })
}

#[cfg(test)]
mod tests {
    use super::region_allowed;

    #[test]
    fn eu_regions_satisfy_eu_and_uk_does_not() {
        let eu = vec!["eu".to_owned()];
        assert!(region_allowed("eu-central-1", &eu));
        assert!(region_allowed("europe-west1", &eu));
        assert!(!region_allowed("eu-west-2", &eu));
        assert!(!region_allowed("us-east-1", &eu));
    }

    #[test]
    fn unknown_region_only_matches_exactly() {
        assert!(!region_allowed("mars-1", &["eu".to_owned()]));
        assert!(region_allowed("mars-1", &["mars-1".to_owned()]));
    }

    #[test]
    fn no_residency_allows_anything() {
        assert!(region_allowed("us-east-1", &[]));
    }
}
