//! The deterministic demo tenant: every generated object is a pure function of (seed, index),
//! so a million contacts cost nothing until a page asks for them. Ids are GUIDs whose last
//! group encodes the index (masked), so an id maps back to its index without a table.
use std::fmt::Write as _;
use std::io::Write as _;

use super::json::{write_props, write_str, write_value};

mod admin;
mod apps;
mod ids;
mod roles;
mod schema;
use admin::{group_admin, write_empty};
pub(crate) use apps::app_update;
pub use apps::{application_values, device_values, service_principal_values, user_name_upn};
pub use ids::*;
pub(crate) use roles::{ROLE_TEMPLATES, role_update};
pub use roles::{administrative_unit_values, directory_role_values, grant_values};
pub use schema::*;

pub(crate) const GIVEN: &[&str] = &[
    "Adele", "Alex", "Amelia", "Ana", "Arjun", "Aiko", "Ben", "Bianca", "Carlos", "Chen", "Chloe",
    "Daniel", "Diego", "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hiroshi", "Ines",
    "Isaac", "Jana", "Javier", "Johanna", "Kenji", "Lars", "Laura", "Lea", "Lucas", "Lidia",
    "Mateo", "Maya", "Megan", "Miguel", "Nadia", "Nestor", "Noah", "Olga", "Omar", "Patti",
    "Pradeep", "Priya", "Rafael", "Sakura", "Samir", "Sofia", "Tomas", "Yuki", "Zoe",
];
pub(crate) const SURNAME: &[&str] = &[
    "Anderson", "Bauer", "Brown", "Castillo", "Chen", "Costa", "Dubois", "Eriksson", "Fischer",
    "Garcia", "Gupta", "Hansen", "Ito", "Jensen", "Kim", "Kowalski", "Larsen", "Lee", "Lopez",
    "Martin", "Moreau", "Müller", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Perez",
    "Rossi", "Sato", "Schmidt", "Silva", "Smith", "Suzuki", "Tanaka", "Torres", "Vargas", "Wagner",
    "Wang", "Williams", "Yamamoto", "Zhang",
];
const COMPANIES: &[(&str, &str)] = &[
    ("Contoso Ltd", "contoso.com"),
    ("Fabrikam Inc", "fabrikam.com"),
    ("Northwind Traders", "northwindtraders.com"),
    ("Adventure Works", "adventure-works.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Wide World Importers", "wideworldimporters.com"),
    ("Litware Inc", "litwareinc.com"),
    ("Proseware Inc", "proseware.com"),
    ("Woodgrove Bank", "woodgrovebank.com"),
    ("Alpine Ski House", "alpineskihouse.com"),
    ("Coho Winery", "cohowinery.com"),
    ("Trey Research", "treyresearch.net"),
    ("Margie's Travel", "margiestravel.com"),
    ("Lucerne Publishing", "lucernepublishing.com"),
    ("Graphic Design Institute", "graphicdesigninstitute.com"),
    ("Humongous Insurance", "humongousinsurance.com"),
];
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "Engineering",
    "Operations",
    "Human Resources",
    "Procurement",
    "Customer Success",
    "Research",
    "IT",
    "Logistics",
];
const TITLES: &[&str] = &[
    "Account Manager",
    "Sales Director",
    "Marketing Specialist",
    "Financial Analyst",
    "Corporate Counsel",
    "Software Engineer",
    "Operations Manager",
    "HR Generalist",
    "Buyer",
    "Customer Success Manager",
    "Research Scientist",
    "IT Administrator",
    "Logistics Coordinator",
    "Chief Executive Officer",
    "Product Manager",
    "Consultant",
];
/// (city, countryOrRegion, state, postal code prefix, street)
const CITIES: &[(&str, &str, &str, &str, &str)] = &[
    ("Redmond", "United States", "WA", "980", "Microsoft Way"),
    ("Seattle", "United States", "WA", "981", "Pine Street"),
    ("New York", "United States", "NY", "100", "Broadway"),
    ("Paris", "France", "Île-de-France", "750", "Rue de Rivoli"),
    (
        "Lyon",
        "France",
        "Auvergne-Rhône-Alpes",
        "690",
        "Rue de la République",
    ),
    ("Tokyo", "Japan", "Tokyo", "100", "Chiyoda"),
    ("Osaka", "Japan", "Osaka", "530", "Umeda"),
    ("Berlin", "Germany", "Berlin", "101", "Friedrichstraße"),
    ("Munich", "Germany", "Bavaria", "803", "Leopoldstraße"),
    ("London", "United Kingdom", "England", "EC1", "Old Street"),
    ("Madrid", "Spain", "Madrid", "280", "Gran Vía"),
    ("São Paulo", "Brazil", "SP", "013", "Avenida Paulista"),
    ("Toronto", "Canada", "ON", "M5H", "King Street West"),
    ("Sydney", "Australia", "NSW", "200", "George Street"),
    ("Bangalore", "India", "Karnataka", "560", "MG Road"),
    ("Amsterdam", "Netherlands", "North Holland", "101", "Damrak"),
];
const LANGS: &[&str] = &["en-US", "fr-FR", "ja-JP", "de-DE", "es-ES", "pt-BR"];

/// Lower-case ASCII form of a name for mail addresses.
fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ü' | 'Ü' => 'u',
            'é' | 'É' => 'e',
            'ã' => 'a',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

pub(crate) fn pick<T: Copy>(list: &[T], r: u64) -> T {
    list[(r % list.len() as u64) as usize]
}

const M48: u64 = 0xffff_ffff_ffff;

pub fn tenant_domain(seed: u64) -> String {
    let (_, domain) = pick(COMPANIES, h3(seed, 0xD0, 0));
    let stem = domain.split('.').next().unwrap_or("contoso");
    format!("{stem}demo.onmicrosoft.com")
}

/// The choices that make up a generated contact.
struct ContactGen {
    index: u64,
    given: &'static str,
    surname: &'static str,
    company: (&'static str, &'static str),
    department: Option<&'static str>,
    title: Option<&'static str>,
    city: (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
    r: u64,
    synced: bool,
}

impl ContactGen {
    fn new(seed: u64, index: u64) -> Self {
        let r = h3(seed, 0xC0, index);
        let r2 = mix(r);
        ContactGen {
            index,
            given: pick(GIVEN, r),
            surname: pick(SURNAME, r >> 8),
            company: pick(COMPANIES, r >> 16),
            department: (!r2.is_multiple_of(10)).then(|| pick(DEPARTMENTS, r >> 24)),
            title: (!r2.is_multiple_of(13)).then(|| pick(TITLES, r >> 32)),
            city: pick(CITIES, r >> 40),
            r: r2,
            synced: (r2 >> 8) % 10 < 3,
        }
    }

    fn nickname(&self) -> String {
        format!(
            "{}.{}{}",
            ascii_lower(self.given),
            ascii_lower(self.surname),
            self.index
        )
    }

    /// Writes the value of property `prop` (index into the orgContact schema); false when it has none.
    fn write(&self, prop: usize, out: &mut Vec<u8>) -> bool {
        let name = Coll::Contacts
            .schema()
            .props
            .get(prop)
            .copied()
            .unwrap_or("");
        match name {
            "addresses" => {
                let (city, country, state, postal, street) = self.city;
                let _ = write!(out, "[{{\"city\":");
                write_str(out, city);
                out.extend_from_slice(b",\"countryOrRegion\":");
                write_str(out, country);
                let _ = write!(
                    out,
                    ",\"officeLocation\":\"Building {}\",\"postalCode\":\"{}{:02}\",\"state\":",
                    (self.r >> 12) % 40 + 1,
                    postal,
                    (self.r >> 20) % 100
                );
                write_str(out, state);
                out.extend_from_slice(b",\"street\":");
                let mut s = String::new();
                let _ = write!(s, "{} {}", (self.r >> 28) % 900 + 1, street);
                write_str(out, &s);
                out.extend_from_slice(b"}]");
            }
            "companyName" => write_str(out, self.company.0),
            "department" => match self.department {
                Some(d) => write_str(out, d),
                None => return false,
            },
            "displayName" => {
                let s = format!("{} {}", self.given, self.surname);
                write_str(out, &s);
            }
            "givenName" => write_str(out, self.given),
            "jobTitle" => match self.title {
                Some(t) => write_str(out, t),
                None => return false,
            },
            "mail" => {
                let s = format!("{}@{}", self.nickname(), self.company.1);
                write_str(out, &s);
            }
            "mailNickname" => write_str(out, &self.nickname()),
            "onPremisesLastSyncDateTime" => {
                if !self.synced {
                    return false;
                }
                let _ = write!(
                    out,
                    "\"2024-{:02}-{:02}T{:02}:{:02}:{:02}Z\"",
                    (self.r >> 33) % 12 + 1,
                    (self.r >> 37) % 28 + 1,
                    (self.r >> 42) % 24,
                    (self.r >> 47) % 60,
                    (self.r >> 53) % 60
                );
            }
            "onPremisesProvisioningErrors" | "serviceProvisioningErrors" => {
                out.extend_from_slice(b"[]")
            }
            "onPremisesSyncEnabled" => {
                if !self.synced {
                    return false;
                }
                out.extend_from_slice(b"true");
            }
            "phones" => {
                let _ = write!(
                    out,
                    "[{{\"type\":\"business\",\"number\":\"+1 425 555 {:04}\"}}",
                    self.r % 10000
                );
                if self.r.is_multiple_of(3) {
                    let _ = write!(
                        out,
                        ",{{\"type\":\"mobile\",\"number\":\"+1 206 555 {:04}\"}}",
                        (self.r >> 16) % 10000
                    );
                }
                out.push(b']');
            }
            "proxyAddresses" => {
                let nick = self.nickname();
                let s1 = format!("SMTP:{nick}@{}", self.company.1);
                let s2 = format!("smtp:{nick}@mail.{}", self.company.1);
                out.push(b'[');
                write_str(out, &s1);
                out.push(b',');
                write_str(out, &s2);
                out.push(b']');
            }
            "surname" => write_str(out, self.surname),
            _ => return write_empty(Coll::Contacts, prop, out),
        }
        true
    }
}

/// The choices that make up a generated user.
struct UserGen {
    index: u64,
    given: &'static str,
    surname: &'static str,
    department: &'static str,
    title: &'static str,
    city: &'static str,
    r: u64,
}

impl UserGen {
    fn new(seed: u64, index: u64) -> Self {
        let r = h3(seed, 0x05, index);
        UserGen {
            index,
            given: pick(GIVEN, r >> 3),
            surname: pick(SURNAME, r >> 11),
            department: pick(DEPARTMENTS, r >> 19),
            title: pick(TITLES, r >> 27),
            city: pick(CITIES, r >> 35).0,
            r: mix(r),
        }
    }

    fn upn(&self, seed: u64) -> String {
        format!(
            "{}.{}{}@{}",
            ascii_lower(self.given),
            ascii_lower(self.surname),
            self.index,
            tenant_domain(seed)
        )
    }

    fn write(&self, seed: u64, prop: usize, out: &mut Vec<u8>) -> bool {
        let name = Coll::Users.schema().props.get(prop).copied().unwrap_or("");
        match name {
            "accountEnabled" => out.extend_from_slice(if self.r.is_multiple_of(20) {
                b"false"
            } else {
                b"true"
            }),
            "businessPhones" => {
                let _ = write!(out, "[\"+1 425 555 {:04}\"]", self.r % 10000);
            }
            "department" => write_str(out, self.department),
            "displayName" => write_str(out, &format!("{} {}", self.given, self.surname)),
            "givenName" => write_str(out, self.given),
            "jobTitle" => write_str(out, self.title),
            "mail" | "userPrincipalName" => write_str(out, &self.upn(seed)),
            "mobilePhone" => {
                if self.r.is_multiple_of(4) {
                    return false;
                }
                let _ = write!(out, "\"+1 206 555 {:04}\"", (self.r >> 16) % 10000);
            }
            "officeLocation" => {
                write_str(out, &format!("{} {}", self.city, (self.r >> 24) % 40 + 1))
            }
            "preferredLanguage" => write_str(out, pick(LANGS, self.r >> 30)),
            "surname" => write_str(out, self.surname),
            _ => return self.write_admin(seed, name, out) || write_empty(Coll::Users, prop, out),
        }
        true
    }
}

/// (displayName, Microsoft 365 group?) of the generated groups after "All Company".
const GROUP_NAMES: &[(&str, bool)] = &[
    ("Sales Team", true),
    ("Engineering", true),
    ("IT Admins", false),
    ("Marketing", true),
    ("Finance", false),
    ("Project Phoenix", true),
    ("VPN Users", false),
    ("Legal", true),
    ("Leadership", false),
    ("Customer Success", true),
    ("Seattle Office", false),
    ("Product Launch", true),
    ("Helpdesk", false),
    ("Research Lab", true),
    ("Contractors", false),
    ("Design Review", true),
];

/// Share of the users (per mille) a generated group holds; group 0 holds everyone.
const GROUP_RATES: &[u64] = &[600, 40, 150, 300, 80, 20, 0, 250, 10, 120, 60, 400];

/// The generated values of group `index` (aligned with the group schema; Null = no value, `[]`
/// for collections).
pub fn group_values(seed: u64, index: u64) -> Vec<serde_json::Value> {
    use serde_json::{Value, json};
    let r = h3(seed, 0x60, index);
    let r2 = mix(r);
    let (name, unified) = if index == 0 {
        ("All Company".to_string(), true)
    } else {
        let k = index - 1;
        let off = h3(seed, 0x61, 0) % GROUP_NAMES.len() as u64;
        let (n, u) = GROUP_NAMES[((k + off) % GROUP_NAMES.len() as u64) as usize];
        let round = k / GROUP_NAMES.len() as u64;
        let name = if round == 0 {
            n.to_string()
        } else {
            format!("{n} {}", round + 1)
        };
        (name, u)
    };
    let nick: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let domain = tenant_domain(seed);
    let stem = domain
        .split('.')
        .next()
        .unwrap_or("contosodemo")
        .to_string();
    let created = format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        19 + r % 6,
        (r >> 8) % 12 + 1,
        (r >> 12) % 28 + 1,
        (r >> 17) % 24,
        (r >> 22) % 60,
        (r >> 28) % 60
    );
    let synced = !unified && r2.is_multiple_of(3);
    let sid = |a: u64, b: u64| {
        format!(
            "S-1-12-1-{}-{}-{}-{}",
            a & 0xffff_ffff,
            a >> 32,
            b & 0xffff_ffff,
            b >> 32
        )
    };
    let schema = Coll::Groups.schema();
    let mut v: Vec<Value> = (0..schema.props.len())
        .map(|i| {
            if schema.is_collection(i) {
                json!([])
            } else {
                Value::Null
            }
        })
        .collect();
    let mut set = |name: &str, val: Value| {
        if let Some(i) = schema.index(name) {
            v[i] = val;
        }
    };
    set(
        "classification",
        if unified && r2 % 4 == 1 {
            json!("Confidential")
        } else if unified && r2 % 4 == 2 {
            json!("General")
        } else {
            Value::Null
        },
    );
    set("createdDateTime", json!(created));
    set(
        "description",
        json!(if index == 0 {
            "Everyone in the company: announcements and company-wide conversations.".to_string()
        } else if unified {
            format!("{name}: team site, files and conversations.")
        } else {
            format!("Security group for {name}.")
        }),
    );
    set("displayName", json!(name));
    set(
        "groupTypes",
        if unified {
            json!(["Unified"])
        } else {
            json!([])
        },
    );
    if unified {
        set("mail", json!(format!("{nick}@{domain}")));
    }
    set("mailEnabled", json!(unified));
    set("mailNickname", json!(nick));
    if synced {
        set(
            "onPremisesLastSyncDateTime",
            json!(format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00Z",
                (r2 >> 8) % 12 + 1,
                (r2 >> 12) % 28 + 1,
                (r2 >> 17) % 24,
                (r2 >> 22) % 60
            )),
        );
        set(
            "onPremisesSecurityIdentifier",
            json!(format!(
                "S-1-5-21-{}-{}-{}-{}",
                (r2 >> 3) % 4_000_000_000,
                (r2 >> 7) % 4_000_000_000,
                (r2 >> 11) % 4_000_000_000,
                1000 + (r2 >> 40) % 9000
            )),
        );
        set("onPremisesSyncEnabled", json!(true));
    }
    set(
        "proxyAddresses",
        if unified {
            json!([
                format!("SMTP:{nick}@{domain}"),
                format!("smtp:{nick}@{stem}.mail.onmicrosoft.com")
            ])
        } else {
            json!([])
        },
    );
    if unified {
        set("renewedDateTime", json!(created));
    }
    set("securityEnabled", json!(!unified));
    set(
        "securityIdentifier",
        json!(sid(h3(seed, 0x62, index), h3(seed, 0x63, index))),
    );
    if unified {
        set(
            "visibility",
            json!(if r2.is_multiple_of(5) {
                "Private"
            } else {
                "Public"
            }),
        );
    }
    group_admin(seed, index, unified, synced, &mut set);
    v
}

/// The members (user indexes, sorted) of generated group `index` in a tenant of `users` users:
/// group 0 ("All Company") holds everyone, the others a varying share.
pub fn group_members(seed: u64, index: u64, users: u64) -> Vec<u64> {
    if index == 0 {
        return (0..users).collect();
    }
    let rate = GROUP_RATES[((index - 1) % GROUP_RATES.len() as u64) as usize];
    (0..users)
        .filter(|u| h3(seed, 0x6B00 + index, *u) % 1000 < rate)
        .collect()
}

/// The generated values of an object of a collection generated as a list of values (groups,
/// applications, service principals, devices); empty for the others.
fn value_list(seed: u64, coll: Coll, index: u64) -> Vec<serde_json::Value> {
    match coll {
        Coll::Groups => group_values(seed, index),
        Coll::Applications => application_values(seed, index),
        Coll::ServicePrincipals => service_principal_values(seed, index),
        Coll::Devices => device_values(seed, index),
        Coll::AdministrativeUnits => administrative_unit_values(seed, index),
        Coll::DirectoryRoles => directory_role_values(seed, index),
        Coll::Oauth2PermissionGrants => grant_values(seed, index),
        Coll::Contacts | Coll::Users => Vec::new(),
    }
}

/// Writes property `prop` of generated object `index`; false when the property has no value.
pub fn write_generated(seed: u64, coll: Coll, index: u64, prop: usize, out: &mut Vec<u8>) -> bool {
    match coll {
        Coll::Contacts => ContactGen::new(seed, index).write(prop, out),
        Coll::Users => UserGen::new(seed, index).write(seed, prop, out),
        _ => match value_list(seed, coll, index).get(prop) {
            None | Some(serde_json::Value::Null) => false,
            Some(v) => {
                write_value(out, v);
                true
            }
        },
    }
}

/// A generated object written in full: every property of `mask` (`null`, or `[]` for a
/// collection, when it has no value), `id` in its alphabetical place.
pub fn write_generated_object(seed: u64, coll: Coll, index: u64, mask: Mask, out: &mut Vec<u8>) {
    enum G {
        C(ContactGen),
        U(UserGen),
        V(Vec<serde_json::Value>),
    }
    let g = match coll {
        Coll::Contacts => G::C(ContactGen::new(seed, index)),
        Coll::Users => G::U(UserGen::new(seed, index)),
        _ => G::V(value_list(seed, coll, index)),
    };
    let id = object_id(seed, coll, index);
    let schema = coll.schema();
    write_props(
        out,
        &id,
        schema.props,
        mask,
        schema.collections,
        |i, out| match &g {
            G::C(c) => c.write(i, out),
            G::U(u) => u.write(seed, i, out),
            G::V(v) => match v.get(i) {
                None | Some(serde_json::Value::Null) => false,
                Some(v) => {
                    write_value(out, v);
                    true
                }
            },
        },
    );
}

/// The generated values of an object as JSON values (null: no value), for objects that get
/// modified and so move into the store.
pub fn generated_values(seed: u64, coll: Coll, index: u64) -> Vec<serde_json::Value> {
    if coll == Coll::Groups || coll.is_plain() {
        return value_list(seed, coll, index);
    }
    let schema = coll.schema();
    let mut buf = Vec::with_capacity(256);
    (0..schema.props.len())
        .map(|i| {
            buf.clear();
            if write_generated(seed, coll, index, i, &mut buf) {
                serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null)
            } else {
                serde_json::Value::Null
            }
        })
        .collect()
}

/// Realistic new values for a property, for mutations (`None`: set it to null).
pub(crate) fn random_value(
    coll: Coll,
    prop: &str,
    rng: &mut Rng,
    current: &[serde_json::Value],
) -> Option<serde_json::Value> {
    use serde_json::json;
    let r = rng.next_u64();
    let given = current
        .get(coll.schema().index("givenName").unwrap_or(usize::MAX))
        .and_then(|v| v.as_str())
        .unwrap_or("Alex")
        .to_string();
    Some(match prop {
        "jobTitle" => {
            if r.is_multiple_of(7) {
                return None;
            }
            json!(pick(TITLES, r >> 8))
        }
        "department" => {
            if r.is_multiple_of(9) {
                return None;
            }
            json!(pick(DEPARTMENTS, r >> 8))
        }
        "companyName" => json!(pick(COMPANIES, r >> 8).0),
        "surname" => json!(pick(SURNAME, r >> 8)),
        "displayName" => json!(format!("{} {}", given, pick(SURNAME, r >> 8))),
        "mail" => {
            let (_, domain) = pick(COMPANIES, r >> 8);
            json!(format!(
                "{}.{}@{}",
                ascii_lower(&given),
                r % 100_000,
                domain
            ))
        }
        "phones" => json!([{"type": "business", "number": format!("+1 425 555 {:04}", r % 10000)},
                           {"type": "mobile", "number": format!("+1 206 555 {:04}", (r >> 16) % 10000)}]),
        "addresses" => {
            let (city, country, state, postal, street) = pick(CITIES, r >> 8);
            json!([{"city": city, "countryOrRegion": country, "officeLocation": format!("Building {}", r % 40 + 1),
                    "postalCode": format!("{postal}{:02}", (r >> 20) % 100), "state": state,
                    "street": format!("{} {}", (r >> 28) % 900 + 1, street)}])
        }
        "officeLocation" => json!(format!("{} {}", pick(CITIES, r >> 8).0, r % 40 + 1)),
        "mobilePhone" => json!(format!("+1 206 555 {:04}", r % 10000)),
        _ => return None,
    })
}

/// A display name for a mutation-created object.
pub(crate) fn random_person(rng: &mut Rng) -> (String, String) {
    let r = rng.next_u64();
    (
        pick(GIVEN, r).to_string(),
        pick(SURNAME, r >> 8).to_string(),
    )
}

/// A deterministic 32-hex-digit string (for recording ids).
pub(crate) fn hex32(a: u64, b: u64) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{a:016x}{b:016x}");
    s
}

#[cfg(test)]
mod tests;
