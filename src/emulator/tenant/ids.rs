//! Deterministic randomness and ids: every id is a pure function of (seed, collection, index) and maps back to its index without a table.
use super::*;

pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn h3(seed: u64, a: u64, b: u64) -> u64 {
    mix(mix(seed ^ a.wrapping_mul(0xA24B_AED4_963E_E407)) ^ b.wrapping_mul(0x9FB2_1C65_1E98_DF25))
}

/// A small deterministic random generator (splitmix64).
#[derive(Clone, Debug)]
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// A GUID string from 128 random bits.
pub(crate) fn guid_from(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

const PA: u64 = 0x5DEE_CE66_D1A5;
const PB: u64 = 0x2545_F491_4F6D;

/// Inverse of an odd number modulo 2^64 (Newton's iteration).
fn inverse(a: u64) -> u64 {
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

/// A bijection on 48-bit numbers, so that consecutive indexes get unrelated-looking ids.
fn permute48(x: u64, k: u64) -> u64 {
    let mut x = (x ^ k) & M48;
    x = x.wrapping_mul(PA) & M48;
    x ^= x >> 24;
    x = x.wrapping_mul(PB) & M48;
    x ^ (x >> 24)
}

fn unpermute48(x: u64, k: u64) -> u64 {
    let mut x = x & M48;
    x ^= x >> 24;
    x = x.wrapping_mul(inverse(PB)) & M48;
    x ^= x >> 24;
    x = x.wrapping_mul(inverse(PA)) & M48;
    (x ^ k) & M48
}

/// The stable id of object `index` of a collection: a GUID, but for grants an opaque string
/// (as Graph's are).
pub fn object_id(seed: u64, coll: Coll, index: u64) -> String {
    let guid = guid_id(seed, coll, index);
    if coll == Coll::Oauth2PermissionGrants {
        return super::roles::grant_id(seed, &guid, index);
    }
    guid
}

fn guid_id(seed: u64, coll: Coll, index: u64) -> String {
    let salt = coll.salt();
    let a = h3(seed, salt, index);
    let k = h3(seed, salt, u64::MAX);
    let b = (h3(seed, salt ^ 0x77, index) << 48) | permute48(index, k);
    guid_from(a, b)
}

/// The index an id stands for, if it is one of this seed's ids for the collection.
pub fn object_index(seed: u64, coll: Coll, id: &str) -> Option<u64> {
    if coll == Coll::Oauth2PermissionGrants {
        // Opaque ids are case-sensitive.
        let id = id.trim();
        let index = guid_index(seed, coll, &super::roles::grant_guid(id)?)?;
        return (object_id(seed, coll, index) == id).then_some(index);
    }
    guid_index(seed, coll, id)
}

fn guid_index(seed: u64, coll: Coll, id: &str) -> Option<u64> {
    let id = id.trim().trim_matches(|c| c == '{' || c == '}');
    if id.len() != 36 || !id.is_ascii() {
        return None;
    }
    let last = u64::from_str_radix(id.get(24..)?, 16).ok()?;
    let index = unpermute48(last, h3(seed, coll.salt(), u64::MAX));
    (guid_id(seed, coll, index).eq_ignore_ascii_case(id)).then_some(index)
}

pub fn tenant_id(seed: u64) -> String {
    guid_from(h3(seed, 0x7E, 1), h3(seed, 0x7E, 2))
}
