//! The demo drive (OneDrive for Business): a root, a few folders and files, generated from the
//! seed; changes through the control API, `mutate` and the churn.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Item, Sets, next_rand};
use crate::emulator::store::{CtlError, Store};
use crate::emulator::tenant::{h3, tenant_domain};

pub const DRIVE_TYPE: &str = "business";

/// (name, parent index in this list): index 0 is the root.
const FOLDERS: &[(&str, usize)] = &[
    ("root", 0),
    ("Documents", 0),
    ("Pictures", 0),
    ("Projects", 0),
    ("Shared", 0),
    ("Contracts", 1),
    ("Phoenix", 3),
    ("Atlas", 3),
];

/// (file name, mime type)
const FILES: &[(&str, &str)] = &[
    ("Quarterly Report.docx", DOCX),
    ("Budget 2025.xlsx", XLSX),
    ("Team Offsite.pptx", PPTX),
    ("Roadmap.pptx", PPTX),
    ("Meeting Notes.docx", DOCX),
    ("Invoice 1042.pdf", "application/pdf"),
    ("Whiteboard.png", "image/png"),
    ("Launch Photo.jpg", "image/jpeg"),
    ("Org Chart.vsdx", "application/vnd.ms-visio.drawing"),
    ("Release Checklist.txt", "text/plain"),
    ("Customer List.csv", "text/csv"),
    ("Vendor Agreement.pdf", "application/pdf"),
    ("Architecture.drawio", "application/octet-stream"),
    ("Sprint Review.pptx", PPTX),
    ("Expenses March.xlsx", XLSX),
    ("Design Spec.docx", DOCX),
    ("Logo.svg", "image/svg+xml"),
    ("Demo Recording.mp4", "video/mp4"),
];
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A OneDrive for Business item id: `01` and 32 base-32 characters.
fn item_id(seed: u64, n: u64) -> String {
    let (a, b) = (h3(seed, 0xD1, n), h3(seed, 0xD2, n));
    let mut s = String::from("01");
    for i in 0..32 {
        let w = if i < 12 {
            a >> (i * 5)
        } else {
            b >> ((i - 12) * 3)
        };
        s.push(B32[(w & 31) as usize] as char);
    }
    s
}

fn base64ish(a: u64, b: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|i| {
            let w = crate::emulator::tenant::mix(a ^ b.rotate_left(i as u32) ^ i as u64);
            A[(w & 63) as usize] as char
        })
        .collect()
}

fn time(t: DateTime<Utc>) -> Value {
    json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A generated item's time: spread from mid-2023 to mid-2025 (absolute, so that the same seed
/// makes the same drive).
fn generated_time(r: u64) -> DateTime<Utc> {
    let base = DateTime::<Utc>::from_timestamp(1_685_577_600, 0).unwrap_or_default(); // 2023-06-01
    base + chrono::Duration::seconds((r % (730 * 86_400)) as i64)
}

/// Sets the eTag and cTag of an item from its position (a new version at every change).
fn tags(body: &mut Map<String, Value>, id: &str, version: u64) {
    let up = id.to_ascii_uppercase();
    body.insert("eTag".into(), json!(format!("\"{{{up}}},{version}\"")));
    body.insert("cTag".into(), json!(format!("\"c:{{{up}}},{version}\"")));
}

fn quick_xor(a: u64, b: u64) -> String {
    use base64::Engine as _;
    let mut bytes = Vec::with_capacity(20);
    bytes.extend_from_slice(&a.to_le_bytes());
    bytes.extend_from_slice(&b.to_le_bytes());
    bytes.extend_from_slice(&(a ^ b).to_le_bytes()[..4]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct NewItem<'a> {
    id: String,
    name: &'a str,
    parent: Option<(String, String)>,
    folder: bool,
    mime: &'a str,
    size: u64,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    r: u64,
}

fn body(s: &Sets, web: &str, n: &NewItem) -> Map<String, Value> {
    let mut b = Map::new();
    b.insert("id".into(), json!(n.id));
    b.insert("name".into(), json!(n.name));
    b.insert("createdDateTime".into(), time(n.created));
    b.insert("lastModifiedDateTime".into(), time(n.modified));
    b.insert(
        "fileSystemInfo".into(),
        json!({"createdDateTime": time(n.created), "lastModifiedDateTime": time(n.modified)}),
    );
    let mut parent = json!({"driveId": s.drive_id, "driveType": DRIVE_TYPE});
    let path = match &n.parent {
        None => {
            b.insert("root".into(), json!({}));
            String::new()
        }
        Some((pid, ppath)) => {
            parent["id"] = json!(pid);
            parent["path"] = json!(ppath);
            format!("{}/{}", ppath.trim_start_matches("/drive/root:"), n.name)
        }
    };
    b.insert("parentReference".into(), parent);
    b.insert("webUrl".into(), json!(format!("{web}{path}")));
    b.insert("size".into(), json!(n.size));
    if n.folder {
        b.insert("folder".into(), json!({"childCount": 0}));
    } else {
        b.insert(
            "file".into(),
            json!({"mimeType": n.mime, "hashes": {"quickXorHash": quick_xor(n.r, n.size)}}),
        );
    }
    tags(&mut b, &n.id, 1);
    b
}

/// The path (`/drive/root:/A/B`) children of item `i` get as their parentReference.path.
fn child_path(s: &Sets, i: usize) -> String {
    let it = &s.drive.items[i];
    if it.body.contains_key("root") {
        return "/drive/root:".into();
    }
    let ppath = it.body.get("parentReference").unwrap_or(&Value::Null)["path"]
        .as_str()
        .unwrap_or("/drive/root:");
    format!(
        "{ppath}/{}",
        it.body
            .get("name")
            .unwrap_or(&Value::Null)
            .as_str()
            .unwrap_or("")
    )
}

fn web_root(seed: u64, owner: &str) -> String {
    let domain = tenant_domain(seed);
    let stem = domain.split('.').next().unwrap_or("contosodemo");
    let who = owner.replace(['@', '.'], "_");
    format!("https://{stem}-my.sharepoint.com/personal/{who}/Documents")
}

pub(super) fn generate(s: &mut Sets, seed: u64, _now: DateTime<Utc>, files: u64) {
    s.drive_id = format!("b!{}", base64ish(h3(seed, 0xD0, 1), h3(seed, 0xD0, 2), 64));
    s.owner = crate::emulator::tenant::user_name_upn(seed, 0);
    let web = web_root(seed, &s.owner.1);
    let mut n = 0u64;
    for (k, &(name, parent)) in FOLDERS.iter().enumerate() {
        let r = h3(seed, 0xD3, k as u64);
        let created = generated_time(r >> 20) - chrono::Duration::days(400);
        let p = (k > 0).then(|| (s.drive.items[parent].id.clone(), child_path(s, parent)));
        let item = NewItem {
            id: item_id(seed, n),
            name,
            parent: p,
            folder: true,
            mime: "",
            size: 0,
            created,
            modified: created,
            r,
        };
        push(s, &web, item, 0);
        if k > 0 {
            bump_parent(s, parent, 1, None);
        }
        n += 1;
    }
    for f in 0..files {
        let r = h3(seed, 0xD4, f);
        let (stem, mime) = FILES[(f as usize + (h3(seed, 0xD5, 0) % 7) as usize) % FILES.len()];
        let name = if f < FILES.len() as u64 {
            stem.to_string()
        } else {
            let (a, b) = stem.rsplit_once('.').unwrap_or((stem, "txt"));
            format!("{a} ({}).{b}", f / FILES.len() as u64 + 1)
        };
        let parent = ((r >> 8) % FOLDERS.len() as u64) as usize;
        let modified = generated_time(r);
        let item = NewItem {
            id: item_id(seed, n),
            name: &name,
            parent: Some((s.drive.items[parent].id.clone(), child_path(s, parent))),
            folder: false,
            mime,
            size: 2_000 + (r >> 16) % 4_000_000,
            created: modified - chrono::Duration::days(((r >> 40) % 90) as i64),
            modified,
            r,
        };
        let b = body(s, &web, &item);
        s.drive.push(Item {
            id: item.id.clone(),
            pos: 0,
            created: 0,
            at: modified,
            deleted: false,
            scope: String::new(),
            body: b,
        });
        bump_parent(s, parent, 1, None);
        n += 1;
    }
    // Folder sizes and times: the sum and the latest of what they hold (children come after
    // their parents, so going backwards adds every folder's total before its parent's).
    for i in (0..s.drive.items.len()).rev() {
        let pid = s.drive.items[i]
            .body
            .get("parentReference")
            .unwrap_or(&Value::Null)["id"]
            .as_str()
            .map(str::to_string);
        let (size, at) = (
            s.drive.items[i]
                .body
                .get("size")
                .unwrap_or(&Value::Null)
                .as_u64()
                .unwrap_or(0),
            s.drive.items[i].at,
        );
        if let Some(p) = pid.and_then(|p| s.drive.find(&p)) {
            let parent = &mut s.drive.items[p];
            let total = parent
                .body
                .get("size")
                .unwrap_or(&Value::Null)
                .as_u64()
                .unwrap_or(0)
                + size;
            parent.body.insert("size".into(), json!(total));
            if at > parent.at {
                parent.at = at;
                parent.body.insert("lastModifiedDateTime".into(), time(at));
            }
        }
    }
}

fn push(s: &mut Sets, web: &str, item: NewItem, pos: u64) -> usize {
    let b = body(s, web, &item);
    s.drive.push(Item {
        id: item.id,
        pos,
        created: pos,
        at: item.modified,
        deleted: false,
        scope: String::new(),
        body: b,
    })
}

/// Changes a folder's childCount by `delta`; with `at`, also its version and time (a change
/// the next delta round returns).
fn bump_parent(s: &mut Sets, parent: usize, delta: i64, at: Option<(u64, DateTime<Utc>)>) {
    let Some(it) = s.drive.items.get_mut(parent) else {
        return;
    };
    let count = it.body.get("folder").unwrap_or(&Value::Null)["childCount"]
        .as_i64()
        .unwrap_or(0)
        + delta;
    it.body
        .insert("folder".into(), json!({"childCount": count.max(0)}));
    if let Some((pos, now)) = at {
        touch(it, pos, now);
    }
}

fn touch(it: &mut Item, pos: u64, now: DateTime<Utc>) {
    it.pos = pos;
    it.at = now;
    it.body.insert("lastModifiedDateTime".into(), time(now));
    if let Some(fs) = it
        .body
        .get_mut("fileSystemInfo")
        .and_then(Value::as_object_mut)
    {
        fs.insert("lastModifiedDateTime".into(), time(now));
    }
    let id = it.id.clone();
    tags(&mut it.body, &id, pos + 1);
}

fn parent_of(s: &Sets, i: usize) -> Option<usize> {
    s.drive.items[i]
        .body
        .get("parentReference")
        .unwrap_or(&Value::Null)["id"]
        .as_str()
        .and_then(|p| s.drive.find(p))
}

/// Creates a file (or, `"folder": true`, a folder) named `"name"` in folder `"parent"` (default:
/// the root) → the item.
pub fn create_drive_item(
    store: &mut Store,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let folder = body.get("folder").and_then(Value::as_bool).unwrap_or(false);
    let parent = match body.get("parent").and_then(Value::as_str) {
        None => 0,
        Some(p) => store.sets.drive.live(p, "drive item")?,
    };
    if !store.sets.drive.items[parent].body.contains_key("folder") {
        return Err(CtlError::BadRequest("the parent is not a folder".into()));
    }
    let n = store.sets.drive.items.len() as u64;
    let r = next_rand(&mut store.sets.rng);
    let name = match body.get("name") {
        None => format!("New Document {n}.docx"),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 255 => s.clone(),
        Some(_) => {
            return Err(CtlError::BadRequest(
                "\"name\" must be a non-empty string of at most 255 characters".into(),
            ));
        }
    };
    let size = body
        .get("size")
        .and_then(Value::as_u64)
        .unwrap_or(if folder { 0 } else { 1_000 + r % 100_000 });
    let new_id = item_id(store.seed, n);
    let pos = store.log_item(now);
    let s = &mut store.sets;
    let web = s.drive.items[0]
        .body
        .get("webUrl")
        .unwrap_or(&Value::Null)
        .as_str()
        .unwrap_or("")
        .to_string();
    let item = NewItem {
        id: new_id,
        name: &name,
        parent: Some((s.drive.items[parent].id.clone(), child_path(s, parent))),
        folder,
        mime: if name.ends_with(".docx") {
            DOCX
        } else {
            "application/octet-stream"
        },
        size,
        created: now,
        modified: now,
        r,
    };
    let i = push(s, &web, item, pos);
    let ppos = store.log_item(now);
    bump_parent(&mut store.sets, parent, 1, Some((ppos, now)));
    Ok(Value::Object(store.sets.drive.items[i].body.clone()))
}

/// Renames an item (`"name"`) or changes a file's content (`"size"`) → the item.
pub fn update_drive_item(
    store: &mut Store,
    id: &str,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.drive.live(id, "drive item")?;
    if i == 0 {
        return Err(CtlError::BadRequest("the root cannot be changed".into()));
    }
    let name = match body.get("name") {
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 255 => Some(s.clone()),
        Some(_) => {
            return Err(CtlError::BadRequest(
                "\"name\" must be a non-empty string".into(),
            ));
        }
    };
    let size = body.get("size").and_then(Value::as_u64);
    if name.is_none() && size.is_none() {
        return Err(CtlError::BadRequest(
            "give {\"name\": ...} and/or {\"size\": n}".into(),
        ));
    }
    let r = next_rand(&mut store.sets.rng);
    let pos = store.log_item(now);
    let it = &mut store.sets.drive.items[i];
    if let Some(n) = name {
        it.body.insert("name".into(), json!(n));
    }
    if let (Some(sz), Some(file)) = (size, it.body.get_mut("file").and_then(Value::as_object_mut)) {
        file.insert("hashes".into(), json!({"quickXorHash": quick_xor(r, sz)}));
        it.body.insert("size".into(), json!(sz));
    }
    touch(it, pos, now);
    Ok(Value::Object(it.body.clone()))
}

/// Deletes an item and, for a folder, everything under it → `{"id", "deleted": n}`.
pub fn delete_drive_item(
    store: &mut Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Value, CtlError> {
    let i = store.sets.drive.live(id, "drive item")?;
    if i == 0 {
        return Err(CtlError::BadRequest("the root cannot be deleted".into()));
    }
    let parent = parent_of(&store.sets, i);
    // Children come after their parents in the list: one pass finds every descendant.
    let mut gone = vec![i];
    let mut ids: Vec<String> = vec![store.sets.drive.items[i].id.clone()];
    for k in i + 1..store.sets.drive.items.len() {
        let it = &store.sets.drive.items[k];
        if !it.deleted
            && it.body.get("parentReference").unwrap_or(&Value::Null)["id"]
                .as_str()
                .is_some_and(|p| ids.iter().any(|d| d == p))
        {
            gone.push(k);
            ids.push(it.id.clone());
        }
    }
    for &k in &gone {
        let pos = store.log_item(now);
        let it = &mut store.sets.drive.items[k];
        it.deleted = true;
        it.pos = pos;
        it.at = now;
    }
    if let Some(p) = parent {
        let ppos = store.log_item(now);
        bump_parent(&mut store.sets, p, -1, Some((ppos, now)));
    }
    Ok(json!({"id": id, "deleted": gone.len()}))
}

/// One random change: 0 updated, 1 created, 2 deleted.
pub(super) fn mutate_one(store: &mut Store, now: DateTime<Utc>) -> Option<usize> {
    let r = next_rand(&mut store.sets.rng);
    let live_files: Vec<usize> = (1..store.sets.drive.items.len())
        .filter(|&i| {
            let it = &store.sets.drive.items[i];
            !it.deleted && it.body.contains_key("file")
        })
        .collect();
    let kind = match r % 10 {
        0..=4 if !live_files.is_empty() => 0,
        5..=7 => 1,
        _ if !live_files.is_empty() => 2,
        _ => 1,
    };
    let pick = |r: u64| {
        live_files
            .get((r as usize) % live_files.len().max(1))
            .copied()
    };
    let id = |store: &Store, i: usize| store.sets.drive.items[i].id.clone();
    let ok = match kind {
        0 => {
            let i = pick(r >> 8)?;
            let mut b = Map::new();
            b.insert("size".into(), json!(1_000 + (r >> 16) % 5_000_000));
            update_drive_item(store, &id(store, i), &b, now).is_ok()
        }
        1 => {
            let folders: Vec<usize> = (0..store.sets.drive.items.len())
                .filter(|&i| {
                    let it = &store.sets.drive.items[i];
                    !it.deleted && it.body.contains_key("folder")
                })
                .collect();
            let f = folders[(r >> 8) as usize % folders.len().max(1)];
            let (stem, _) = FILES[(r >> 20) as usize % FILES.len()];
            let mut b = Map::new();
            let (a, ext) = stem.rsplit_once('.').unwrap_or((stem, "txt"));
            b.insert(
                "name".into(),
                json!(format!("{a} {}.{ext}", (r >> 32) % 10_000)),
            );
            b.insert("parent".into(), json!(id(store, f)));
            create_drive_item(store, &b, now).is_ok()
        }
        _ => {
            let i = pick(r >> 8)?;
            delete_drive_item(store, &id(store, i), now).is_ok()
        }
    };
    ok.then_some(kind)
}
