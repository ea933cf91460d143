//! The page reader's tests: the scan against serde on generated and damaged pages.
use super::*;

type Head2 = (ItemId, Option<RemovedReason>);

/// Both ways of reading an item's head, on the item alone (offset 0).
fn heads(json: &str) -> (Option<Head2>, Head2) {
    let scanned = scan::item_head(json.as_bytes()).map(|h| read_head(json, 0, h).unwrap());
    let by_serde = head_by_serde(json, 0).unwrap();
    (scanned, by_serde)
}

fn id_text(json: &str, id: &ItemId) -> Option<String> {
    Item {
        id: id.clone(),
        removed: None,
        span: 0..json.len(),
        links: false,
    }
    .id(json.as_bytes())
    .map(str::to_owned)
}

#[test]
fn the_scan_finds_the_top_level_id_and_removal_like_serde() {
    let cases = [
        (r#"{"id":"a1"}"#, Some("a1"), None),
        (r#"{ "displayName" : "x" , "id" : "b2" }"#, Some("b2"), None),
        (
            r#"{"manager":{"id":"nested"},"tags":["{\"id\":\"no\"}",[1,{"id":2}]],"id":"top"}"#,
            Some("top"),
            None,
        ),
        (
            r#"{"note":"a \"quoted\" } ] brace","id":"q"}"#,
            Some("q"),
            None,
        ),
        (r#"{"id":"esc\u0041ped"}"#, Some("escAped"), None),
        (r#"{"id":"slash\/ok"}"#, Some("slash/ok"), None),
        (r#"{"id":42}"#, None, None),
        (r#"{"id":null}"#, None, None),
        (r#"{}"#, None, None),
        (
            r#"{"id":"r","@removed":{"reason":"deleted"}}"#,
            Some("r"),
            Some(RemovedReason::Deleted),
        ),
        (
            "{\n  \"@removed\" : { \"reason\" : \"changed\" },\n  \"id\" : \"p\"\n}",
            Some("p"),
            Some(RemovedReason::Changed),
        ),
        (
            r#"{"id":"o","@removed":{}}"#,
            Some("o"),
            Some(RemovedReason::Other(String::new())),
        ),
        (
            r#"{"id":"n","@removed":null,"x":-1.5e3,"y":true}"#,
            Some("n"),
            None,
        ),
        // driveItem: a `deleted` facet is the removal; null or another value is not.
        (
            r#"{"id":"f","deleted":{"state":"deleted"},"name":"a.txt"}"#,
            Some("f"),
            Some(RemovedReason::Deleted),
        ),
        (
            r#"{"deleted" : { },"id":"g"}"#,
            Some("g"),
            Some(RemovedReason::Deleted),
        ),
        (r#"{"id":"h","deleted":null}"#, Some("h"), None),
        (r#"{"id":"i","deleted":true}"#, Some("i"), None),
        (
            r#"{"id":"j","deleted":{},"@removed":{"reason":"changed"}}"#,
            Some("j"),
            Some(RemovedReason::Changed),
        ),
    ];
    for (json, id, removed) in cases {
        let (scanned, by_serde) = heads(json);
        let scanned = scanned.unwrap_or_else(|| panic!("the scan gave up on {json}"));
        assert_eq!(id_text(json, &scanned.0).as_deref(), id, "{json}");
        assert_eq!(id_text(json, &by_serde.0).as_deref(), id, "{json}");
        assert_eq!(scanned.1, removed, "{json}");
        assert_eq!(by_serde.1, removed, "{json}");
    }
}

#[test]
fn the_scan_leaves_escaped_or_repeated_keys_to_serde() {
    // "\u0069d" is "id" written with an escape.
    assert!(scan::item_head(br#"{"\u0069d":"x"}"#).is_none());
    let (_, by_serde) = heads(r#"{"\u0069d":"x"}"#);
    assert_eq!(
        id_text(r#"{"\u0069d":"x"}"#, &by_serde.0).as_deref(),
        Some("x")
    );
    assert!(scan::item_head(br#"{"id":"a","id":"b"}"#).is_none());
    let body = br#"{"value":[{"id":"a","id":"b"}],"@odata.deltaLink":"https://g/d"}"#;
    let err = parse_body("https://g/x", body).unwrap_err();
    assert!(err.to_string().contains("item #1"), "{err}");
}

#[test]
fn an_id_that_is_not_a_string_once_unescaped_is_no_id_either_way() {
    let body = br#"{"value":[{"id":"\ud800"},{"id":"ok"}],"@odata.deltaLink":"https://g/d"}"#;
    for use_scan in [true, false] {
        let parsed = parse_body_with("https://g/x", body, use_scan).unwrap();
        assert_eq!(parsed.items[0].id, ItemId::Missing);
        assert_eq!(parsed.items[1].id(body), Some("ok"));
    }
}

#[test]
fn ids_point_into_the_body_at_the_right_place() {
    let body = br#"{"value":[{"id":"first"},{"x":1,"id":"se\"cond"},{"id":"third","@removed":{"reason":"changed"}}],"@odata.nextLink":"https://g/n"}"#;
    let page = Page::parse(
        PageRequest {
            url: "https://g/x".into(),
            headers: vec![],
            kind: RequestKind::Initial,
        },
        body.to_vec(),
    )
    .unwrap();
    assert_eq!(page.item_id(0), Some("first"));
    assert!(matches!(page.items[0].id, ItemId::InBody(_)));
    assert_eq!(page.item_id(1), Some("se\"cond"));
    assert!(matches!(page.items[1].id, ItemId::Unescaped(_)));
    assert_eq!(page.item_id(2), Some("third"));
    assert_eq!(page.items[2].removed, Some(RemovedReason::Changed));
    assert_eq!(page.item_id(3), None);
    assert!(!page.items[0].links);
    let body = br#"{"value":[{"id":"g","x":{"members@delta":[]}},{"id":"h","members@delta":[{"id":"u"}]}],"@odata.nextLink":"https://g/n"}"#;
    let parsed = parse_body("https://g/x", body).unwrap();
    assert!(!parsed.items[0].links, "a nested key is not the item's");
    assert!(parsed.items[1].links);
}

fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let key = prop_oneof![
        Just("id".to_string()),
        Just("@removed".to_string()),
        Just("reason".to_string()),
        "[a-z\"\\\\{}\\[\\] ]{0,6}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        "[a-z\"\\\\{}\\[\\]é ]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A page body from generated items: compact or pretty, with a nextLink or a deltaLink,
/// maybe a context and a count.
fn page_text(items: Vec<serde_json::Value>, next: bool, extra: bool, pretty: bool) -> String {
    let mut page = serde_json::Map::new();
    if extra {
        page.insert(
            "@odata.context".into(),
            "https://g/$metadata#contacts".into(),
        );
        page.insert("@odata.count".into(), items.len().into());
    }
    page.insert("value".into(), items.into());
    let link = if next {
        "@odata.nextLink"
    } else {
        "@odata.deltaLink"
    };
    page.insert(
        link.into(),
        "https://g/v1.0/contacts/delta?$skiptoken=x%2Fy".into(),
    );
    let page = serde_json::Value::Object(page);
    if pretty {
        serde_json::to_string_pretty(&page).unwrap()
    } else {
        serde_json::to_string(&page).unwrap()
    }
}

fn item_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    (
        proptest::collection::btree_map(
            "[a-z@]{0,4}|id|@removed|deleted|members@delta",
            json_value(),
            0..6,
        ),
        proptest::option::of("[a-z0-9\\-]{1,12}"),
    )
        .prop_map(|(fields, id)| {
            let mut object: serde_json::Map<_, _> = fields.into_iter().collect();
            if let Some(id) = id {
                object.insert("id".into(), id.into());
            }
            serde_json::Value::Object(object)
        })
}

/// The body read with the scan and with serde alone: the same page, or the same error.
fn both_ways(body: &[u8]) -> (String, String) {
    let scanned = parse_body_with("https://g/x", body, true);
    let by_serde = parse_body_with("https://g/x", body, false);
    (format!("{scanned:?}"), format!("{by_serde:?}"))
}

proptest::proptest! {
    /// Any page the service could send reads the same with the one-pass scan as with serde
    /// alone, and takes the scan's way.
    #[test]
    fn a_page_reads_the_same_with_the_scan_as_with_serde(
        items in proptest::collection::vec(item_value(), 0..8),
        next in proptest::prelude::any::<bool>(),
        extra in proptest::prelude::any::<bool>(),
        pretty in proptest::prelude::any::<bool>(),
    ) {
        let body = page_text(items, next, extra, pretty);
        proptest::prop_assert!(scan::scan_page(body.as_bytes()).is_some(), "{}", body);
        // (An item's `@removed` may be generated as something else than an object: then
        // both ways say so alike.)
        let (scanned, by_serde) = both_ways(body.as_bytes());
        proptest::prop_assert_eq!(scanned, by_serde);
    }

}

proptest::proptest! {
    // Damage finds the corners of the grammar: more cases than the default 256.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

    /// A damaged page (bytes taken out, put in or changed anywhere) is never accepted by the
    /// scan unless serde accepts it too, and reads the same either way.
    #[test]
    fn a_damaged_page_is_accepted_by_the_scan_only_if_serde_agrees(
        items in proptest::collection::vec(item_value(), 0..4),
        pretty in proptest::prelude::any::<bool>(),
        edits in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), 0u8..3, proptest::sample::select(
                b"\"\\{}[],:0123456789-+eE.tfnrul \n\t\x01\x1fa/".to_vec(),
            )),
            1..4,
        ),
    ) {
        let mut body = page_text(items, true, true, pretty).into_bytes();
        for (at, op, byte) in edits {
            let i = at.index(body.len() + 1);
            match op {
                0 if i < body.len() => {
                    body.remove(i);
                }
                1 => body.insert(i, byte),
                _ if i < body.len() => body[i] = byte,
                _ => body.push(byte),
            }
        }
        // The scan reads bytes; that they are UTF-8 is checked before it runs. Serde's
        // judge is its raw read (a number too large for an f64 is still valid JSON).
        if let Ok(text) = std::str::from_utf8(&body)
            && scan::scan_page(&body).is_some()
        {
            proptest::prop_assert!(
                serde_json::from_str::<&RawValue>(text).is_ok(),
                "the scan accepted what serde refuses: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let (scanned, by_serde) = both_ways(&body);
        proptest::prop_assert_eq!(scanned, by_serde);
    }
}

proptest::proptest! {
    /// Whatever an item holds, the scan agrees with serde (or leaves the item to it).
    #[test]
    fn the_scan_agrees_with_serde_on_any_object(
        fields in proptest::collection::btree_map("[a-z@]{0,4}|id|@removed|deleted", json_value(), 0..6),
        pretty in proptest::prelude::any::<bool>(),
    ) {
        let object = serde_json::Value::Object(fields.into_iter().collect());
        let json = if pretty {
            serde_json::to_string_pretty(&object).unwrap()
        } else {
            serde_json::to_string(&object).unwrap()
        };
        let by_serde = head_by_serde(&json, 0);
        match scan::item_head(json.as_bytes()) {
            Some(head) => {
                let scanned = read_head(&json, 0, head);
                match (&scanned, &by_serde) {
                    (Ok(a), Ok(b)) => {
                        proptest::prop_assert_eq!(id_text(&json, &a.0), id_text(&json, &b.0));
                        proptest::prop_assert_eq!(&a.1, &b.1);
                    }
                    (a, b) => proptest::prop_assert_eq!(a.is_err(), b.is_err(), "{}", json),
                }
            }
            None => proptest::prop_assert!(false, "the scan gave up on {}", json),
        }
    }
}
