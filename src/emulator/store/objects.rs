//! How the store writes objects: whole, minimal, removed, and the changes of a delta round.
use super::*;

impl Store {
    /// Writes object `idx` of `c` (which must be live) as `emit` says.
    pub fn write_object(&self, c: Coll, idx: u64, emit: Emit, out: &mut Vec<u8>) {
        let stored = self.coll(c).over.get(&idx).and_then(|e| e.vals.as_deref());
        if let (None, Emit::Full { sel }) = (stored, emit) {
            write_generated_object(self.seed, c, idx, sel, out);
            return;
        }
        let include = match emit {
            Emit::Full { sel } => sel,
            Emit::Minimal { sel, changed } => sel & changed,
        };
        let id = self.id_of(c, idx);
        let seed = self.seed;
        write_props(
            out,
            &id,
            c.schema().props,
            include,
            c.schema().collections,
            |i, out| match stored {
                Some(vals) => match vals.get(i) {
                    Some(Value::Null) | None => false,
                    Some(v) => {
                        write_value(out, v);
                        true
                    }
                },
                None => write_generated(seed, c, idx, i, out),
            },
        );
    }

    pub fn write_removed(&self, c: Coll, idx: u64, reason: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        write_str(out, &self.id_of(c, idx));
        let _ = write!(out, ",\"@removed\":{{\"reason\":\"{reason}\"}}}}");
    }

    /// The full current representation of an object, for control replies.
    pub fn object_json(&self, c: Coll, idx: u64) -> Value {
        let mut out = Vec::new();
        self.write_object(
            c,
            idx,
            Emit::Full {
                sel: c.schema().all_mask(),
            },
            &mut out,
        );
        let mut v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            let status = match self.coll(c).status(idx) {
                Status::Live => "live",
                Status::SoftDeleted => "softDeleted",
                Status::HardDeleted => "deleted",
            };
            m.insert("@emulator.status".into(), json!(status));
        }
        v
    }

    /// The objects of `c` changed in (`from`, `to`], collapsed per object, sorted by index.
    /// Updates count only when they touch a property of `sel`, manager changes only with
    /// `links` (users with `manager` selected). `ids` (sorted) restricts.
    pub fn changes(
        &mut self,
        c: Coll,
        from: u64,
        to: u64,
        sel: Mask,
        ids: &[u64],
        links: bool,
    ) -> Arc<Vec<Change>> {
        let ids_hash = ids
            .iter()
            .fold(ids.len() as u64, |h, i| super::super::tenant::mix(h ^ *i));
        let key: CacheKey = (
            (Coll::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8) << 1 | u8::from(links),
            from,
            to,
            sel,
            ids_hash,
        );
        if let Some((k, v)) = &self.cache
            && *k == key
        {
            return v.clone();
        }
        let to = to.min(self.pos());
        let from = from.min(to);
        // (changed properties, fresh, manager changed)
        let mut acc: HashMap<u64, (Mask, bool, bool)> = HashMap::new();
        for e in &self.log[from as usize..to as usize] {
            let Target::Dir(ec) = e.target else { continue };
            if ec != c || (!ids.is_empty() && ids.binary_search(&e.idx).is_err()) {
                continue;
            }
            if e.op == Op::Update && e.mask & sel == 0 {
                continue;
            }
            // Relationship changes count only where they are written (users' manager@delta);
            // groups write their own rounds, and a directoryObjects feed writes none.
            if matches!(e.op, Op::ManagerChange | Op::MemberAdd | Op::MemberRemove) && !links {
                continue;
            }
            let a = acc.entry(e.idx).or_insert((0, false, false));
            match e.op {
                Op::ManagerChange => a.2 = true,
                Op::Update => a.0 |= e.mask,
                Op::Create => a.1 = true,
                // The client was told the object was removed and may still hold a copy from
                // before: a restored object comes back whole, every selected property spelled
                // out (null when it has no value), so that nothing stale survives a merge.
                Op::Restore => {
                    a.0 = Mask::MAX;
                    a.1 = true;
                }
                _ => {}
            }
        }
        // A manager changed and changed back still counts: under the replay fault the round
        // starts before the client's position, and the client may hold the manager in between.
        let mut list: Vec<Change> = acc
            .into_iter()
            .map(|(idx, (mask, fresh, links))| Change {
                idx,
                mask,
                fresh,
                links,
            })
            .collect();
        list.sort_by_key(|ch| ch.idx);
        let list = Arc::new(list);
        self.cache = Some((key, list.clone()));
        list
    }

    /// Writes one delta-round item for `ch`.
    pub fn write_change(&self, c: Coll, ch: Change, sel: Mask, minimal: bool, out: &mut Vec<u8>) {
        match self.coll(c).status(ch.idx) {
            Status::SoftDeleted => self.write_removed(c, ch.idx, "changed", out),
            Status::HardDeleted => self.write_removed(c, ch.idx, "deleted", out),
            Status::Live => {
                // Created or restored in the range: the whole object, every selected property
                // (null or `[]` without a value, so a client holding a pre-delete copy keeps
                // nothing stale). Changed, default round: the whole object too; minimal round:
                // only the changed selected properties.
                let emit = if minimal && !ch.fresh {
                    Emit::Minimal {
                        sel,
                        changed: ch.mask,
                    }
                } else {
                    Emit::Full { sel }
                };
                self.write_object(c, ch.idx, emit, out);
            }
        }
    }
}
