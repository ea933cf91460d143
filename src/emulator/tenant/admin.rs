//! Values of the properties admins look at, beyond the ones the tenant generated first:
//! userType, createdDateTime, proxyAddresses, onPremises*, employee data, identities for users;
//! on-premises names and provisioning options for groups. Everything else is null (`[]` for
//! collections), as Graph returns a property nobody set.
use super::*;

/// A date-time in 2019-2024 from `r`.
pub(super) fn date_of(r: u64) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        19 + r % 6,
        (r >> 8) % 12 + 1,
        (r >> 12) % 28 + 1,
        (r >> 17) % 24,
        (r >> 22) % 60,
        (r >> 28) % 60
    )
}

/// [`date_of`] as JSON text.
fn date(r: u64) -> String {
    format!("\"{}\"", date_of(r))
}

/// Writes `[]` for a collection property without a value (Graph's empty collection); false
/// for the others (written as `null`).
pub(super) fn write_empty(coll: Coll, prop: usize, out: &mut Vec<u8>) -> bool {
    if coll.schema().is_collection(prop) {
        out.extend_from_slice(b"[]");
        return true;
    }
    false
}

impl UserGen {
    /// One user in 17 is an invited guest.
    fn guest(&self) -> bool {
        (self.r >> 44).is_multiple_of(17)
    }
    /// Four users in ten come from the on-premises directory.
    fn synced(&self) -> bool {
        !self.guest() && (self.r >> 48) % 10 < 4
    }
    fn nick(&self) -> String {
        format!(
            "{}.{}{}",
            ascii_lower(self.given),
            ascii_lower(self.surname),
            self.index
        )
    }

    /// The admin-relevant properties beyond the first generated ones; false: no value.
    pub(super) fn write_admin(&self, seed: u64, name: &str, out: &mut Vec<u8>) -> bool {
        let r = mix(self.r ^ 0xAD_0001);
        let city = pick(CITIES, h3(seed, 0x05, self.index) >> 35);
        let domain = tenant_domain(seed);
        let onprem = "corp.".to_string() + &domain;
        match name {
            "userType" => write_str(out, if self.guest() { "Guest" } else { "Member" }),
            "creationType" if self.guest() => write_str(out, "Invitation"),
            "externalUserState" if self.guest() => write_str(out, "Accepted"),
            "externalUserStateChangeDateTime" if self.guest() => out.extend(date(r >> 3).bytes()),
            "createdDateTime" => out.extend(date(r).bytes()),
            "lastPasswordChangeDateTime" => out.extend(date(r >> 5).bytes()),
            "mailNickname" => write_str(out, &self.nick()),
            "proxyAddresses" => {
                out.push(b'[');
                write_str(out, &format!("SMTP:{}", self.upn(seed)));
                out.push(b']');
            }
            "identities" => {
                out.extend_from_slice(b"[{\"signInType\":\"userPrincipalName\",\"issuer\":");
                write_str(out, &domain);
                out.extend_from_slice(b",\"issuerAssignedId\":");
                write_str(out, &self.upn(seed));
                out.extend_from_slice(b"}]");
            }
            "companyName" if !self.guest() => {
                let stem = domain.split('.').next().unwrap_or("");
                let company = COMPANIES
                    .iter()
                    .find(|(_, d)| stem.starts_with(d.split('.').next().unwrap_or("-")))
                    .map_or("Contoso Ltd", |c| c.0);
                write_str(out, company)
            }
            "city" => write_str(out, city.0),
            "country" => write_str(out, city.1),
            "state" => write_str(out, city.2),
            "postalCode" => write_str(out, &format!("{}{:02}", city.3, (r >> 20) % 100)),
            "streetAddress" => write_str(out, &format!("{} {}", (r >> 28) % 900 + 1, city.4)),
            "usageLocation" if city.1 == "United States" => write_str(out, "US"),
            "employeeId" if !self.guest() => {
                let _ = write!(out, "\"E{:06}\"", self.index + 1000);
            }
            "employeeType" if !self.guest() => write_str(
                out,
                if r.is_multiple_of(9) {
                    "Contractor"
                } else {
                    "Employee"
                },
            ),
            "employeeHireDate" if !self.guest() => out.extend(date(r >> 9).bytes()),
            "securityIdentifier" => {
                let (a, b) = (h3(seed, 0x5D, self.index), h3(seed, 0x5E, self.index));
                let _ = write!(
                    out,
                    "\"S-1-12-1-{}-{}-{}-{}\"",
                    a & 0xffff_ffff,
                    a >> 32,
                    b & 0xffff_ffff,
                    b >> 32
                );
            }
            "onPremisesSyncEnabled" if self.synced() => out.extend_from_slice(b"true"),
            "onPremisesLastSyncDateTime" if self.synced() => out.extend(date(r >> 13).bytes()),
            "onPremisesDomainName" if self.synced() => write_str(out, &onprem),
            "onPremisesSamAccountName" if self.synced() => {
                let sam: String = self.nick().chars().take(20).collect();
                write_str(out, &sam)
            }
            "onPremisesUserPrincipalName" if self.synced() => {
                write_str(out, &format!("{}@{onprem}", self.nick()))
            }
            "onPremisesImmutableId" if self.synced() => {
                let _ = write!(out, "\"{:016x}{:06x}==\"", r, self.index & 0xff_ffff);
            }
            "onPremisesDistinguishedName" if self.synced() => {
                let dc: Vec<String> = onprem.split('.').map(|p| format!("DC={p}")).collect();
                let dn = format!(
                    "CN={} {},OU=Users,{}",
                    self.given,
                    self.surname,
                    dc.join(",")
                );
                write_str(out, &dn)
            }
            "onPremisesSecurityIdentifier" if self.synced() => {
                let _ = write!(
                    out,
                    "\"S-1-5-21-{}-{}-{}-{}\"",
                    (r >> 3) % 4_000_000_000,
                    (r >> 7) % 4_000_000_000,
                    (r >> 11) % 4_000_000_000,
                    1000 + self.index % 100_000
                );
            }
            _ => return false,
        }
        true
    }
}

/// Sets the admin-relevant group values beyond the first generated ones.
pub(super) fn group_admin(
    seed: u64,
    index: u64,
    unified: bool,
    synced: bool,
    set: &mut impl FnMut(&str, serde_json::Value),
) {
    use serde_json::json;
    let r = h3(seed, 0x64, index);
    if unified {
        set("resourceProvisioningOptions", {
            if r.is_multiple_of(2) {
                json!(["Team"])
            } else {
                json!([])
            }
        });
    } else {
        set("isAssignableToRole", json!(r.is_multiple_of(5)));
    }
    if synced {
        let onprem = "corp.".to_string() + &tenant_domain(seed);
        set("onPremisesDomainName", json!(onprem));
        set(
            "onPremisesNetBiosName",
            json!(
                onprem
                    .split('.')
                    .nth(1)
                    .unwrap_or("CORP")
                    .to_ascii_uppercase()
            ),
        );
        set("onPremisesSamAccountName", json!(format!("grp{index:05}")));
    }
}
